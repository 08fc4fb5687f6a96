"""The unwind tables of compiled code, registered with the C runtime's unwinder.

A trap's backtrace is read by libgcc's `_Unwind_Backtrace` (compiler/traps.py), which finds
the tables of shared libraries by itself but must be told of code mapped by hand, as a JIT
compiler tells it: `__register_frame` with the start of the image's .eh_frame section,
which the compiler ends with a zero word, and `__deregister_frame` before the code is
unmapped, so that the unwinder never reads tables that are gone.
"""

import ctypes
import weakref

from .externals import libgcc


def register(image):
    """Register `image`'s unwind tables, if it has any, for as long as it is mapped."""
    address = image.unwind_tables
    if address is None:
        return
    library = libgcc()
    library.__register_frame(ctypes.c_void_p(address))
    # The finalizer holds the mapping, which is unmapped only once the tables are out.
    weakref.finalize(image, _deregister, library, address, image.mapping)


def _deregister(library, address, mapping):
    library.__deregister_frame(ctypes.c_void_p(address))
