"""Guard-page bounds checks: the native half (docs/aot-abi.md, "Guard pages").

With `--bounds-checks off` a memory access is a plain load or store at base + zext(addr) +
offset, or at a sign-extended address (addresses.py). Every such address lies between
base - 2 GiB and base + 8 GiB, and the loader reserves that much per memory with only the
memory's current size accessible, so an out-of-bounds access faults instead of reaching
anything else. Turning that fault into a trap takes three pieces of code here:

- each array call (Python's way in) records a sigjmp_buf in the calling thread's
  ExecEnv.jmp_buf, and returns from a longjmp to it as from a trapped call;
- each import adapter clears ExecEnv.jmp_buf while Python runs, so a fault in the host is
  never mistaken for one in wasm code;
- `aot_fault_handler`, installed by the loader for SIGSEGV, jumps to the faulting thread's
  buffer with trap code 5 when the faulting address lies in a linear-memory reservation and
  wasm code is running on that thread; any other fault goes to the handler that was
  installed before it.
"""

from llvmlite import ir

from pywamr.runtime import aot_abi as abi

from .signatures import I8, I32, I64, PTR, VOID


def _field(builder, base, offset):
    return builder.gep(base, [ir.Constant(I64, offset)], source_etype=I8)


def _libc_function(menv, name, ret, args, *attributes):
    fn = menv.intrinsic(name, ret, args)
    for attribute in attributes:
        fn.attributes.add(attribute)
    return fn


def arm_jump_buffer(menv, builder, exec_env):
    """Point ExecEnv.jmp_buf at a new sigjmp_buf in this frame. Returns the outer buffer, to
    be put back with `restore_jump_buffer`, and the block where a fault in wasm code comes
    back to: it has put the outer buffer back already; the caller finishes it."""
    buf_field = _field(builder, exec_env, abi.EXEC_ENV_JMP_BUF)
    outer = builder.load(buf_field, typ=PTR)
    buf = builder.alloca(ir.ArrayType(I8, abi.JMP_BUF_SIZE), name="jmp_buf")
    buf.align = 16
    # glibc's sigsetjmp is a macro for __sigsetjmp. Not saving the signal mask keeps the
    # entry free of system calls; the handler runs with SA_NODEFER, so the mask is unchanged.
    sigsetjmp = _libc_function(menv, "__sigsetjmp", I32, [PTR, I32], "returns_twice", "nounwind")
    jumped = builder.call(sigsetjmp, [buf, ir.Constant(I32, 0)])
    trapped = builder.append_basic_block("trapped")
    running = builder.append_basic_block("running")
    builder.cbranch(builder.icmp_unsigned("!=", jumped, ir.Constant(I32, 0)), trapped, running)
    ir.IRBuilder(trapped).store(outer, buf_field)
    builder.position_at_end(running)
    builder.store(buf, buf_field)
    return outer, trapped


def restore_jump_buffer(builder, exec_env, outer):
    builder.store(outer, _field(builder, exec_env, abi.EXEC_ENV_JMP_BUF))


def clear_jump_buffer(builder, exec_env):
    """Before calling into Python; returns the buffer to restore afterwards."""
    buf_field = _field(builder, exec_env, abi.EXEC_ENV_JMP_BUF)
    outer = builder.load(buf_field, typ=PTR)
    builder.store(ir.Constant(PTR, None), buf_field)
    return outer


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
        if (env && env->jmp_buf && info->si_addr is in one of state.ranges) {
            env->trap_code = TRAP_OUT_OF_BOUNDS_MEMORY;
            siglongjmp(env->jmp_buf, 1);
        }
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
    pthread_self = _libc_function(menv, "pthread_self", I64, [], "nounwind")
    thread = b.call(pthread_self, [])
    _, exec_env_word = _scan(
        b, fn, _field(b, state, abi.GUARD_STATE_THREADS),
        b.load(_field(b, state, abi.GUARD_STATE_NUM_THREADS), typ=I64), thread_found, foreign,
        lambda b, owner, _: b.icmp_unsigned("==", owner, thread))

    b.position_at_end(thread_found)
    exec_env = b.inttoptr(exec_env_word, PTR)
    jmp_buf = b.load(_field(b, exec_env, abi.EXEC_ENV_JMP_BUF), typ=PTR)
    b.cbranch(b.icmp_unsigned("==", jmp_buf, ir.Constant(PTR, None)), foreign, running)

    b.position_at_end(running)
    fault_address = b.ptrtoint(b.load(_field(b, info, abi.SIGINFO_ADDR), typ=PTR), I64)
    _scan(b, fn, _field(b, state, abi.GUARD_STATE_RANGES),
          b.load(_field(b, state, abi.GUARD_STATE_NUM_RANGES), typ=I64), ours, foreign,
          lambda b, start, end: b.and_(b.icmp_unsigned(">=", fault_address, start),
                                       b.icmp_unsigned("<", fault_address, end)))

    b.position_at_end(ours)
    b.store(ir.Constant(I32, abi.TRAP_OUT_OF_BOUNDS_MEMORY),
            _field(b, exec_env, abi.EXEC_ENV_TRAP_CODE))
    siglongjmp = _libc_function(menv, "siglongjmp", VOID, [PTR, I32], "noreturn", "nounwind")
    b.call(siglongjmp, [jmp_buf, ir.Constant(I32, 1)])
    b.unreachable()

    b.position_at_end(foreign)
    sigaction = _libc_function(menv, "sigaction", I32, [I32, PTR, PTR], "nounwind")
    b.call(sigaction, [sig, _field(b, state, abi.GUARD_STATE_PREVIOUS_ACTION),
                       ir.Constant(PTR, None)])
    b.ret_void()
