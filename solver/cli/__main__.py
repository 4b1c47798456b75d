"""`python -m solver.cli`."""

import sys

from solver.cli.main import main

sys.exit(main())
