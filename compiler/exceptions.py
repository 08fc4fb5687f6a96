"""Exception handling in compiled code: throw, throw_ref, try_table, and the legacy try,
catch, catch_all, delegate and rethrow (docs/aot-abi.md, "Exceptions").

Code without a try pays nothing: no table, no test after calls. A try body runs under a
jump buffer of its own, in the frame of the function that has the try:

- Entering the body: `env->handler = &buffer; if (__sigsetjmp(buffer, 0)) goto landing;`
  (`returns_twice`, no signal mask: no system call). A function's try bodies nest, so the
  buffers are one per nesting depth (`Handlers`), and which buffer is active at each point
  of the function is known when it is compiled: leaving a body by any path (its end, a
  branch out, return, a tail call, a catch's branch, delegate) stores the handler of the
  depth it goes to, the buffer one level out or, outside every body, the handler the
  function found at its entry. No record links the buffers: the function knows them.
- throw carves the exception object out of the thread's buffer (ExecEnv.exception_next,
  refilled by a runtime helper when it runs out: the only Python a throw may meet), stores
  the tag and the payload in it and calls the object's internal throw function (no symbol,
  like the trap function): `env->exception = exn; siglongjmp(env->handler, 1)`, or, with no
  handler, the array call's jump buffer with TRAP_EXCEPTION: nothing caught it. Python
  frames never lie between a handler and its throw: an array call sets env->handler to 0
  for the wasm it runs and puts it back after (trampolines.py); a host function's exception
  comes back through its import adapter, which throws it on.
- The landing code (sigsetjmp returned 1) stores the handler outside the try, reloads the
  cached memory size (a callee may have grown memory), loads env->exception and compares
  its tag with each catch clause's: tags are compared by address, `ctx->tags[x]` being the
  exporter's record for an imported tag. No clause matched: it throws the exception on.

What longjmp does not restore: siglongjmp puts back the callee-saved registers as they were
at sigsetjmp, and LLVM's SSA values defined before the sigsetjmp are unchanged (their stack
slots are not reused in a function that calls a returns_twice function), so the operand
stack below the try, the ExecEnv and the VMContext arrive intact. A wasm local is an alloca
that LLVM promotes to SSA values, which would give the landing code the local's value at
the sigsetjmp, not the last one stored in the body. So the locals a try body assigns are
made to escape (their addresses passed to an empty inline-asm statement in the prologue,
`escape`): LLVM must then assume that any call may read and write them, stores each one's
latest value before every call (a throw is always a call) and loads it again after, and the
landing code loads them from memory. Locals assigned only outside try bodies keep their
value at the sigsetjmp, which is the one the landing code needs.
"""

from pywamr.runtime import aot_abi as abi
from pywamr.runtime import opcodes

from . import ir_text as ir
from .signatures import I8, I32, I64, PTR, VOID, load_slots, store_slots
from .traps import field, libc_function

THROW_FUNCTION = "pywamr.throw"     # internal: no symbol
_TRY_OPENERS = frozenset([opcodes.TRY_TABLE, opcodes.TRY])
_OPENERS = frozenset([opcodes.BLOCK, opcodes.LOOP, opcodes.IF]) | _TRY_OPENERS
_CLOSERS = frozenset([opcodes.END, opcodes.DELEGATE])
_HANDLER_SECTIONS = frozenset([opcodes.CATCH_LEGACY, opcodes.CATCH_ALL_LEGACY])
_LOCAL_WRITES = frozenset(opcodes.NAMES[name] for name in ("local.set", "local.tee"))


def has_try(instrs):
    return any(instr.op in _TRY_OPENERS for instr in instrs)


def locals_set_in_try_bodies(instrs):
    """The locals a `local.set` or `local.tee` inside a try body assigns (the body of a
    try_table, or of a legacy try before its first catch)."""
    found = set()
    sections = []       # per open block: whether it is a try body
    bodies = 0          # how many of them are
    for instr in instrs:
        op = instr.op
        if op in _OPENERS:
            body = op in _TRY_OPENERS
            sections.append(body)
            bodies += body
        elif op in _CLOSERS or op in _HANDLER_SECTIONS:
            if not sections:
                continue        # the function's own end
            bodies -= sections[-1]
            if op in _CLOSERS:
                sections.pop()
            else:
                sections[-1] = False
        elif op in _LOCAL_WRITES and bodies:
            found.add(instr.imm)
    return found


def escape(fx, slots):
    """Keep the allocas `slots` in memory across calls: an empty inline-asm statement that
    takes their addresses, which LLVM must assume it keeps for any later call to use."""
    sink = ir.InlineAsm(ir.FunctionType(VOID, [PTR]), "", "r,~{memory}", side_effect=True)
    for slot in slots:
        fx.prologue.call(sink, [slot]).attributes.add("nounwind")


