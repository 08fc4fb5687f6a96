"""Make freshly written machine code visible to instruction fetch.

x86_64 keeps its instruction cache coherent with data writes in hardware. AArch64 does not:
code written through the data cache must be cleaned to the point of unification and the
instruction cache invalidated before it runs, or a core may execute stale bytes. The loader
calls flush_icache() on every range of code it writes or patches. See docs/aarch64.md.
"""

import ctypes
import functools
import os

from pywamr.runtime.errors import AotFormatError

# The fallback cache-maintenance routine, `void flush(void* start, void* end)`, for AArch64
# systems without libgcc_s. Each word is the encoding of the instruction beside it
# (tests/test_arm64_icache.py re-assembles the text with LLVM and compares).
FLUSH_ROUTINE = (
    (0xD53B0023, "mrs x3, ctr_el0"),         # cache type register: line sizes
    (0xD3504C64, "ubfx x4, x3, #16, #4"),    # DminLine = log2(words per D-cache line)
    (0xD2800085, "mov x5, #4"),
    (0x9AC420A4, "lsl x4, x5, x4"),          # x4 = D-cache line size in bytes
    (0xD1000486, "sub x6, x4, #1"),
    (0x8A260006, "bic x6, x0, x6"),          # x6 = start rounded down to a line
    (0xD50B7B26, "1: dc cvau, x6"),          # clean the D-cache line to the point of unification
    (0x8B0400C6, "add x6, x6, x4"),
    (0xEB0100DF, "cmp x6, x1"),
    (0x54FFFFA3, "b.lo 1b"),
    (0xD5033B9F, "dsb ish"),                 # the cleaning is complete, for all cores
    (0x92400C64, "and x4, x3, #0xf"),        # IminLine = log2(words per I-cache line)
    (0x9AC420A4, "lsl x4, x5, x4"),          # x4 = I-cache line size in bytes
    (0xD1000486, "sub x6, x4, #1"),
    (0x8A260006, "bic x6, x0, x6"),
    (0xD50B7526, "2: ic ivau, x6"),          # invalidate the I-cache line, on all cores
    (0x8B0400C6, "add x6, x6, x4"),
    (0xEB0100DF, "cmp x6, x1"),
    (0x54FFFFA3, "b.lo 2b"),
    (0xD5033B9F, "dsb ish"),                 # the invalidation is complete
    (0xD5033FDF, "isb"),                     # refetch what this core has already fetched
    (0xD65F03C0, "ret"),
)

_FLUSH_FUNCTION_TYPE = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_void_p)


def flush_icache(address: int, size: int) -> None:
    """Make the `size` bytes of code at `address` safe to execute on every core."""
    flush = _host_flush_function()
    if flush is not None and size > 0:
        flush(address, address + size)


@functools.cache
def _host_flush_function():
    machine = os.uname().machine.lower()
    if machine in ("x86_64", "amd64"):
        return None
    if machine in ("aarch64", "arm64"):
        return libgcc_clear_cache() or load_flush_routine()
    raise AotFormatError(f"no instruction-cache flush for host architecture {machine!r}")


def libgcc_clear_cache():
    """GCC's `__clear_cache(start, end)` from libgcc_s.so.1 (every glibc system has it: glibc
    itself loads it for thread cancellation), or None when it cannot be found."""
    try:
        function = ctypes.CDLL("libgcc_s.so.1")["__clear_cache"]
    except (OSError, AttributeError):
        return None
    function.argtypes = (ctypes.c_void_p, ctypes.c_void_p)
    function.restype = None
    return function


def load_flush_routine():
    """FLUSH_ROUTINE mapped executable from a memfd, as a callable.

    The routine cannot flush itself before it first runs, so it is mapped the way ld.so maps
    a shared library: written into a file's pages, then mapped PROT_EXEC. Linux on AArch64
    cleans and invalidates a page the first time it is mapped executable after a write (the
    PG_dcache_clean page flag), which is what keeps every loaded library coherent.
    """
    import mmap
    code = b"".join(word.to_bytes(4, "little") for word, _ in FLUSH_ROUTINE)
    libc = ctypes.CDLL(None, use_errno=True)
    libc_mmap = libc.mmap
    libc_mmap.restype = ctypes.c_void_p
    libc_mmap.argtypes = (ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int,
                          ctypes.c_int, ctypes.c_long)
    try:
        fd = os.memfd_create("pywamr-icache-flush")
    except (AttributeError, OSError) as error:
        raise AotFormatError(f"cannot set up instruction-cache flushing: memfd_create: {error}")
    try:
        os.write(fd, code)
        address = libc_mmap(None, len(code), mmap.PROT_READ | mmap.PROT_EXEC, mmap.MAP_PRIVATE,
                            fd, 0)
    finally:
        os.close(fd)
    if address in (None, ctypes.c_void_p(-1).value):
        error = os.strerror(ctypes.get_errno())
        raise AotFormatError(f"cannot set up instruction-cache flushing: mmap: {error}")
    return _FLUSH_FUNCTION_TYPE(address)
