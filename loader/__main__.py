"""`python -m pywamr.loader` = pyiwasm."""

import sys

from pywamr.loader.cli import main

sys.exit(main())
