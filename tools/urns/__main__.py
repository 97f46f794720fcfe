"""`python -m tools.urns`: the pinned URNs' command line (tools/urns/cli.py)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # `python tools/urns` from anywhere

from tools.urns.cli import main

sys.exit(main())
