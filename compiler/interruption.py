"""Interruption: the native half (docs/aot-abi.md, "Interruption").

Compiled code learns of an interruption from the stack limit: `aot_request_interrupt` sets
bits in ExecEnv.interrupt (the reason) and then the limit to STACK_LIMIT_INTERRUPTED, which
fails the check at the entry of every function that calls (the stack pointer is below it)
and the one at every loop header (a comparison with it): one check serves both. The array
calls, which arm the limit on the way in and put the outer one back on the way out, set the
interrupted limit instead whenever the bits are set (`set_stack_limit`), so no interruption
is lost between a request and an entry or exit.

Ctrl-C: Python's own SIGINT handler only sets a flag that the interpreter looks at between
bytecodes, so while a call into compiled code runs, Ctrl-C waits for it to return, and an
infinite loop never does. `aot_interrupt_handler`, which the loader installs for SIGINT in
front of Python's handler, requests INTERRUPT_SIGNAL on the main thread's ExecEnv, and then
calls the previous handler, so that Python raises KeyboardInterrupt once the call has
returned.
"""

from pywamr.runtime import aot_abi as abi
from pywamr.runtime import opcodes

from . import ir_text as ir
from .signatures import I8, I32, I64, PTR, VOID, FunctionPointer
from .traps import field

_HANDLER_TYPE = ir.FunctionType(VOID, [I32, PTR, PTR])
_CALL = opcodes.NAMES["call"]
# Instructions after which the rest of a loop body may not run: they branch or nest.
_CONTROL = frozenset([opcodes.BLOCK, opcodes.LOOP, opcodes.IF, opcodes.ELSE, opcodes.END]
                     + [opcodes.NAMES[name] for name in
                        ("br", "br_if", "br_table", "return", "unreachable", "br_on_null",
                         "br_on_non_null", "throw", "throw_ref", "rethrow", "try_table",
                         "try", "catch", "catch_all", "delegate")])
_INTERRUPTED = ir.Constant(I64, abi.STACK_LIMIT_INTERRUPTED)


def _store_seq_cst(b, value, pointer):
    # An exchange: what a sequentially consistent store is on x86_64 (and ir_text.py has
    # no atomic store).
    b.atomic_rmw("xchg", pointer, value, "seq_cst")


def request_interrupt(b, exec_env, bits):
    """atomic_or(&env->interrupt, bits); env->stack_limit = STACK_LIMIT_INTERRUPTED;
    both sequentially consistent, as `set_stack_limit` needs."""
    b.atomic_rmw("or", field(b, exec_env, abi.EXEC_ENV_INTERRUPT), bits, "seq_cst")
    _store_seq_cst(b, _INTERRUPTED, field(b, exec_env, abi.EXEC_ENV_STACK_LIMIT))


def set_stack_limit(fn, b, exec_env, limit):
    """env->stack_limit = limit, then the interrupted limit if any bit is set. Against a
    request (bits, then limit), in one total order: either the load here comes after the
    request's bits, or the request's limit comes after the store here."""
    limit_field = field(b, exec_env, abi.EXEC_ENV_STACK_LIMIT)
    _store_seq_cst(b, limit, limit_field)
    bits = b.load_atomic(field(b, exec_env, abi.EXEC_ENV_INTERRUPT), "seq_cst", 4, typ=I32)
    pending, done = fn.append_basic_block("interrupt.pending"), fn.append_basic_block("limit.set")
    b.cbranch(b.icmp_unsigned("!=", bits, ir.Constant(I32, 0)), pending, done)
    b.position_at_end(pending)
    _store_seq_cst(b, _INTERRUPTED, limit_field)
    b.branch(done)
    b.position_at_end(done)


def loops_calling_a_check(instrs, checks_at_entry):
    """The indices of the loops in `instrs` that need no check of their own: every
    iteration begins with straight-line code that calls a function that checks the stack
    limit at its entry (`checks_at_entry(func_index)`), which an interruption fails too."""
    found = set()
    for i, instr in enumerate(instrs):
        if instr.op != opcodes.LOOP:
            continue
        for later in instrs[i + 1:]:
            if later.op == _CALL and checks_at_entry(later.imm):
                found.add(i)
                break
            if later.op in _CONTROL:
                break
    return found


def define_request_interrupt(menv):
    """void aot_request_interrupt(ExecEnv* env, u32 bits): what Limits.interrupt() calls,
    from any thread (loader/exec_env.py)."""
    fn = menv.define_function(abi.REQUEST_INTERRUPT_SYMBOL, ir.FunctionType(VOID, [PTR, I32]))
    b = ir.IRBuilder(fn.append_basic_block())
    request_interrupt(b, *fn.args)
    b.ret_void()


def define_interrupt_handler(menv):
    """void aot_interrupt_handler(int sig, siginfo_t* info, void* ucontext)

        request_interrupt(state.exec_env, INTERRUPT_SIGNAL);
        if (state.previous.handler > SIG_IGN)
            state.previous.handler(sig, info, ucontext);

    The previous handler is called with three arguments whether or not it takes them: on
    both targets the extra ones are ignored by a one-argument handler.
    """
    fn = menv.define_function(abi.INTERRUPT_HANDLER_SYMBOL, _HANDLER_TYPE)
    sig, info, ucontext = fn.args
    state = ir.GlobalVariable(menv.llvm, I8, abi.INTERRUPT_STATE_SYMBOL)
    entry, chain, done = (fn.append_basic_block(name) for name in ("entry", "chain", "done"))

    b = ir.IRBuilder(entry)
    exec_env = b.load(field(b, state, abi.INTERRUPT_STATE_EXEC_ENV), typ=PTR)
    request_interrupt(b, exec_env, ir.Constant(I32, abi.INTERRUPT_SIGNAL))
    previous = b.load(field(b, state, abi.INTERRUPT_STATE_PREVIOUS_ACTION), typ=PTR)
    is_function = b.icmp_unsigned(">", b.ptrtoint(previous, I64), ir.Constant(I64, 1))
    b.cbranch(is_function, chain, done)

    b.position_at_end(chain)
    b.call(FunctionPointer(previous, _HANDLER_TYPE), [sig, info, ucontext])
    b.branch(done)

    b.position_at_end(done)
    b.ret_void()