def throw_function(menv):
    """void throw(ExecEnv* env, u8* exn), noreturn: this LLVM module's, defined on first
    use.

        env->exception = exn;
        if (env->handler)
            siglongjmp(env->handler, 1);
        env->trap_code = TRAP_EXCEPTION;        // uncaught: back to the array call
        siglongjmp(env->jmp_buf, 1);

    An uncaught exception records no backtrace: the loader raises it as the embedding API's
    exception, not as a trap."""
    fn = menv.llvm.globals.get(THROW_FUNCTION)
    if fn is not None:
        return fn
    fn = menv.define_function(THROW_FUNCTION, ir.FunctionType(VOID, [PTR, PTR]))
    fn.linkage = "internal"
    for attribute in ("noreturn", "noinline"):
        fn.attributes.add(attribute)
    env, exn = fn.args
    entry, caught, uncaught = (fn.append_basic_block(name)
                               for name in ("entry", "caught", "uncaught"))
    siglongjmp = libc_function(menv, "siglongjmp", VOID, [PTR, I32], "noreturn", "nounwind")
    b = ir.IRBuilder(entry)
    b.store(exn, field(b, env, abi.EXEC_ENV_EXCEPTION))
    handler = b.load(field(b, env, abi.EXEC_ENV_HANDLER), typ=PTR)
    b.cbranch(b.icmp_unsigned("!=", handler, ir.Constant(PTR, None)), caught, uncaught)
    b.position_at_end(caught)
    b.call(siglongjmp, [handler, ir.Constant(I32, 1)])
    b.unreachable()
    b.position_at_end(uncaught)
    b.store(ir.Constant(I32, abi.TRAP_EXCEPTION), field(b, env, abi.EXEC_ENV_TRAP_CODE))
    b.call(siglongjmp, [b.load(field(b, env, abi.EXEC_ENV_JMP_BUF), typ=PTR),
                        ir.Constant(I32, 1)])
    b.unreachable()
    return fn


def call_throw(menv, builder, env, exn):
    """End the current block by throwing `exn` to the current handler."""
    builder.call(throw_function(menv), [env, exn], tail="notail")
    builder.unreachable()


def new_exception(fx, tag, values, valtypes):
    """A new exception object of tag `tag` holding `values`, carved from the thread's
    buffer; a new buffer first (a helper call) when it has no room left.

        if (env->exception_end - env->exception_next < size)
            exception_buffer(ctx, size);
        exn = env->exception_next;
        env->exception_next += size;
    """
    b = fx.builder
    env = fx.exec_env()
    size = ir.Constant(I64, abi.EXCEPTION_PAYLOAD + 8 * abi.slot_count(valtypes))
    next_field = field(b, env, abi.EXEC_ENV_EXCEPTION_NEXT)
    first = b.load(next_field, typ=I64)
    room = b.sub(b.load(field(b, env, abi.EXEC_ENV_EXCEPTION_END), typ=I64), first)
    refill, carve = fx.fn.append_basic_block("exception.buffer"), fx.fn.append_basic_block()
    came_from = b.block
    b.cbranch(b.icmp_unsigned("<", room, size), refill, carve).set_metadata(
        "prof", fx.menv.unlikely)
    b.position_at_end(refill)
    fx.call_helper(abi.HELPER_EXCEPTION_BUFFER, VOID, [size], may_trap=True)
    refilled = b.load(next_field, typ=I64)
    refilled_from = b.block
    b.branch(carve)
    b.position_at_end(carve)
    address = b.phi(I64)
    address.add_incoming(first, came_from)
    address.add_incoming(refilled, refilled_from)
    b.store(b.add(address, size), next_field)
    exn = b.inttoptr(address, PTR)
    b.store(fx.array_element(abi.CTX_TAGS, tag), fx.address(exn, abi.EXCEPTION_TAG))
    store_slots(b, fx.address(exn, abi.EXCEPTION_PAYLOAD), values, valtypes)
    return exn


def payload(fx, exn, valtypes):
    return load_slots(fx.builder, fx.address(exn, abi.EXCEPTION_PAYLOAD), valtypes)


def tag_matches(fx, exn, tag):
    """i1: whether exception `exn` was thrown with tag `tag` of this module."""
    thrown = fx.load(exn, abi.EXCEPTION_TAG, PTR, invariant=True)
    return fx.builder.icmp_unsigned("==", thrown, fx.array_element(abi.CTX_TAGS, tag))


class Handlers:
    """The jump buffers of one function's try bodies, one per nesting depth, and the handler
    in effect at each depth: depth 0 is outside every try body of the function."""

    def __init__(self, fx):
        self.fx = fx
        self.buffers = []
        at_entry = fx.address(fx.exec_env(), abi.EXEC_ENV_HANDLER, fx.prologue)
        self.at_entry = fx.prologue.load(at_entry, typ=PTR, name="entry_handler")

    def handler(self, depth):
        """The handler in effect at try depth `depth`."""
        return self.buffers[depth - 1] if depth else self.at_entry

    def restore(self, depth):
        """Going out to try depth `depth`: its handler is the current one again."""
        b = self.fx.builder
        b.store(self.handler(depth), field(b, self.fx.exec_env(), abi.EXEC_ENV_HANDLER))

    def enter(self, depth):
        """Enter a try body at depth `depth` + 1 from the current block: its buffer becomes
        the handler. Continues in the body; returns the block a throw lands in."""
        fx = self.fx
        if len(self.buffers) == depth:
            buffer = fx.prologue.alloca(ir.ArrayType(I8, abi.HANDLER_BUF_SIZE),
                                        name="handler")
            buffer.align = 16
            self.buffers.append(buffer)
        buffer = self.buffers[depth]
        b = fx.builder
        b.store(buffer, field(b, fx.exec_env(), abi.EXEC_ENV_HANDLER))
        sigsetjmp = libc_function(fx.menv, "__sigsetjmp", I32, [PTR, I32], "returns_twice",
                                  "nounwind")
        jumped = b.call(sigsetjmp, [buffer, ir.Constant(I32, 0)])
        landing = fx.fn.append_basic_block("try.landing")
        body = fx.fn.append_basic_block("try.body")
        b.cbranch(b.icmp_unsigned("!=", jumped, ir.Constant(I32, 0)), landing, body)
        b.position_at_end(body)
        return landing

    def land(self, landing, depth):
        """Continue in `landing`, out at try depth `depth`; returns the exception thrown."""
        fx = self.fx
        fx.builder.position_at_end(landing)
        self.restore(depth)
        fx.refresh_memory_size()
        return fx.builder.load(field(fx.builder, fx.exec_env(), abi.EXEC_ENV_EXCEPTION),
                               typ=PTR)
