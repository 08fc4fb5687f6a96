"""The native ABI of compiled code, as numbers: the contract written in docs/aot-abi.md.

Everything the lowering needs to reach the runtime (record layouts, trap codes, helper slots,
symbol names) is spelled here once, so a change to the contract is a change to this file.
"""

# VMContext: one pointer-sized field each, in this order.
CTX_MEMORY = 0          # MemoryDesc*
CTX_GLOBALS = 8         # u8**: one 16-byte cell per global
CTX_TABLES = 16         # TableDesc**
CTX_FUNC_IMPORTS = 24   # FuncRef[num imported functions], inline
CTX_TYPE_IDS = 32       # u64[num types]
CTX_FUNC_REFS = 40      # FuncRef*[num functions]
CTX_EXEC_ENV = 48       # ExecEnv*
CTX_HELPERS = 56        # void*[len(Helper)]
CTX_HOST_CALL = 64      # void (*)(VMContext*, u32 import_index, u64* argv)

# MemoryDesc = { u8* base; u64 size_bytes; }
MEMORY_BASE = 0
MEMORY_SIZE_BYTES = 8

# TableDesc = { u64 size; void** elems; u64 max; }
TABLE_SIZE = 0
TABLE_ELEMS = 8

# FuncRef = { void* code; VMContext* ctx; u64 type_id; }
FUNCREF_CODE = 0
FUNCREF_CTX = 8
FUNCREF_TYPE_ID = 16
FUNCREF_SIZE = 24

# ExecEnv = { u32 trap_code; u32 pad; u8* stack_limit; u64 stack_size; sigjmp_buf* jmp_buf; }
EXEC_ENV_TRAP_CODE = 0
EXEC_ENV_STACK_LIMIT = 8
EXEC_ENV_STACK_SIZE = 16
EXEC_ENV_JMP_BUF = 24   # guard-page mode: the innermost array call's sigjmp_buf, or null

# Guard-page mode (docs/aot-abi.md, "Guard pages"). The fault handler every such module
# carries reads the loader's GuardState through an external data symbol:
# GuardState = { ExecEnv* exec_env; u64 num_ranges; struct sigaction previous;
#                u64 ranges[2 * capacity] (reservation start, end) }
FAULT_HANDLER_SYMBOL = "aot_fault_handler"
GUARD_STATE_SYMBOL = "pywamr_guard_state"
GUARD_STATE_EXEC_ENV = 0
GUARD_STATE_NUM_RANGES = 8
GUARD_STATE_PREVIOUS_ACTION = 16
GUARD_STATE_RANGES = 272        # room for a struct sigaction (152 bytes on Linux)
JMP_BUF_SIZE = 512              # >= sizeof(sigjmp_buf): glibc 200 on x86_64, 312 on aarch64
SIGINFO_ADDR = 16               # offsetof(siginfo_t, si_addr) on 64-bit Linux

# Trap codes stored into ExecEnv.trap_code.
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

# Slots of VMContext.helpers.
HELPER_MEMORY_GROW = 0      # i32 (ctx, u32 delta)
HELPER_MEMORY_INIT = 1      # void (ctx, u32 seg, u32 dst, u32 src, u32 n)
HELPER_DATA_DROP = 2        # void (ctx, u32 seg)
HELPER_TABLE_INIT = 3       # void (ctx, u32 table, u32 seg, u32 dst, u32 src, u32 n)
HELPER_ELEM_DROP = 4        # void (ctx, u32 seg)
HELPER_TABLE_COPY = 5       # void (ctx, u32 dst_table, u32 src_table, u32 dst, u32 src, u32 n)
HELPER_TABLE_GROW = 6       # i32 (ctx, u32 table, void* init, u32 delta)
HELPER_TABLE_FILL = 7       # void (ctx, u32 table, u32 dst, void* value, u32 n)


def func_symbol(func_index):
    """A defined function, by its index in the function index space."""
    return f"aot_func_{func_index}"


def import_symbol(func_index):
    """The adapter that calls the Python host function behind an imported function."""
    return f"aot_import_{func_index}"


def array_call_symbol(type_index):
    """The entry point Python uses to call any function of this type with a u64 argv."""
    return f"aot_array_call_{type_index}"
