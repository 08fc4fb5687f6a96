"""The two kinds of adapter between native code and the loader's Python (docs/aot-abi.md):

- `aot_import_N(env, ctx, params...)`: an imported function as a native function; passes the
  params' bits in a u64 argv to ctx->host_call(ctx, N, argv) and returns the results from it.
  The host function runs on the calling thread, whose ExecEnv the loader finds by itself.
- `aot_array_call_T(env, code, ctx, argv)`: Python's way in, with the calling thread's
  ExecEnv; calls `code(env, ctx, params...)` of type T with the params from argv and writes
  the results back to argv. The thread's outermost entry arms the stack limit (stack pointer
  - ExecEnv.stack_size) and disarms it on the way out, and clears a stale INTERRUPT_SIGNAL
  (interruption.py).

With guard pages (no explicit bounds checks) both also keep ExecEnv.jmp_buf: see
guard_pages.py.
"""

from llvmlite import ir

from pywamr.runtime import aot_abi as abi

from . import guard_pages
from .signatures import (FIRST_PARAM, I8, I32, I64, PTR, VOID, FunctionPointer,
                         llvm_function_type, load_slots, returns_via_buffer, store_slots)

HOST_CALL_TYPE = ir.FunctionType(VOID, [PTR, I32, PTR])


def define_import_adapter(menv, func_index):
    functype = menv.func_types[func_index]
    fn = menv.define_function(abi.import_symbol(func_index), llvm_function_type(functype))
    b = ir.IRBuilder(fn.append_basic_block())
    exec_env, ctx = fn.args[:FIRST_PARAM]
    slots = max(abi.slot_count(functype.params), abi.slot_count(functype.results), 1)
    argv = b.alloca(I64, size=ir.Constant(I32, slots), name="argv")
    store_slots(b, argv, fn.args[FIRST_PARAM:FIRST_PARAM + len(functype.params)],
                functype.params)
    host_call = b.load(b.gep(ctx, [ir.Constant(I64, abi.CTX_HOST_CALL)], source_etype=I8),
                       typ=PTR)
    if not menv.bounds_checks:
        outer = guard_pages.clear_jump_buffer(b, exec_env)
    b.call(FunctionPointer(host_call, HOST_CALL_TYPE), [ctx, ir.Constant(I32, func_index), argv])
    if not menv.bounds_checks:
        guard_pages.restore_jump_buffer(b, exec_env, outer)
    results = load_slots(b, argv, functype.results)
    if not results:
        b.ret_void()
    elif returns_via_buffer(functype):
        store_slots(b, fn.args[-1], results, functype.results)
        b.ret_void()
    else:
        b.ret(results[0])


def define_array_call(menv, type_index):
    functype = menv.wasm.types[type_index]
    fn = menv.define_function(abi.array_call_symbol(type_index),
                              ir.FunctionType(VOID, [PTR, PTR, PTR, PTR]))
    exec_env, code, ctx, argv = fn.args
    b = ir.IRBuilder(fn.append_basic_block())

    def field(base, offset):
        return b.gep(base, [ir.Constant(I64, offset)], source_etype=I8)

    limit_field = field(exec_env, abi.EXEC_ENV_STACK_LIMIT)
    outer_limit = b.load(limit_field, typ=PTR)
    stack_size = b.load(field(exec_env, abi.EXEC_ENV_STACK_SIZE), typ=I64)
    sp = b.call(menv.intrinsic("llvm.stacksave.p0", PTR, []), [])
    armed_here = b.gep(sp, [b.neg(stack_size)], source_etype=I8)
    is_outermost = b.icmp_unsigned("==", outer_limit, ir.Constant(PTR, None))
    b.store(b.select(is_outermost, armed_here, outer_limit), limit_field)
    # Nothing is pending when Python calls in; a trap code may be left over only when a
    # KeyboardInterrupt came between the last call's return and the loader's reading it.
    b.store(ir.Constant(I32, 0), field(exec_env, abi.EXEC_ENV_TRAP_CODE))
    # A SIGINT that came while no wasm ran has been seen by Python already: forget it.
    keep = b.select(is_outermost, ir.Constant(I32, ~abi.INTERRUPT_SIGNAL & 0xFFFFFFFF),
                    ir.Constant(I32, 0xFFFFFFFF))
    b.atomic_rmw("and", field(exec_env, abi.EXEC_ENV_INTERRUPT), keep, "monotonic")
    if not menv.bounds_checks:
        outer_jmp_buf, trapped = guard_pages.arm_jump_buffer(menv, b, exec_env)
        trapped_builder = ir.IRBuilder(trapped)
        trapped_builder.store(outer_limit, limit_field)
        trapped_builder.ret_void()

    params = load_slots(b, argv, functype.params)
    callee = FunctionPointer(code, llvm_function_type(functype))
    if returns_via_buffer(functype):
        b.call(callee, [exec_env, ctx] + params + [argv])
    else:
        result = b.call(callee, [exec_env, ctx] + params)
        if functype.results:
            store_slots(b, argv, [result], functype.results)
    if not menv.bounds_checks:
        guard_pages.restore_jump_buffer(b, exec_env, outer_jmp_buf)
    b.store(outer_limit, limit_field)
    b.ret_void()
