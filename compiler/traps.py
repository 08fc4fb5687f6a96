"""How compiled code leaves on a trap (docs/aot-abi.md, "Traps").

Every call from Python comes in through an array call (trampolines.py), which keeps a
sigjmp_buf in the thread's ExecEnv, and its stack pointer at the call in ExecEnv.entry_sp.
A trap, wherever it happens (a trap block, a helper or host function that failed, a
guard-page fault), calls the module's trap function, which records a backtrace and jumps straight back to
that buffer: no function returns through its callers, so a call needs no test of the trap
code after it, and the normal path carries nothing for traps but the cold branches to the
trap blocks. The jump leaves only compiled frames, which hold no resources.

The backtrace is read off the native stack by the C runtime's unwinder (libgcc's
`_Unwind_Backtrace`), from the unwind tables LLVM emits for every function (`uwtable`) and
the loader registers (loader/unwind_tables.py). Frame pointers would do without tables, but
they take a register from every function: quicksort's partition then spills its memory base
(8% more instructions). The walk records, for each frame below the array call's, an address
inside its function: the return address minus one (a call to a function that does not
return may be a function's last instruction), or the exact address of a faulting
instruction. Frames above the array call's (its own, Python's) are left out: their
canonical frame address (the stack pointer before the call into them) is above entry_sp.
The loader maps the addresses to wasm functions (loader/backtrace.py); the trap's own
frames, those of the fault handler and of the signal, lie outside them and are dropped.
"""

from pywamr.runtime import aot_abi as abi

from . import ir_text as ir
from .signatures import I8, I32, I64, PTR, VOID

_URC_NO_REASON = 0
_URC_END_OF_STACK = 5
# Internal functions: no symbols in the object.
TRAP_FUNCTION = "pywamr.trap"
_FRAME_CALLBACK = "pywamr.trap_frame"
# struct walk {ExecEnv* env; u64 started;}
_WALK_ENV, _WALK_STARTED = 0, 1


def field(builder, base, offset):
    return builder.gep(base, [ir.Constant(I64, offset)], source_etype=I8)


def libc_function(menv, name, ret, args, *attributes):
    fn = menv.intrinsic(name, ret, args)
    for attribute in attributes:
        fn.attributes.add(attribute)
    return fn


def trap_function(menv):
    """void trap(ExecEnv* env, u32 code, u32 function), noreturn: this LLVM module's, defined
    on first use. `function` is the index of the function whose code trapped (NO_FUNCTION
    outside one): LLVM may have inlined it into a caller, which the backtrace then shows in
    its place. Internal to each part of a big module (module_codegen.py), so that no call of
    it needs a relocation.

        env->trap_code = code;
        env->trap_function = function;
        struct walk walk = {env, 0};
        _Unwind_Backtrace(trap_frame, &walk);
        siglongjmp(env->jmp_buf, 1);
    """
    fn = menv.llvm.globals.get(TRAP_FUNCTION)
    if fn is not None:
        return fn
    fn = menv.define_function(TRAP_FUNCTION, ir.FunctionType(VOID, [PTR, I32, I32]))
    fn.linkage = "internal"
    for attribute in ("noreturn", "noinline"):
        fn.attributes.add(attribute)
    env, code, function = fn.args
    b = ir.IRBuilder(fn.append_basic_block())
    b.store(code, field(b, env, abi.EXEC_ENV_TRAP_CODE))
    b.store(function, field(b, env, abi.EXEC_ENV_TRAP_FUNCTION))
    walk = b.alloca(I64, size=ir.Constant(I32, 2), name="walk")
    b.store(b.ptrtoint(env, I64), _walk_slot(b, walk, _WALK_ENV))
    b.store(ir.Constant(I64, 0), _walk_slot(b, walk, _WALK_STARTED))
    backtrace = libc_function(menv, "_Unwind_Backtrace", I32, [PTR, PTR], "nounwind")
    b.call(backtrace, [_define_frame_callback(menv, fn), walk])
    siglongjmp = libc_function(menv, "siglongjmp", VOID, [PTR, I32], "noreturn", "nounwind")
    b.call(siglongjmp, [b.load(field(b, env, abi.EXEC_ENV_JMP_BUF), typ=PTR),
                        ir.Constant(I32, 1)])
    b.unreachable()
    return fn


