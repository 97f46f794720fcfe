"""`python -m tools.plan`: the offline plan's command line (tools/plan/cli.py)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # `python tools/plan` from anywhere

from tools.plan.cli import main

sys.exit(main())
