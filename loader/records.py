"""The runtime records compiled code reads and writes, as ctypes structures.

They mirror docs/aot-abi.md field for field (compiler/abi.py spells the same offsets for the
code generator). Pointers are plain u64 so that null is 0, not None.
"""

import ctypes

u32 = ctypes.c_uint32
u64 = ctypes.c_uint64


class VMContext(ctypes.Structure):
    _fields_ = [
        ("memory", u64),         # MemoryDesc* of memory 0, or 0
        ("globals", u64),        # u8**: one 16-byte cell per global
        ("tables", u64),         # TableDesc**
        ("func_imports", u64),   # FuncRef[number of imported functions], inline
        ("type_ids", u64),       # u64[number of types]: canonical signature ids
        ("func_refs", u64),      # FuncRef*[number of functions]
        ("exec_env", u64),       # ExecEnv*
        ("helpers", u64),        # void*[8]
        ("host_call", u64),      # void (*)(VMContext*, u32 import_index, u64* argv)
    ]


class MemoryDesc(ctypes.Structure):
    _fields_ = [("base", u64), ("size_bytes", u64)]


class TableDesc(ctypes.Structure):
    _fields_ = [("size", u64), ("elems", u64), ("max", u64)]


class FuncRef(ctypes.Structure):
    _fields_ = [("code", u64), ("ctx", u64), ("type_id", u64)]


class ExecEnv(ctypes.Structure):
    _fields_ = [("trap_code", u32), ("pad", u32), ("stack_limit", u64), ("stack_size", u64),
                ("jmp_buf", u64)]


class SigAction(ctypes.Structure):
    """glibc's `struct sigaction` on 64-bit Linux (x86_64 and aarch64 alike)."""
    _fields_ = [("handler", u64), ("mask", ctypes.c_uint8 * 128), ("flags", ctypes.c_int),
                ("restorer", u64)]


GUARD_RANGES = 4096     # linear memories alive at once; each reserves 10 GiB of address space


class GuardState(ctypes.Structure):
    _fields_ = [("exec_env", u64), ("num_ranges", u64), ("previous", SigAction),
                ("pad", ctypes.c_uint8 * (256 - ctypes.sizeof(SigAction))),
                ("ranges", u64 * (2 * GUARD_RANGES))]


GLOBAL_CELL_SIZE = 16