def _define_frame_callback(menv, trap):
    """_Unwind_Reason_Code trap_frame(struct _Unwind_Context* context, struct walk* walk)

        u64 cfa = _Unwind_GetCFA(context);
        if (cfa > walk->env->entry_sp)          // above the array call's frame
            return walk->started ? _URC_END_OF_STACK : _URC_NO_REASON;
        if (_Unwind_GetRegionStart(context) == trap)
            return _URC_NO_REASON;
        walk->started = 1;
        int exact;                              // a faulting instruction's own address
        u64 ip = _Unwind_GetIPInfo(context, &exact);
        append(walk->env, exact ? ip : ip - 1);
        return _URC_NO_REASON;

    Frames above entry_sp before the first below it are the signal handler's, on an
    alternate signal stack: skipped, not the end. The trap function's own frame is skipped
    too."""
    fn = menv.define_function(_FRAME_CALLBACK, ir.FunctionType(I32, [PTR, PTR]))
    fn.linkage = "internal"
    context, walk = fn.args
    entry, above, below = (fn.append_basic_block(name) for name in ("entry", "above", "below"))
    b = ir.IRBuilder(entry)
    started_slot = _walk_slot(b, walk, _WALK_STARTED)
    env = b.inttoptr(b.load(_walk_slot(b, walk, _WALK_ENV), typ=I64), PTR)
    get_cfa = libc_function(menv, "_Unwind_GetCFA", I64, [PTR], "nounwind")
    cfa = b.call(get_cfa, [context])
    entry_sp = b.load(field(b, env, abi.EXEC_ENV_ENTRY_SP), typ=I64)
    b.cbranch(b.icmp_unsigned(">", cfa, entry_sp), above, below)

    b.position_at_end(above)
    started = b.load(started_slot, typ=I64)
    b.ret(b.select(b.icmp_unsigned("!=", started, ir.Constant(I64, 0)),
                   ir.Constant(I32, _URC_END_OF_STACK), ir.Constant(I32, _URC_NO_REASON)))

    b.position_at_end(below)
    region_start = b.call(libc_function(menv, "_Unwind_GetRegionStart", I64, [PTR], "nounwind"),
                          [context])
    own, wasm = fn.append_basic_block("own"), fn.append_basic_block("wasm")
    b.cbranch(b.icmp_unsigned("==", region_start, b.ptrtoint(trap, I64)), own, wasm)
    ir.IRBuilder(own).ret(ir.Constant(I32, _URC_NO_REASON))
    b.position_at_end(wasm)
    b.store(ir.Constant(I64, 1), started_slot)
    exact_slot = b.alloca(I32, name="exact")
    get_ip = libc_function(menv, "_Unwind_GetIPInfo", I64, [PTR, PTR], "nounwind")
    ip = b.call(get_ip, [context, exact_slot])
    exact = b.icmp_unsigned("!=", b.load(exact_slot, typ=I32), ir.Constant(I32, 0))
    address = b.select(exact, ip, b.sub(ip, ir.Constant(I64, 1)))
    count_field = field(b, env, abi.EXEC_ENV_FRAME_COUNT)
    count = b.load(count_field, typ=I32)
    store, done = fn.append_basic_block("store"), fn.append_basic_block("done")
    b.cbranch(b.icmp_unsigned("<", count, ir.Constant(I32, abi.MAX_FRAMES)), store, done)
    b.position_at_end(store)
    offset = b.add(b.mul(b.zext(count, I64), ir.Constant(I64, 8)),
                   ir.Constant(I64, abi.EXEC_ENV_FRAMES))
    b.store(address, b.gep(env, [offset], source_etype=I8))
    b.branch(done)
    b.position_at_end(done)
    b.store(b.add(count, ir.Constant(I32, 1)), count_field)
    b.ret(ir.Constant(I32, _URC_NO_REASON))
    return fn


def _walk_slot(builder, walk, index):
    return builder.gep(walk, [ir.Constant(I64, index)], source_etype=I64)


def call_trap(menv, builder, env, code, function=abi.NO_FUNCTION):
    """End the current block with a call of the trap function."""
    builder.call(trap_function(menv), [env, code, ir.Constant(I32, function)], tail="notail")
    builder.unreachable()


# --- The jump buffer of an array call ------------------------------------------------------

def arm_jump_buffer(menv, builder, exec_env, sp):
    """Point ExecEnv.jmp_buf at a new sigjmp_buf in this frame and ExecEnv.entry_sp at `sp`
    (the i64 stack pointer of this frame). Returns the outer (buffer, sp), to be put back
    with `restore_jump_buffer`, and the block a trap comes back to, which the caller ends
    the call in too."""
    buf_field = field(builder, exec_env, abi.EXEC_ENV_JMP_BUF)
    sp_field = field(builder, exec_env, abi.EXEC_ENV_ENTRY_SP)
    outer = (builder.load(buf_field, typ=PTR), builder.load(sp_field, typ=I64))
    buf = builder.alloca(ir.ArrayType(I8, abi.JMP_BUF_SIZE), name="jmp_buf")
    buf.align = 16
    # glibc's sigsetjmp is a macro for __sigsetjmp. Not saving the signal mask keeps the
    # entry free of system calls; the fault handler runs with SA_NODEFER, so the mask is
    # unchanged when it jumps.
    sigsetjmp = libc_function(menv, "__sigsetjmp", I32, [PTR, I32], "returns_twice",
                              "nounwind")
    jumped = builder.call(sigsetjmp, [buf, ir.Constant(I32, 0)])
    leave = builder.append_basic_block("leave")
    running = builder.append_basic_block("running")
    builder.cbranch(builder.icmp_unsigned("!=", jumped, ir.Constant(I32, 0)), leave, running)
    builder.position_at_end(running)
    builder.store(buf, buf_field)
    builder.store(sp, sp_field)
    return outer, leave


def restore_jump_buffer(builder, exec_env, outer):
    buf, sp = outer
    builder.store(buf, field(builder, exec_env, abi.EXEC_ENV_JMP_BUF))
    builder.store(sp, field(builder, exec_env, abi.EXEC_ENV_ENTRY_SP))
