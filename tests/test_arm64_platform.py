"""What the loader needs from the arm64 Python root under qemu-user: a working interpreter,
ctypes, executable memory, and 10 GiB PROT_NONE reservations (one per linear memory), many of
them, cheaply: qemu 7.2 spent ~50 MB of its own memory on each (docs/aarch64.md)."""

from arm64_qemu import run_arm64_python

PLATFORM_CHECK = r"""
import ctypes, mmap, platform, resource, struct, zlib, hashlib, argparse, json
print(platform.machine())

libc = ctypes.CDLL(None, use_errno=True)
libc.mmap.restype = ctypes.c_void_p
libc.mmap.argtypes = (ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int, ctypes.c_int,
                      ctypes.c_long)
libc.mprotect.argtypes = (ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int)
MAP_NORESERVE = 0x4000
RESERVED = 10 << 30
failed = ctypes.c_void_p(-1).value

# 100 memories' worth of address space, the first and last 64 KiB of each made usable, half
# of them unmapped again, as a spec-test run does with its instances.
memories = []
for _ in range(100):
    base = libc.mmap(None, RESERVED, 0, mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS | MAP_NORESERVE,
                     -1, 0)
    assert base not in (None, failed), ctypes.get_errno()
    for offset in (0, RESERVED - 65536):
        assert libc.mprotect(base + offset, 65536, mmap.PROT_READ | mmap.PROT_WRITE) == 0
        ctypes.memset(base + offset, 0x5A, 65536)
        assert ctypes.string_at(base + offset + 65535, 1) == b"\x5a"
    memories.append(base)
for base in memories[::2]:
    assert libc.munmap(ctypes.c_void_p(base), ctypes.c_size_t(RESERVED)) == 0
# getrusage is passed through to the host: this is qemu's own peak memory.
print("reserved", len(memories), "x", RESERVED,
      "in", resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024, "MiB")

# Code written through a read-write mapping, then made read+execute: mov w0, #42; ret.
code = libc.mmap(None, 4096, mmap.PROT_READ | mmap.PROT_WRITE,
                 mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS, -1, 0)
ctypes.memmove(code, struct.pack("<II", 0x52800540, 0xD65F03C0), 8)
assert libc.mprotect(code, 4096, mmap.PROT_READ | mmap.PROT_EXEC) == 0
print("called", ctypes.CFUNCTYPE(ctypes.c_int)(code)())
"""


def test_arm64_python_has_what_the_loader_needs():
    machine, reserved, called, end = run_arm64_python(["-c", PLATFORM_CHECK]).split("\n")
    assert (machine, called, end) == ("aarch64", "called 42", "")
    words = reserved.split()
    assert words[:4] == ["reserved", "100", "x", str(10 << 30)]
    assert int(words[5]) < 512, reserved  # qemu 7.2 needed about 5 GiB
