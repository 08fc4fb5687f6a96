"""The native ABI between compiled code and the loader: the contract docs/aot-abi.md explains,
spelled once.

The compiler (compiler/) generates code that reads these records at these offsets, stores
these trap codes, calls these helper slots and defines these symbols; the loader (loader/)
builds the records, fills the slots and looks the symbols up. Both import this module and
nothing else of each other, so adding a trap code, a helper or a record field is a change
to this file. The records are ctypes structures because the loader needs them as such; the
compiler takes their field offsets from them. Standard library only: the loader runs
without LLVM.
"""

import ctypes

from pywamr.runtime.errors import MAX_FRAMES

u32 = ctypes.c_uint32
u64 = ctypes.c_uint64


# --- Records -----------------------------------------------------------------------------
# Pointers are plain u64, so that null is 0, not None.

class VMContext(ctypes.Structure):
    """One per instance; every compiled function gets a pointer to its instance's, after
    the calling thread's ExecEnv*."""
    _fields_ = [
        ("memory", u64),         # MemoryDesc* of memory 0, or 0
        ("globals", u64),        # u8**: one GLOBAL_CELL_SIZE-byte cell per global
        ("tables", u64),         # TableDesc**
        ("func_imports", u64),   # FuncRef[number of imported functions], inline
        ("type_ids", u64),       # u64[number of types]: canonical signature ids
        ("func_refs", u64),      # FuncRef*[number of functions]
        ("helpers", u64),        # void*[NUM_HELPERS]
        ("host_call", u64),      # void (*)(VMContext*, u32 import_index, u64* argv)
        ("tags", u64),           # TagDesc*[number of tags]: imports (the exporter's) first
        # MemoryDesc*[number of memories]: imports first; element 0 is `memory`. Code reads
        # memory 0 through `memory`, the others through this (docs/aot-abi.md, "Memories").
        ("memories", u64),
    ]


class MemoryDesc(ctypes.Structure):
    _fields_ = [("base", u64), ("size_bytes", u64)]


class TableDesc(ctypes.Structure):
    _fields_ = [("size", u64), ("elems", u64), ("max", u64)]


class FuncRef(ctypes.Structure):
    """What a funcref value points at, and what call_indirect checks and calls. `tail_code`
    is the function's tail entry (`aot_tail_N`) if it has one, else 0: where a tail call to
    it jumps (docs/aot-abi.md, "Tail calls")."""
    _fields_ = [("code", u64), ("ctx", u64), ("type_id", u64), ("tail_code", u64)]


class TagDesc(ctypes.Structure):
    """A tag (exception handling): its address is its identity, the same in every instance
    that imports it. `type_id` is the canonical id of its function type (the payload's
    types are its params)."""
    _fields_ = [("type_id", u64)]


class ExceptionHeader(ctypes.Structure):
    """The start of an exception object, which an exnref points at: the tag it was thrown
    with, followed by the payload, one u64 slot per value (two for a v128) as in an argv."""
    _fields_ = [("tag", u64)]


class ExecEnv(ctypes.Structure):
    """One per thread running compiled code; every compiled function gets a pointer to the
    calling thread's as its first argument."""
    _fields_ = [
        ("trap_code", u32),      # 0 while running; a TRAP_* code once compiled code traps
        ("depth", u32),          # array calls running on the thread (0: no compiled code)
        # u8*: a function entered below it traps; STACK_LIMIT_INTERRUPTED once interrupted
        ("stack_limit", u64),
        ("stack_size", u64),     # the budget the outermost array call arms the limit with
        ("jmp_buf", u64),        # the innermost array call's sigjmp_buf; 0 while Python runs
        ("interrupt", u32),      # INTERRUPT_* bits, see "Interruption" in docs/aot-abi.md
        ("frame_count", u32),
        ("fuel", ctypes.c_int64),  # fuel left (runtime/fuel.py); code compiled with fuel
                                   # charges it, traps TRAP_OUT_OF_FUEL rather than go below 0
        ("entry_sp", u64),       # the innermost array call's stack pointer at its call
        ("trap_function", u32),  # the function whose code trapped, or NO_FUNCTION
        ("pad", u32),
        # The backtrace of a trap: an address inside each function on the stack, the
        # trapping one first (compiler/traps.py); frame_count counts them all, frames keeps
        # the first MAX_FRAMES (errors.py). Both are 0 while nothing traps.
        ("frames", u64 * MAX_FRAMES),
        # Exceptions (docs/aot-abi.md, "Exceptions"): the innermost handler's jump buffer
        # (in the frame of the function whose try body runs; 0 outside any), the exception
        # object being thrown, and the free part of the thread's buffer throws carve new
        # exception objects from.
        ("handler", u64),
        ("exception", u64),
        ("exception_next", u64),
        ("exception_end", u64),
    ]


