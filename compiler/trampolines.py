"""The two kinds of adapter between native code and the loader's Python (docs/aot-abi.md):

- `aot_import_N(env, ctx, params...)`: an imported function as a native function; passes the
  params' bits in a u64 argv to ctx->host_call(ctx, N, argv) and returns the results from it.
  The host function runs on the calling thread, whose ExecEnv the loader finds by itself.
  ExecEnv.jmp_buf is null while it runs, so that a fault in Python is never taken for one
  in wasm code (guard_pages.py); if it failed, the adapter traps (traps.py), and if it threw
  a wasm exception, the adapter throws it on (exceptions.py).
- `aot_array_call_T(env, code, ctx, argv)`: Python's way in, with the calling thread's
  ExecEnv; calls `code(env, ctx, params...)` of type T with the params from argv and writes
  the results back to argv. It counts itself in ExecEnv.depth, keeps the jump buffer
  every trap (and an exception nothing caught) comes back to (traps.py), and runs the callee
  with no exception handler: handlers of the wasm code that called the Python code that
  called it are not jumped to across Python frames (exceptions.py). The thread's outermost entry
  arms the stack limit (stack pointer - ExecEnv.stack_size) and clears a stale
  INTERRUPT_SIGNAL; every entry and exit that finds an interruption pending sets the
  interrupted limit instead (interruption.py).
"""

from pywamr.runtime import aot_abi as abi

from . import ir_text as ir
from .interruption import set_stack_limit
from .exceptions import call_throw
from .traps import arm_jump_buffer, call_trap, field, restore_jump_buffer
from .signatures import (FIRST_PARAM, I32, I64, PTR, VOID, FunctionPointer, call_wasm,
                         llvm_function_type, load_slots, returns_via_buffer, store_slots)

HOST_CALL_TYPE = ir.FunctionType(VOID, [PTR, I32, PTR])


def define_import_adapter(menv, func_index):
    functype = menv.func_types[func_index]
    fn = menv.define_wasm_function(abi.import_symbol(func_index), functype)
    b = ir.IRBuilder(fn.append_basic_block())
    exec_env, ctx = fn.args[:FIRST_PARAM]
    slots = max(abi.slot_count(functype.params), abi.slot_count(functype.results), 1)
    argv = b.alloca(I64, size=ir.Constant(I32, slots), name="argv")
    store_slots(b, argv, fn.args[FIRST_PARAM:FIRST_PARAM + len(functype.params)],
                functype.params)
    host_call = b.load(field(b, ctx, abi.CTX_HOST_CALL), typ=PTR)
    buf_field = field(b, exec_env, abi.EXEC_ENV_JMP_BUF)
    buf = b.load(buf_field, typ=PTR)
    b.store(ir.Constant(PTR, None), buf_field)
    b.call(FunctionPointer(host_call, HOST_CALL_TYPE), [ctx, ir.Constant(I32, func_index), argv])
    b.store(buf, buf_field)
    code = b.load(field(b, exec_env, abi.EXEC_ENV_TRAP_CODE), typ=I32)
    failed, done = fn.append_basic_block("failed"), fn.append_basic_block("done")
    b.cbranch(b.icmp_unsigned("!=", code, ir.Constant(I32, 0)), failed, done)
    b.position_at_end(failed)
    threw, trapped = fn.append_basic_block("threw"), fn.append_basic_block("trapped")
    b.cbranch(b.icmp_unsigned("==", code, ir.Constant(I32, abi.TRAP_EXCEPTION)), threw, trapped)
    b.position_at_end(threw)
    b.store(ir.Constant(I32, 0), field(b, exec_env, abi.EXEC_ENV_TRAP_CODE))
    call_throw(menv, b, exec_env, b.load(field(b, exec_env, abi.EXEC_ENV_EXCEPTION), typ=PTR))
    call_trap(menv, ir.IRBuilder(trapped), exec_env, code)
    b.position_at_end(done)
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
    outer_limit = b.load(field(b, exec_env, abi.EXEC_ENV_STACK_LIMIT), typ=I64)
    depth = b.load(field(b, exec_env, abi.EXEC_ENV_DEPTH), typ=I32)
    is_outermost = b.icmp_unsigned("==", depth, ir.Constant(I32, 0))
    stack_size = b.load(field(b, exec_env, abi.EXEC_ENV_STACK_SIZE), typ=I64)
    sp = b.ptrtoint(b.call(menv.intrinsic("llvm.stacksave.p0", PTR, []), []), I64)
    b.store(b.add(depth, ir.Constant(I32, 1)), field(b, exec_env, abi.EXEC_ENV_DEPTH))
    # Nothing is pending when Python calls in; a trap code may be left over only when a
    # KeyboardInterrupt came between the last call's return and the loader's reading it.
    b.store(ir.Constant(I32, 0), field(b, exec_env, abi.EXEC_ENV_TRAP_CODE))
    # A SIGINT that came while no wasm ran has been seen by Python already: forget it.
    keep = b.select(is_outermost, ir.Constant(I32, ~abi.INTERRUPT_SIGNAL & 0xFFFFFFFF),
                    ir.Constant(I32, 0xFFFFFFFF))
    b.atomic_rmw("and", field(b, exec_env, abi.EXEC_ENV_INTERRUPT), keep, "seq_cst")
    set_stack_limit(fn, b, exec_env, b.select(is_outermost, b.sub(sp, stack_size), outer_limit))
    handler_field = field(b, exec_env, abi.EXEC_ENV_HANDLER)
    outer_handler = b.load(handler_field, typ=PTR)
    b.store(ir.Constant(PTR, None), handler_field)
    outer, leave = arm_jump_buffer(menv, b, exec_env, sp)

    params = load_slots(b, argv, functype.params)
    callee = FunctionPointer(code, llvm_function_type(functype))
    if returns_via_buffer(functype):
        call_wasm(b, callee, [exec_env, ctx] + params + [argv])
    else:
        result = call_wasm(b, callee, [exec_env, ctx] + params)
        if functype.results:
            store_slots(b, argv, [result], functype.results)
    b.branch(leave)

    # Returned, or trapped (the trap code is set): the outer call's state comes back.
    b.position_at_end(leave)
    restore_jump_buffer(b, exec_env, outer)
    b.store(outer_handler, field(b, exec_env, abi.EXEC_ENV_HANDLER))
    b.store(depth, field(b, exec_env, abi.EXEC_ENV_DEPTH))
    set_stack_limit(fn, b, exec_env, b.select(is_outermost, ir.Constant(I64, 0), outer_limit))
    b.ret_void()
