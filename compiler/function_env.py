"""The environment of one function being lowered: its builder, its view of the VMContext, and
its trap exits.

The ExecEnv of the calling thread is the function's first argument, the VMContext its second.
Pointers that never change for the life of an instance (the VMContext fields, the memory base)
are loaded once, in a prologue block ahead of the body. Per-entity pointers
(global cells, table descriptors, import records, helpers) are loaded where used with
`!invariant.load`, so LLVM hoists and merges them without making every entry pay for them.

Every trap site branches, with a cold branch weight, to one shared block per trap code,
which calls the trap function: it records the backtrace and jumps back to the call from Python
(traps.py), so nothing after a call tests whether the callee trapped.
"""

from pywamr.runtime import aot_abi as abi

from . import ir_text as ir
from .loops import RUN_TO_END_ITERATIONS
from .signatures import I8, I32, I64, PTR, FunctionPointer
from .traps import call_trap

# Pseudo trap codes of trap blocks that are not one code.
PROPAGATE = 0       # a helper failed: the code it stored in ExecEnv.trap_code
STACK_LIMIT = -1    # the stack limit check failed: interrupted, or the stack is exhausted


class FunctionEnv:
    def __init__(self, menv, func_index, uses_memory):
        self.menv = menv
        self.func_index = func_index
        self.fn = fn = menv.body_function(func_index)
        self._exec_env = fn.args[0]
        self.ctx = fn.args[1]
        prologue = fn.append_basic_block("prologue")
        body = fn.append_basic_block("body")
        self.prologue = ir.IRBuilder(prologue)
        self.prologue.position_before(self.prologue.branch(body))
        self.builder = ir.IRBuilder(body)
        self._prologue_values = {}
        self._trap_blocks = {}
        self._results_buffer = None
        self._memory_size_slot = None
        # Whether memory accesses check their bounds in code: always, except in the fast
        # version of a loop whose accesses are proven in bounds before it runs (loops.py).
        self.checked_accesses = True
        # Filled by the translator for addresses.py: the local each value read from a local
        # came from, and the locals whose accesses sign-extend their address.
        self.address_roots = {}
        self.sign_extended_locals = frozenset()
        # The bounds check of each address value (the i64 limit it compares with, lowered by
        # later accesses) while nothing observable has happened since: addresses.py.
        self.open_checks = {}
        self._continues = {}     # block made by trap_if -> the block it continues
        if uses_memory:
            self._memory_size_slot = self.prologue.alloca(I64, name="memory_size")
            self.prologue.store(self._load_memory_size(self.prologue), self._memory_size_slot)

    # --- addresses and loads --------------------------------------------------------------

    def address(self, base, offset, builder=None):
        """`base + offset` bytes."""
        if offset == 0:
            return base
        builder = builder or self.builder
        return builder.gep(base, [ir.Constant(I64, offset)], source_etype=I8)

    def load(self, base, offset, typ, invariant=False, builder=None, align=None):
        builder = builder or self.builder
        value = builder.load(self.address(base, offset, builder), typ=typ, align=align)
        if invariant:
            value.set_metadata("invariant.load", self.menv.invariant)
        return value

    def _prologue_load(self, key, base, offset, typ):
        value = self._prologue_values.get(key)
        if value is None:
            value = self.load(base, offset, typ, invariant=True, builder=self.prologue)
            self._prologue_values[key] = value
        return value

    def ctx_field(self, offset):
        """One of the VMContext's pointers (abi.CTX_*)."""
        return self._prologue_load(("ctx", offset), self.ctx, offset, PTR)

    def exec_env(self):
        """The calling thread's ExecEnv*: every access to it goes through here."""
        return self._exec_env

    def memory_base(self):
        return self._prologue_load("memory_base", self.ctx_field(abi.CTX_MEMORY),
                                   abi.MEMORY_BASE, PTR)

    def other_memory_desc(self, memory):
        """The MemoryDesc* of memory `memory` > 0 (multi-memory), through the VMContext's
        array of them: memory 0's fast path is `memory_base` and the size slot."""
        return self._prologue_load(("memory_desc", memory), self.ctx_field(abi.CTX_MEMORIES),
                                   8 * memory, PTR)

    def other_memory_base(self, memory):
        """Memory `memory`'s base, which never moves (docs/aot-abi.md): loaded once."""
        return self._prologue_load(("memory_base", memory), self.other_memory_desc(memory),
                                   abi.MEMORY_BASE, PTR)

    def other_memory_size_bytes(self, memory):
        """Memory `memory`'s current size, loaded at each use: it may grow at any call."""
        return self.load(self.other_memory_desc(memory), abi.MEMORY_SIZE_BYTES, I64)

    def memory_base_copy(self, local):
        """The memory base as an opaque value of its own for the accesses through `local`
        (addresses.py: provenance); the base itself for accesses through no local. The
        immediate operand keeps LLVM from merging the copies; they compile to nothing."""
        if local is None:
            return self.memory_base()
        key = ("memory_base", local)
        value = self._prologue_values.get(key)
        if value is None:
            copy = ir.InlineAsm(ir.FunctionType(PTR, [PTR, I32]), "", "=r,0,i")
            value = self.prologue.call(copy, [self.memory_base(), ir.Constant(I32, local)])
            value.attributes.add("nounwind")
            value.attributes.add("readnone")
            self._prologue_values[key] = value
        return value

    def array_element(self, ctx_offset, index, typ=PTR):
        """Element `index` of the 8-byte-element array a VMContext field points to; these
        arrays are filled at instantiation and never change."""
        return self.load(self.ctx_field(ctx_offset), 8 * index, typ, invariant=True)

    def global_cell(self, index):
        return self.array_element(abi.CTX_GLOBALS, index)

    def table_desc(self, index):
        return self.array_element(abi.CTX_TABLES, index)

    def type_id(self, type_index):
        return self.array_element(abi.CTX_TYPE_IDS, type_index, I64)

    # --- memory size ------------------------------------------------------------------------

    def _load_memory_size(self, builder):
        return self.load(self.ctx_field(abi.CTX_MEMORY), abi.MEMORY_SIZE_BYTES, I64,
                         builder=builder)

    def memory_size_bytes(self):
        """The current memory size, kept in a local that is refreshed after anything that can
        grow memory (calls, memory.grow), so the bounds checks of a loop do not reload it."""
        return self.builder.load(self._memory_size_slot, typ=I64)

    def refresh_memory_size(self):
        if self._memory_size_slot is not None:
            self.builder.store(self._load_memory_size(self.builder), self._memory_size_slot)

    # --- traps ------------------------------------------------------------------------------

    def trap(self, code):
        self.builder.branch(self._trap_block(code))

    def region(self):
        """The block the current one continues straight on from through trap_if branches:
        what was computed there is available here."""
        block = self.builder.block
        return self._continues.get(block, block)

    def close_checks(self):
        """Something observable happened (a store, a call, a branch, another trap): no later
        access may widen an earlier check."""
        self.open_checks.clear()

    def trap_if(self, condition, code):
        """Trap with `code` when the i1 `condition` holds; continue in a new block."""
        go_on = self.fn.append_basic_block()
        self._continues[go_on] = self.region()
        branch = self.builder.cbranch(condition, self._trap_block(code), go_on)
        branch.set_metadata("prof", self.menv.unlikely)
        self.builder.position_at_end(go_on)

    def propagate_trap(self):
        """After a helper call: trap if the helper failed."""
        code = self.load(self.exec_env(), abi.EXEC_ENV_TRAP_CODE, I32)
        self.trap_if(self.builder.icmp_unsigned("!=", code, ir.Constant(I32, 0)), PROPAGATE)

    def _stack_limit(self):
        """ExecEnv.stack_limit as an i64: an atomic (monotonic) load, which LLVM may neither
        hoist out of a loop nor merge with an earlier one, since another thread or a signal
        handler sets the interrupted limit while the code runs (interruption.py)."""
        field = self.address(self.exec_env(), abi.EXEC_ENV_STACK_LIMIT)
        return self.builder.load_atomic(field, "monotonic", 8, typ=I64)

    def check_interrupt(self, stride=None):
        """At a loop header: trap 'interrupted' if the stack limit is the interrupted one
        (unless compiled with --interrupt-checks off).

        `stride`: every iteration of the loop accesses memory through a pointer that moves
        by at least that many bytes, so the loop traps or ends within memory size / stride
        + 1 iterations (loops.access_stride). It then checks only while memory is larger
        than makes that RUN_TO_END_ITERATIONS, a loop-invariant test LLVM takes out of the
        loop by unswitching: quicksort's scans run as C's, a load, a compare and a branch.
        The 2^31 bound keeps the rest of the 2^32 addresses wider than any step, so that
        the addresses cannot step over it."""
        if not self.menv.interrupt_checks:
            return
        if stride is not None:
            small = min((RUN_TO_END_ITERATIONS - 1) * stride, 1 << 31)
            check = self.fn.append_basic_block("interrupt.check")
            checked = self.fn.append_basic_block("interrupt.checked")
            large = self.builder.icmp_unsigned(">", self.memory_size_bytes(),
                                               ir.Constant(I64, small))
            self.builder.cbranch(large, check, checked)
            self.builder.position_at_end(check)
        interrupted = ir.Constant(I64, abi.STACK_LIMIT_INTERRUPTED)
        self.trap_if(self.builder.icmp_unsigned("==", self._stack_limit(), interrupted),
                     abi.TRAP_INTERRUPTED)
        if stride is not None:
            self.builder.branch(checked)
            self.builder.position_at_end(checked)

    def isolate_terminator(self):
        """At -O0, continue in a new block that only the current one branches to, for a
        terminator that LLVM's fast instruction selector cannot select: a return of the
        swiftcc convention (signatures.py), a switch. It would send the whole block it ends
        through the slow selector. (-O1 and up select every block with the slow one.)"""
        if not self.menv.fast_selection:
            return
        block = self.fn.append_basic_block()
        self.builder.branch(block)
        self.builder.position_at_end(block)

    def charge_fuel(self, cost):
        """Charge `cost` to ExecEnv.fuel, trapping 'all fuel consumed' (and charging
        nothing) when less is left (runtime/fuel.py)."""
        field = self.address(self.exec_env(), abi.EXEC_ENV_FUEL)
        left = self.builder.sub(self.builder.load(field, typ=I64), ir.Constant(I64, cost))
        self.trap_if(self.builder.icmp_signed("<", left, ir.Constant(I64, 0)),
                     abi.TRAP_OUT_OF_FUEL)
        self.builder.store(left, field)

    def check_stack(self):
        """At the entry of a function that calls: trap when the stack pointer is below
        ExecEnv.stack_limit, 'interrupted' if that is the interrupted limit, else 'call stack
        exhausted'. One check serves both, so calls pay for one."""
        stacksave = self.menv.intrinsic("llvm.stacksave.p0", PTR, [])
        sp = self.builder.ptrtoint(self.builder.call(stacksave, []), I64)
        self.trap_if(self.builder.icmp_unsigned("<", sp, self._stack_limit()), STACK_LIMIT)

    def _trap_block(self, code):
        block = self._trap_blocks.get(code)
        if block is None:
            block = self.fn.append_basic_block(f"trap.{code}")
            builder = ir.IRBuilder(block)
            env = self.exec_env()
            if code == PROPAGATE:
                value = builder.load(self.address(env, abi.EXEC_ENV_TRAP_CODE, builder),
                                     typ=I32)
            elif code == STACK_LIMIT:
                limit = builder.load(self.address(env, abi.EXEC_ENV_STACK_LIMIT, builder),
                                     typ=I64)
                interrupted = builder.icmp_unsigned(
                    "==", limit, ir.Constant(I64, abi.STACK_LIMIT_INTERRUPTED))
                value = builder.select(interrupted, ir.Constant(I32, abi.TRAP_INTERRUPTED),
                                       ir.Constant(I32, abi.TRAP_STACK_EXHAUSTED))
            else:
                value = ir.Constant(I32, code)
            call_trap(self.menv, builder, env, value, self.func_index)
            self._trap_blocks[code] = block
        return block

    # --- calls ------------------------------------------------------------------------------

    def results_buffer(self):
        """A u64 buffer in this frame for the results of multi-value calls."""
        if self._results_buffer is None:
            self._results_buffer = self.prologue.alloca(
                I64, size=ir.Constant(I32, self.menv.max_result_slots), name="call_results")
        return self._results_buffer

    def call_helper(self, index, ret, args, may_trap=False):
        """Call runtime helper `index` (abi.HELPER_*) with `ctx` prepended to `args`."""
        fnty = ir.FunctionType(ret, [PTR] + [arg.type for arg in args])
        helper = self.array_element(abi.CTX_HELPERS, index)
        result = self.builder.call(FunctionPointer(helper, fnty), [self.ctx] + list(args))
        if may_trap:
            self.propagate_trap()
        return result

    def call_intrinsic(self, name, ret, args, arg_types=None):
        fn = self.menv.intrinsic(name, ret, arg_types or [arg.type for arg in args])
        return self.builder.call(fn, args)

