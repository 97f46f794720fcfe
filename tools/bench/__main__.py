"""`python -m tools.bench`: see the package's docstring."""

from tools.bench.cli import main

raise SystemExit(main())
