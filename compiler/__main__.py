"""`python -m pywamr.compiler` is `pyaotc`."""

import sys

from .cli import main

sys.exit(main())