NO_FUNCTION = 0xFFFF_FFFF     # ExecEnv.trap_function of a trap outside any wasm function

# The stack limit while an interruption is pending: every check of the limit fails, at a
# function entry (the stack pointer is below it) and at a loop header (compared with it).
STACK_LIMIT_INTERRUPTED = 0xFFFF_FFFF_FFFF_FFFF

# Bits of ExecEnv.interrupt, the reason behind STACK_LIMIT_INTERRUPTED.
INTERRUPT_REQUESTED = 1     # by the embedder (runtime/limits.py); cleared when its block ends
INTERRUPT_SIGNAL = 2        # by aot_interrupt_handler (SIGINT); cleared by the next
                            # outermost array call


class SigAction(ctypes.Structure):
    """glibc's `struct sigaction` on 64-bit Linux (x86_64 and aarch64 alike)."""
    _fields_ = [("handler", u64), ("mask", ctypes.c_uint8 * 128), ("flags", ctypes.c_int),
                ("restorer", u64)]


class InterruptState(ctypes.Structure):
    """What aot_interrupt_handler reads (docs/aot-abi.md, "Interruption")."""
    _fields_ = [("exec_env", u64), ("previous", SigAction)]


GUARD_RANGES = 4096     # linear memories alive at once; each reserves 10 GiB of address space
GUARD_THREADS = 4096    # threads with an ExecEnv at once


class GuardState(ctypes.Structure):
    """What the fault handler of guard-page mode reads (docs/aot-abi.md, "Guard pages")."""
    _fields_ = [("num_threads", u64), ("num_ranges", u64), ("previous", SigAction),
                ("pad", ctypes.c_uint8 * (256 - ctypes.sizeof(SigAction))),
                ("ranges", u64 * (2 * GUARD_RANGES)),     # (reservation start, end) pairs
                ("threads", u64 * (2 * GUARD_THREADS))]   # (pthread_t, ExecEnv*) pairs


GLOBAL_CELL_SIZE = 16
JMP_BUF_SIZE = 512              # >= sizeof(sigjmp_buf): glibc 200 on x86_64, 312 on aarch64
HANDLER_BUF_SIZE = 320          # a try's jump buffer: >= sizeof(sigjmp_buf) on both
SIGINFO_ADDR = 16               # offsetof(siginfo_t, si_addr) on 64-bit Linux

# The offsets the code generator uses.
CTX_MEMORY = VMContext.memory.offset
CTX_GLOBALS = VMContext.globals.offset
CTX_TABLES = VMContext.tables.offset
CTX_FUNC_IMPORTS = VMContext.func_imports.offset
CTX_TYPE_IDS = VMContext.type_ids.offset
CTX_FUNC_REFS = VMContext.func_refs.offset
CTX_HELPERS = VMContext.helpers.offset
CTX_HOST_CALL = VMContext.host_call.offset
CTX_TAGS = VMContext.tags.offset
CTX_MEMORIES = VMContext.memories.offset
MEMORY_BASE = MemoryDesc.base.offset
MEMORY_SIZE_BYTES = MemoryDesc.size_bytes.offset
TABLE_SIZE = TableDesc.size.offset
TABLE_ELEMS = TableDesc.elems.offset
FUNCREF_CODE = FuncRef.code.offset
FUNCREF_CTX = FuncRef.ctx.offset
FUNCREF_TYPE_ID = FuncRef.type_id.offset
FUNCREF_TAIL_CODE = FuncRef.tail_code.offset
FUNCREF_SIZE = ctypes.sizeof(FuncRef)
EXEC_ENV_TRAP_CODE = ExecEnv.trap_code.offset
EXEC_ENV_DEPTH = ExecEnv.depth.offset
EXEC_ENV_STACK_LIMIT = ExecEnv.stack_limit.offset
EXEC_ENV_STACK_SIZE = ExecEnv.stack_size.offset
EXEC_ENV_JMP_BUF = ExecEnv.jmp_buf.offset
EXEC_ENV_ENTRY_SP = ExecEnv.entry_sp.offset
EXEC_ENV_TRAP_FUNCTION = ExecEnv.trap_function.offset
EXEC_ENV_INTERRUPT = ExecEnv.interrupt.offset
EXEC_ENV_FUEL = ExecEnv.fuel.offset
EXEC_ENV_FRAME_COUNT = ExecEnv.frame_count.offset
EXEC_ENV_FRAMES = ExecEnv.frames.offset
EXEC_ENV_HANDLER = ExecEnv.handler.offset
EXEC_ENV_EXCEPTION = ExecEnv.exception.offset
EXEC_ENV_EXCEPTION_NEXT = ExecEnv.exception_next.offset
EXEC_ENV_EXCEPTION_END = ExecEnv.exception_end.offset
EXCEPTION_TAG = ExceptionHeader.tag.offset
EXCEPTION_PAYLOAD = ctypes.sizeof(ExceptionHeader)
INTERRUPT_STATE_EXEC_ENV = InterruptState.exec_env.offset
INTERRUPT_STATE_PREVIOUS_ACTION = InterruptState.previous.offset
SIGACTION_FLAGS = SigAction.flags.offset
GUARD_STATE_NUM_THREADS = GuardState.num_threads.offset
GUARD_STATE_NUM_RANGES = GuardState.num_ranges.offset
GUARD_STATE_PREVIOUS_ACTION = GuardState.previous.offset
GUARD_STATE_RANGES = GuardState.ranges.offset
GUARD_STATE_THREADS = GuardState.threads.offset


