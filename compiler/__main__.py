"""`python -m pywamr.compiler` is `pyaotc`."""

import sys

try:
    from .cli import main
except ImportError as exc:
    if exc.name != "typer":
        raise
    print("pyaotc: error: pyaotc's command line needs typer: pip install 'pywamr[compiler]'",
          file=sys.stderr)
    sys.exit(1)

sys.exit(main())
