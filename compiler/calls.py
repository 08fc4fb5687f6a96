"""Lowering of call and call_indirect.

Every call passes the caller's ExecEnv* on, so all the instances a call reaches share the
calling thread's. A defined function is called directly (`aot_func_N` with this instance's ctx). An imported one
is called through its FuncRef record in ctx->func_imports, with the ctx stored there, which is
the exporting instance's (or this one's, for a Python host function behind `aot_import_N`).
call_indirect checks the element (in bounds, non-null, same canonical type id) and then calls
`code(env, ref->ctx, ...)`; a FuncRef record never changes, so its fields are invariant
loads. After every call: refresh the cached memory size, since the callee may have grown
memory. A callee that traps does not return (traps.py).
"""

from pywamr.runtime import aot_abi as abi

from . import ir_text as ir
from .signatures import (I64, PTR, FunctionPointer, call_wasm, llvm_function_type, load_slots,
                         returns_via_buffer)
from .tables import element_pointer


def emit_call(fx, callee, callee_ctx, functype, args):
    """Call `callee` (an ir.Function or FunctionPointer) and return its results as a list."""
    hidden = [fx.exec_env(), callee_ctx]
    if returns_via_buffer(functype):
        buffer = fx.results_buffer()
        call_wasm(fx.builder, callee, hidden + list(args) + [buffer])
        results = None
    else:
        result = call_wasm(fx.builder, callee, hidden + list(args))
        results = [result] if functype.results else []
    fx.refresh_memory_size()
    if results is None:
        results = load_slots(fx.builder, fx.results_buffer(), functype.results)
    return results


def call(fx, func_index, args):
    menv = fx.menv
    functype = menv.func_types[func_index]
    if func_index >= menv.num_imported_funcs:
        return emit_call(fx, menv.function(func_index), fx.ctx, functype, args)
    record = fx.address(fx.ctx_field(abi.CTX_FUNC_IMPORTS), abi.FUNCREF_SIZE * func_index)
    code = fx.load(record, abi.FUNCREF_CODE, PTR, invariant=True)
    callee_ctx = fx.load(record, abi.FUNCREF_CTX, PTR, invariant=True)
    callee = FunctionPointer(code, llvm_function_type(functype))
    return emit_call(fx, callee, callee_ctx, functype, args)


def call_indirect(fx, type_index, table, index, args):
    functype = fx.menv.wasm.types[type_index]
    slot = element_pointer(fx, table, index, abi.TRAP_UNDEFINED_ELEMENT)
    ref = fx.builder.load(slot, typ=PTR)
    fx.trap_if(fx.builder.icmp_unsigned("==", ref, ir.Constant(PTR, None)),
               abi.TRAP_UNINITIALIZED_ELEMENT)
    actual = fx.load(ref, abi.FUNCREF_TYPE_ID, I64, invariant=True)
    fx.trap_if(fx.builder.icmp_unsigned("!=", actual, fx.type_id(type_index)),
               abi.TRAP_INDIRECT_CALL_TYPE_MISMATCH)
    code = fx.load(ref, abi.FUNCREF_CODE, PTR, invariant=True)
    callee_ctx = fx.load(ref, abi.FUNCREF_CTX, PTR, invariant=True)
    callee = FunctionPointer(code, llvm_function_type(functype))
    return emit_call(fx, callee, callee_ctx, functype, args)