# --- Trap codes, stored into ExecEnv.trap_code ---------------------------------------------

TRAP_UNREACHABLE = 1
TRAP_INTEGER_DIVIDE_BY_ZERO = 2
TRAP_INTEGER_OVERFLOW = 3
TRAP_INVALID_CONVERSION = 4
TRAP_OUT_OF_BOUNDS_MEMORY = 5
TRAP_UNDEFINED_ELEMENT = 6
TRAP_UNINITIALIZED_ELEMENT = 7
TRAP_INDIRECT_CALL_TYPE_MISMATCH = 8
TRAP_OUT_OF_BOUNDS_TABLE = 9
TRAP_STACK_EXHAUSTED = 10
TRAP_HOST_EXCEPTION = 11    # a host function or helper raised; the loader re-raises it
TRAP_INTERRUPTED = 12       # ExecEnv.interrupt was set
TRAP_OUT_OF_FUEL = 13       # ExecEnv.fuel ran out
TRAP_NULL_FUNCTION_REFERENCE = 14
TRAP_NULL_REFERENCE = 15
TRAP_NULL_EXCEPTION_REFERENCE = 16
# Not a trap: an exception (ExecEnv.exception) passes through Python. An array call returns
# with it when nothing caught the exception (the loader raises it); a host function that
# threw one returns with it, and its import adapter throws it on in compiled code.
TRAP_EXCEPTION = 17

# The kind of each trap, as the name of its TrapCode member (runtime/trap_codes.py has their
# wording; the loader raises Trap(TrapCode[kind])).
TRAP_KINDS = {
    TRAP_UNREACHABLE: "UNREACHABLE",
    TRAP_INTEGER_DIVIDE_BY_ZERO: "INTEGER_DIVIDE_BY_ZERO",
    TRAP_INTEGER_OVERFLOW: "INTEGER_OVERFLOW",
    TRAP_INVALID_CONVERSION: "INVALID_CONVERSION_TO_INTEGER",
    TRAP_OUT_OF_BOUNDS_MEMORY: "OUT_OF_BOUNDS_MEMORY",
    TRAP_UNDEFINED_ELEMENT: "UNDEFINED_ELEMENT",
    TRAP_UNINITIALIZED_ELEMENT: "UNINITIALIZED_ELEMENT",
    TRAP_INDIRECT_CALL_TYPE_MISMATCH: "INDIRECT_CALL_TYPE_MISMATCH",
    TRAP_OUT_OF_BOUNDS_TABLE: "OUT_OF_BOUNDS_TABLE",
    TRAP_STACK_EXHAUSTED: "CALL_STACK_EXHAUSTED",
    TRAP_INTERRUPTED: "INTERRUPTED",
    TRAP_OUT_OF_FUEL: "OUT_OF_FUEL",
    TRAP_NULL_FUNCTION_REFERENCE: "NULL_FUNCTION_REFERENCE",
    TRAP_NULL_REFERENCE: "NULL_REFERENCE",
    TRAP_NULL_EXCEPTION_REFERENCE: "NULL_EXCEPTION_REFERENCE",
}


