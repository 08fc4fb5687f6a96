"""Guard-page bounds checks: the native half (docs/aot-abi.md, "Guard pages").

With `--bounds-checks off` a memory access is a plain load or store at base + zext(addr) +
offset, or at a sign-extended address (addresses.py). Every such address lies between
base - 2 GiB and base + 8 GiB, and the loader reserves that much per memory with only the
memory's current size accessible, so an out-of-bounds access faults instead of reaching
anything else. Turning that fault into a trap takes three pieces of code here:

- each array call keeps a sigjmp_buf in the calling thread's ExecEnv.jmp_buf, which every
  trap jumps back to (traps.py);
- each import adapter clears ExecEnv.jmp_buf while Python runs, so a fault in the host is
  never mistaken for one in wasm code;
- `aot_fault_handler`, installed by the loader for SIGSEGV, traps with code 5 (the trap
  function records the backtrace through the signal's frame and jumps) when the faulting
  address lies in a linear-memory reservation and wasm code is running on the faulting
  thread; any other fault goes to the handler that was installed before it.
"""

from pywamr.runtime import aot_abi as abi

from . import ir_text as ir
from .signatures import I8, I32, I64, PTR, VOID
from .traps import call_trap, field, libc_function


def _scan(b, fn, table, count, found, missing, match):
    """Loop i over [0, count): branch to `found` at the first pair of u64 words (table[2i],
    table[2i+1]) that `match(b, first, second)` accepts, with (first, second) returned as phis
    valid there, or to `missing` when none does."""
    entry = b.block
    scan, test, step = (fn.append_basic_block(name) for name in ("scan", "test", "step"))
    b.branch(scan)
    b.position_at_end(scan)
    i = b.phi(I64, name="i")
    i.add_incoming(ir.Constant(I64, 0), entry)
    b.cbranch(b.icmp_unsigned("<", i, count), test, missing)
    b.position_at_end(test)
    first_index = b.mul(i, ir.Constant(I64, 2))
    first = b.load(b.gep(table, [first_index], source_etype=I64), typ=I64)
    second = b.load(b.gep(table, [b.add(first_index, ir.Constant(I64, 1))], source_etype=I64),
                    typ=I64)
    b.cbranch(match(b, first, second), found, step)
    b.position_at_end(step)
    i.add_incoming(b.add(i, ir.Constant(I64, 1)), step)
    b.branch(scan)
    return first, second


def define_fault_handler(menv):
    """void aot_fault_handler(int sig, siginfo_t* info, void* ucontext)

        ExecEnv* env = the one state.threads lists for pthread_self(), or none;
        if (env && env->jmp_buf && info->si_addr is in one of state.ranges)
            trap(env, TRAP_OUT_OF_BOUNDS_MEMORY, NO_FUNCTION);        // does not return
        sigaction(sig, &state.previous, NULL);   // and return: the fault recurs under it

    The faulting thread is found by its id, not its stack pointer: the handler runs on an
    alternate signal stack (SA_ONSTACK) where Python's faulthandler has set one up.
    """
    fn = menv.define_function(abi.FAULT_HANDLER_SYMBOL, ir.FunctionType(VOID, [I32, PTR, PTR]))
    sig, info, _ = fn.args
    state = ir.GlobalVariable(menv.llvm, I8, abi.GUARD_STATE_SYMBOL)
    entry, thread_found, running, ours, foreign = (
        fn.append_basic_block(name) for name in
        ("entry", "thread_found", "running", "ours", "foreign"))

    b = ir.IRBuilder(entry)
    pthread_self = libc_function(menv, "pthread_self", I64, [], "nounwind")
    thread = b.call(pthread_self, [])
    _, exec_env_word = _scan(
        b, fn, field(b, state, abi.GUARD_STATE_THREADS),
        b.load(field(b, state, abi.GUARD_STATE_NUM_THREADS), typ=I64), thread_found, foreign,
        lambda b, owner, _: b.icmp_unsigned("==", owner, thread))

    b.position_at_end(thread_found)
    exec_env = b.inttoptr(exec_env_word, PTR)
    jmp_buf = b.load(field(b, exec_env, abi.EXEC_ENV_JMP_BUF), typ=PTR)
    b.cbranch(b.icmp_unsigned("==", jmp_buf, ir.Constant(PTR, None)), foreign, running)

    b.position_at_end(running)
    fault_address = b.ptrtoint(b.load(field(b, info, abi.SIGINFO_ADDR), typ=PTR), I64)
    _scan(b, fn, field(b, state, abi.GUARD_STATE_RANGES),
          b.load(field(b, state, abi.GUARD_STATE_NUM_RANGES), typ=I64), ours, foreign,
          lambda b, start, end: b.and_(b.icmp_unsigned(">=", fault_address, start),
                                       b.icmp_unsigned("<", fault_address, end)))

    b.position_at_end(ours)
    call_trap(menv, b, exec_env, ir.Constant(I32, abi.TRAP_OUT_OF_BOUNDS_MEMORY))

    b.position_at_end(foreign)
    sigaction = libc_function(menv, "sigaction", I32, [I32, PTR, PTR], "nounwind")
    b.call(sigaction, [sig, field(b, state, abi.GUARD_STATE_PREVIOUS_ACTION),
                       ir.Constant(PTR, None)])
    b.ret_void()
