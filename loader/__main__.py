"""`python -m pywamr.loader` = pyiwasm."""

from pywamr.loader.cli import command

command()