# --- Runtime helpers: slots of VMContext.helpers --------------------------------------------
# Each takes the VMContext* first, then the arguments listed; a helper that traps sets the
# trap code of the calling thread's ExecEnv.

HELPER_MEMORY_GROW = 0      # i32 (u32 delta)
HELPER_MEMORY_INIT = 1      # void (u32 seg, u32 dst, u32 src, u32 n)
HELPER_DATA_DROP = 2        # void (u32 seg)
HELPER_TABLE_INIT = 3       # void (u32 table, u32 seg, u32 dst, u32 src, u32 n)
HELPER_ELEM_DROP = 4        # void (u32 seg)
HELPER_TABLE_COPY = 5       # void (u32 dst_table, u32 src_table, u32 dst, u32 src, u32 n)
HELPER_TABLE_GROW = 6       # i32 (u32 table, void* init, u32 delta)
HELPER_TABLE_FILL = 7       # void (u32 table, u32 dst, void* value, u32 n)
# void (u64 size): a new buffer of at least `size` bytes for the calling thread's exception
# objects, in ExecEnv.exception_next/end (never freed); the trap code set if it fails
HELPER_EXCEPTION_BUFFER = 8
# Memory 0 has the two above; any memory these (multi-memory), its index first.
HELPER_MEMORY_GROW_AT = 9   # i32 (u32 memory, u32 delta)
HELPER_MEMORY_INIT_AT = 10  # void (u32 memory, u32 seg, u32 dst, u32 src, u32 n)
# A 64-bit memory's or table's (memory64): its addresses, sizes and deltas as u64s, an i32
# operand zero-extended; grow returns -1 as an i64 on failure.
HELPER_MEMORY_GROW64 = 11   # i64 (u32 memory, u64 delta)
HELPER_MEMORY_INIT64 = 12   # void (u32 memory, u32 seg, u64 dst, u32 src, u32 n)
HELPER_TABLE_INIT64 = 13    # void (u32 table, u32 seg, u64 dst, u32 src, u32 n)
HELPER_TABLE_COPY64 = 14    # void (u32 dst_table, u32 src_table, u64 dst, u64 src, u64 n)
HELPER_TABLE_GROW64 = 15    # i64 (u32 table, void* init, u64 delta)
HELPER_TABLE_FILL64 = 16    # void (u32 table, u64 dst, void* value, u64 n)
NUM_HELPERS = 17


# --- Symbols --------------------------------------------------------------------------------

SYMBOL_PREFIX = "aot_"                    # every symbol the object defines starts with it
FAULT_HANDLER_SYMBOL = "aot_fault_handler"
GUARD_STATE_SYMBOL = "pywamr_guard_state"  # external data: the loader's GuardState
INTERRUPT_HANDLER_SYMBOL = "aot_interrupt_handler"
UNWIND_TABLES_SECTION = ".eh_frame"   # ended by a zero word; the loader registers it
# void aot_request_interrupt(ExecEnv*, u32 bits): sets the bits and the interrupted limit
REQUEST_INTERRUPT_SYMBOL = "aot_request_interrupt"
INTERRUPT_STATE_SYMBOL = "pywamr_interrupt_state"  # external data: the loader's InterruptState


FUNC_SYMBOL_PREFIX = "aot_func_"


def func_symbol(func_index):
    """A defined function, by its index in the function index space."""
    return f"{FUNC_SYMBOL_PREFIX}{func_index}"


TAIL_SYMBOL_PREFIX = "aot_tail_"


def tail_symbol(func_index):
    """The tail entry of a defined function that makes tail calls: its body, in the calling
    convention that lets it be jumped to and jump on; its `aot_func_N` calls it."""
    return f"{TAIL_SYMBOL_PREFIX}{func_index}"


def import_symbol(func_index):
    """The adapter that calls the Python host function behind an imported function."""
    return f"aot_import_{func_index}"


def array_call_symbol(type_index):
    """The entry point Python uses to call any function of this type with a u64 argv:
    void (ExecEnv*, void* code, VMContext*, u64* argv)."""
    return f"aot_array_call_{type_index}"


# --- Values in u64 slots --------------------------------------------------------------------

def slot_count(valtypes):
    """How many u64 slots of an argv the values take: a v128 two, every other value one."""
    return sum(2 if t == "v128" else 1 for t in valtypes)
