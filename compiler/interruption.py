"""Ctrl-C in compiled code: the native half (docs/aot-abi.md, "Interruption").

Python's own SIGINT handler only sets a flag that the interpreter looks at between bytecodes,
so while a call into compiled code runs, Ctrl-C waits for it to return, and an infinite loop
never does. `aot_interrupt_handler`, which the loader installs for SIGINT in front of
Python's handler, sets INTERRUPT_SIGNAL in the main thread's ExecEnv, which makes the
compiled code trap at its next check (a function entry or a loop header), and then calls
the previous handler, so that Python raises KeyboardInterrupt once the call has returned.
"""

from llvmlite import ir

from pywamr.runtime import aot_abi as abi

from .signatures import I8, I32, I64, PTR, VOID, FunctionPointer

_HANDLER_TYPE = ir.FunctionType(VOID, [I32, PTR, PTR])


def _field(builder, base, offset):
    return builder.gep(base, [ir.Constant(I64, offset)], source_etype=I8)


def define_interrupt_handler(menv):
    """void aot_interrupt_handler(int sig, siginfo_t* info, void* ucontext)

        atomic_or(&state.exec_env->interrupt, INTERRUPT_SIGNAL);
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
    exec_env = b.load(_field(b, state, abi.INTERRUPT_STATE_EXEC_ENV), typ=PTR)
    b.atomic_rmw("or", _field(b, exec_env, abi.EXEC_ENV_INTERRUPT),
                 ir.Constant(I32, abi.INTERRUPT_SIGNAL), "seq_cst")
    previous = b.load(_field(b, state, abi.INTERRUPT_STATE_PREVIOUS_ACTION), typ=PTR)
    is_function = b.icmp_unsigned(">", b.ptrtoint(previous, I64), ir.Constant(I64, 1))
    b.cbranch(is_function, chain, done)

    b.position_at_end(chain)
    b.call(FunctionPointer(previous, _HANDLER_TYPE), [sig, info, ucontext])
    b.branch(done)

    b.position_at_end(done)
    b.ret_void()
