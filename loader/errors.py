"""Errors raised only by the loader (the shared ones live in pywamr.runtime.errors)."""

from pywamr.runtime.errors import AotFormatError


class RelocationError(AotFormatError):
    """A relocation cannot be applied: unknown type, or its value does not fit the field."""
