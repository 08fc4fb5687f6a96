"""The C library functions compiled code may call, found in the running process.

LLVM turns some operations into calls it expects a C library to provide: block copies and
fills (memcpy, memmove, memset) and the float operations a target has no instruction for
(fmod, and rounding or sqrt on a CPU without SSE4.1 etc.); code compiled for guard pages
also calls the signal and thread functions of its fault handler. Only the names below are
resolved; any other undefined symbol in an object is a format error, so a `.aot` file cannot
reach arbitrary C functions by name.
"""

import ctypes
import functools

from pywamr.runtime.aot_abi import GUARD_STATE_SYMBOL, INTERRUPT_STATE_SYMBOL
from pywamr.runtime.errors import AotFormatError

from . import guard_pages, interruption

_DATA_SYMBOLS = {GUARD_STATE_SYMBOL: guard_pages.STATE_ADDRESS,
                 INTERRUPT_STATE_SYMBOL: interruption.STATE_ADDRESS}

_LIBC_FUNCTIONS = {"memcpy", "memmove", "memset", "memcmp", "bcmp",
                   "__sigsetjmp", "siglongjmp", "sigaction", "pthread_self"}  # last 4: guard pages
_LIBM_FUNCTIONS = {
    name + suffix
    for name in ("ceil", "floor", "trunc", "nearbyint", "rint", "round", "roundeven", "sqrt",
                 "fabs", "copysign", "fmin", "fmax", "fmod", "fma", "ldexp")
    for suffix in ("", "f")
}
# 128-bit integer arithmetic that LLVM leaves to the compiler runtime, and the unwinder
# a trap's backtrace is read with (compiler/traps.py).
_LIBGCC_FUNCTIONS = {"__divti3", "__udivti3", "__modti3", "__umodti3", "__multi3",
                     "__muloti4", "_Unwind_Backtrace", "_Unwind_GetCFA", "_Unwind_GetIPInfo",
                     "_Unwind_GetRegionStart"}


def provides(name) -> bool:
    """Whether `name` is one of the external symbols resolve_external() knows: an object
    that defines one itself is corrupt (its calls would go to its own code instead)."""
    return name in _DATA_SYMBOLS or name in _LIBC_FUNCTIONS \
        or name in _LIBM_FUNCTIONS or name in _LIBGCC_FUNCTIONS


def resolve_external(name) -> int:
    """The address of the C function `name`, or AotFormatError naming it."""
    if name in _DATA_SYMBOLS:
        return _DATA_SYMBOLS[name]
    if name in _LIBC_FUNCTIONS:
        library = _libc()
    elif name in _LIBM_FUNCTIONS:
        library = _libm()
    elif name in _LIBGCC_FUNCTIONS:
        library = libgcc()
    else:
        raise AotFormatError(f"unknown external symbol {name!r} (the code calls a function "
                             f"this loader does not provide)")
    # dlsym itself: ctypes' getattr(library, name) makes a function object to cast, ten
    # times the cost, for each of the dozen symbols a module needs at every start-up.
    address = _dlsym(library._handle, name.encode())
    if address is None:
        raise AotFormatError(f"external symbol {name!r} is not available on this system")
    return address


@functools.cache
def _libc():
    return ctypes.CDLL(None)


_dlsym = _libc().dlsym
_dlsym.restype = ctypes.c_void_p
_dlsym.argtypes = (ctypes.c_void_p, ctypes.c_char_p)


@functools.cache
def _libm():
    try:
        return ctypes.CDLL("libm.so.6")       # glibc; asking ldconfig is much slower
    except OSError:
        from ctypes.util import find_library
        return ctypes.CDLL(find_library("m"))


@functools.cache
def libgcc():
    try:
        return ctypes.CDLL("libgcc_s.so.1")
    except OSError:
        raise AotFormatError("the code needs libgcc_s.so.1, which this system lacks") from None
