"""`python -m pal_core.cli ...` (what `accelerate launch -m pal_core.cli` runs)."""

import sys

from pal_core.cli.app import main

sys.exit(main())
