"""Lowering of call, call_indirect, call_ref and the tail calls return_call,
return_call_indirect and return_call_ref.

Every call passes the caller's ExecEnv* on, so all the instances a call reaches share the
calling thread's. A defined function is called directly (`aot_func_N` with this instance's ctx). An imported one
is called through its FuncRef record in ctx->func_imports, with the ctx stored there, which is
the exporting instance's (or this one's, for a Python host function behind `aot_import_N`).
call_indirect checks the element (in bounds, non-null, same canonical type id) and then calls
`code(env, ref->ctx, ...)`; call_ref only checks that its reference is not null, its type
being the one validation proved. A FuncRef record never changes, so its fields are invariant
loads. After every call: refresh the cached memory size, since the callee may have grown
memory. A callee that traps does not return (traps.py).

Tail calls (docs/aot-abi.md, "Tail calls"): a function that makes them has its body in a tail
entry, `aot_tail_N` (TAIL_CALLING_CONVENTION), and its `aot_func_N` only calls that. A tail
call to a function with a tail entry jumps there: the caller's frame is gone, so a chain of
tail calls runs in constant stack whatever the signatures. A function without one makes no
tail calls, so it ends the chain: the tail call is an ordinary call and a return, and the
stack holds one more frame until it returns. Calls through a FuncRef (imports, tables) tell
the two apart at run time by its `tail_code`; return_call_ref is such a call through the
reference's record.
"""

from pywamr.runtime import aot_abi as abi

from . import ir_text as ir
from .signatures import (I64, PTR, TAIL_CALLING_CONVENTION, FunctionPointer, call_wasm,
                         llvm_function_type, load_slots, returns_via_buffer)
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
    record = import_record(fx, func_index)
    code = fx.load(record, abi.FUNCREF_CODE, PTR, invariant=True)
    callee_ctx = fx.load(record, abi.FUNCREF_CTX, PTR, invariant=True)
    callee = FunctionPointer(code, llvm_function_type(functype))
    return emit_call(fx, callee, callee_ctx, functype, args)


def import_record(fx, func_index):
    """The FuncRef of an imported function, inline in ctx->func_imports."""
    return fx.address(fx.ctx_field(abi.CTX_FUNC_IMPORTS), abi.FUNCREF_SIZE * func_index)


def call_indirect(fx, type_index, table, index, args):
    return call_through(fx, indirect_callee(fx, type_index, table, index),
                        fx.menv.wasm.types[type_index], args)


def call_ref(fx, type_index, ref, args):
    return call_through(fx, ref_callee(fx, ref), fx.menv.wasm.types[type_index], args)


def ref_callee(fx, ref):
    """The FuncRef call_ref calls, after its null check."""
    fx.trap_if(fx.builder.icmp_unsigned("==", ref, ir.Constant(PTR, None)),
               abi.TRAP_NULL_FUNCTION_REFERENCE)
    return ref


def call_through(fx, ref, functype, args):
    """Call the function of FuncRef `ref`."""
    code = fx.load(ref, abi.FUNCREF_CODE, PTR, invariant=True)
    callee_ctx = fx.load(ref, abi.FUNCREF_CTX, PTR, invariant=True)
    callee = FunctionPointer(code, llvm_function_type(functype))
    return emit_call(fx, callee, callee_ctx, functype, args)


def indirect_callee(fx, type_index, table, index):
    """The FuncRef call_indirect calls, after its checks."""
    slot = element_pointer(fx, table, index, abi.TRAP_UNDEFINED_ELEMENT)
    ref = fx.builder.load(slot, typ=PTR)
    fx.trap_if(fx.builder.icmp_unsigned("==", ref, ir.Constant(PTR, None)),
               abi.TRAP_UNINITIALIZED_ELEMENT)
    actual = fx.load(ref, abi.FUNCREF_TYPE_ID, I64, invariant=True)
    fx.trap_if(fx.builder.icmp_unsigned("!=", actual, fx.type_id(type_index)),
               abi.TRAP_INDIRECT_CALL_TYPE_MISMATCH)
    return ref


# Tail calls. Each ends the block it is in with the function's return.

def return_call(fx, func_index, args):
    menv = fx.menv
    functype = menv.func_types[func_index]
    if func_index < menv.num_imported_funcs:
        tail_call_through(fx, import_record(fx, func_index), functype, args)
    elif menv.has_tail_entry(func_index):
        tail_call(fx, menv.tail_entry(func_index), fx.ctx, functype, args)
    else:
        call_and_return(fx, menv.function(func_index), fx.ctx, functype, args)


def return_call_indirect(fx, type_index, table, index, args):
    functype = fx.menv.wasm.types[type_index]
    tail_call_through(fx, indirect_callee(fx, type_index, table, index), functype, args)


def return_call_ref(fx, type_index, ref, args):
    tail_call_through(fx, ref_callee(fx, ref), fx.menv.wasm.types[type_index], args)


def tail_call_through(fx, ref, functype, args):
    """A tail call of the function of FuncRef `ref`: to its tail entry if it has one."""
    b = fx.builder
    fnty = llvm_function_type(functype)
    callee_ctx = fx.load(ref, abi.FUNCREF_CTX, PTR, invariant=True)
    tail_code = fx.load(ref, abi.FUNCREF_TAIL_CODE, PTR, invariant=True)
    jump, call_ = fx.fn.append_basic_block("tail.jump"), fx.fn.append_basic_block("tail.call")
    b.cbranch(b.icmp_unsigned("!=", tail_code, ir.Constant(PTR, None)), jump, call_)
    b.position_at_end(jump)
    tail_call(fx, FunctionPointer(tail_code, fnty), callee_ctx, functype, args)
    b.position_at_end(call_)
    code = fx.load(ref, abi.FUNCREF_CODE, PTR, invariant=True)
    call_and_return(fx, FunctionPointer(code, fnty), callee_ctx, functype, args)


def tail_call(fx, callee, callee_ctx, functype, args):
    """Jump to a tail entry: `tail call` between two functions of TAIL_CALLING_CONVENTION,
    right before the return, is always a jump."""
    result = call_wasm(fx.builder, callee, _tail_args(fx, callee_ctx, functype, args),
                       TAIL_CALLING_CONVENTION, tail="tail")
    return_result(fx.builder, functype, result)


def call_and_return(fx, callee, callee_ctx, functype, args):
    """Call an ordinary entry and return what it returns."""
    result = call_wasm(fx.builder, callee, _tail_args(fx, callee_ctx, functype, args))
    return_result(fx.builder, functype, result)


def _tail_args(fx, callee_ctx, functype, args):
    """The callee writes two or more results where this function's caller wants them."""
    tail = [fx.fn.args[-1]] if returns_via_buffer(functype) else []
    return [fx.exec_env(), callee_ctx] + list(args) + tail


def return_result(builder, functype, result):
    """Return what a call of a function of the same results returned."""
    if len(functype.results) == 1:
        builder.ret(result)
    else:
        builder.ret_void()


def define_tail_wrapper(menv, func_index):
    """`aot_func_N` of a function with a tail entry: calls it, the ordinary way."""
    fn = menv.function(func_index)
    b = ir.IRBuilder(fn.append_basic_block())
    result = call_wasm(b, menv.tail_entry(func_index), list(fn.args), TAIL_CALLING_CONVENTION)
    return_result(b, menv.func_types[func_index], result)
