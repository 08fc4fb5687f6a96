"""Instruction-cache flushing (loader/icache.py).

qemu-user keeps its translated code coherent by itself and treats the cache-maintenance
instructions as no-ops, so these tests cannot show that a flush is needed; they show that both
ways of flushing run at user level on AArch64 (libgcc's __clear_cache and the hand-assembled
routine), that code rewritten in place and flushed runs its new bytes, and that the routine's
words are the encodings of its instructions.
"""

import platform
import subprocess

import lief
import pytest

from arm64_qemu import run_arm64_python
from pywamr.loader import icache

REWRITE_AND_RUN = r"""
import ctypes, mmap, struct, sys
from pywamr.loader import icache

flush = {"libgcc": icache.libgcc_clear_cache, "routine": icache.load_flush_routine}[sys.argv[1]]()
assert flush is not None, "no __clear_cache in libgcc_s.so.1"
libc = ctypes.CDLL(None)
libc.mprotect.argtypes = (ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int)
page = mmap.mmap(-1, 2 * mmap.PAGESIZE, prot=mmap.PROT_READ | mmap.PROT_WRITE)
address = ctypes.addressof(ctypes.c_char.from_buffer(page))
function = ctypes.CFUNCTYPE(ctypes.c_int)(address + mmap.PAGESIZE - 4)  # straddles two pages
for value in (7, 1234, 99):
    libc.mprotect(address, 2 * mmap.PAGESIZE, mmap.PROT_READ | mmap.PROT_WRITE)
    page[mmap.PAGESIZE - 4:mmap.PAGESIZE + 4] = struct.pack("<II", 0x52800000 | value << 5,
                                                            0xD65F03C0)  # mov w0, #value; ret
    flush(address + mmap.PAGESIZE - 4, address + mmap.PAGESIZE + 4)
    libc.mprotect(address, 2 * mmap.PAGESIZE, mmap.PROT_READ | mmap.PROT_EXEC)
    print(function())
icache.flush_icache(address, 2 * mmap.PAGESIZE)
icache.flush_icache(address, 0)
print(icache._host_flush_function() is not None)
"""


def test_libgcc_clear_cache_on_arm64():
    assert run_arm64_python(["-c", REWRITE_AND_RUN, "libgcc"]).split() == [
        "7", "1234", "99", "True"]


def test_hand_assembled_routine_on_arm64():
    assert run_arm64_python(["-c", REWRITE_AND_RUN, "routine"]).split() == [
        "7", "1234", "99", "True"]


def test_routine_words_are_its_instructions(tmp_path):
    source = "\n".join(text for _, text in icache.FLUSH_ROUTINE) + "\n"
    subprocess.run(["clang-19", "--target=aarch64-linux-gnu", "-c", "-x", "assembler", "-",
                    "-o", str(tmp_path / "routine.o")], input=source, text=True, check=True)
    text = bytes(lief.ELF.parse(str(tmp_path / "routine.o")).get_section(".text").content)
    assert text == b"".join(word.to_bytes(4, "little") for word, _ in icache.FLUSH_ROUTINE)


@pytest.mark.skipif(platform.machine() != "x86_64", reason="an x86_64 host")
def test_no_flush_needed_on_x86_64():
    assert icache._host_flush_function() is None
    icache.flush_icache(0x1000, 4096)  # must not touch the address
