"""Translation of one function body to LLVM IR: the wasm operator match is the spine.

The operand stack holds LLVM values; locals are allocas that LLVM's mem2reg turns into SSA.
Control instructions are handled here (see control.py for how blocks become LLVM blocks);
everything else is one call into the module for its concern: numeric.py, memory.py,
tables.py, calls.py, simd.py, simd_memory.py. Code after an unconditional branch is
unreachable until the `else` or `end` that closes its frame; it is skipped, keeping only the
nesting of its frames.
"""

import struct

from pywamr.runtime import aot_abi as abi
from pywamr.runtime import opcodes
from pywamr.runtime import types as wasm_types
from pywamr.runtime.fuel import run_costs
from pywamr.runtime.types import FuncType

from . import calls, exceptions, memory, numeric, simd, simd_memory, tables
from . import ir_text as ir
from .addresses import sign_extended_locals
from .control import ControlFrame, branch_target, close_merge, enter_loop
from .function_env import FunctionEnv
from .interruption import loops_calling_a_check
from .loops import access_stride, chunk_budget, find_loop, plan_budget, run_to_end_budget
from .module_env import CALL_OPS
from .scan_loops import barrier, find_scan_loop, wide_pointers
from .signatures import (F32, F64, FIRST_PARAM, I32, I64, llvm_type, returns_via_buffer,
                         store_slots)
from .trip_counts import bounded_trips, trip_within

_MEMORY_OPS = frozenset(
    [opcodes.NAMES[name] for name in list(memory.LOADS) + list(memory.STORES)]
    + [opcodes.NAMES[name] for name in ("memory.size", "memory.grow", "memory.fill",
                                        "memory.copy", "memory.init")]
    + [opcodes.NAMES[name] for name in simd_memory.LOADS + ["v128.store"]
       + list(simd_memory.LANE_LOADS) + list(simd_memory.LANE_STORES)])
# Global cells are 8-byte aligned (docs/aot-abi.md): less than a v128's natural alignment.
_GLOBAL_CELL_ALIGN = 8


class FunctionTranslator:
    def __init__(self, menv, func_index, body):
        self.menv = menv
        self.functype = menv.func_types[func_index]
        self.body = body
        ops = {instr.op for instr in body.body}
        self.fx = FunctionEnv(menv, func_index,
                              uses_memory=not ops.isdisjoint(_MEMORY_OPS))
        self.is_leaf = ops.isdisjoint(CALL_OPS)
        self.stack = []
        self.frames = []
        self.reachable = True
        self.locals = []
        # local index -> (region, value): what the local holds at the end of that region
        # (FunctionEnv.region) so far, so that a local.get after a local.set, tee or get in the
        # same region sees the value itself (addresses.py looks for `p + 8` through a local,
        # and widens the check of one address value).
        self.known_locals = {}
        # Whether memory 0 is 64-bit (memory64): its loops may be versioned (loops.py), but
        # have neither scan loops, which rely on guard pages, nor access strides, which
        # reason in 2^32 addresses (addresses.py).
        self.memory0_64 = bool(menv.memory64) and menv.memory64[0]
        # Loads in scan loops rely on the guard pages (scan_loops.py): only in that mode, and
        # not with fuel, whose charges must stay in order with them.
        self.scans = not menv.bounds_checks and not menv.fuel and not self.memory0_64
        self.scan = None         # the ScanLoop being translated
        self.guarded = False     # whether the loads being translated rely on the guard pages
        self.wide = {}           # its wide pointers: local -> (slot of the i64 copy, step)
        self.handlers = None     # exceptions.Handlers of a function with a try
        self.handler_depth = 0   # how many try bodies enclose the instruction being translated

    def translate(self):
        self._declare_locals()
        if exceptions.has_try(self.body.body):
            self.handlers = exceptions.Handlers(self.fx)
            assigned = sorted(exceptions.locals_set_in_try_bodies(self.body.body))
            exceptions.escape(self.fx, [self.locals[i][0] for i in assigned])
        if self.menv.signed_addresses:
            self.fx.sign_extended_locals = frozenset(sign_extended_locals(self.body.body))
        if not self.is_leaf:
            # Also notices an interruption. A leaf function ends by itself unless it loops,
            # and its loops check.
            self.fx.check_stack()
        self.frames.append(ControlFrame("function", (), self.functype.results, 0, True))
        instrs = self.body.body
        # With fuel, no loop is versioned: its fast version would have to count too.
        fuel = run_costs(instrs) if self.menv.fuel else {}
        calling_loops = loops_calling_a_check(instrs, self.menv.checks_at_entry)
        i = 0
        while i < len(instrs):
            instr = instrs[i]
            if self.scan is not None:
                self.enter_scan_position(i)
            if self.reachable:
                if i in fuel:
                    self.fx.charge_fuel(fuel[i])
                plan = find_loop(instrs, i, self.memory0_64) \
                    if instr.op == opcodes.LOOP and not fuel else None
                if plan is not None:
                    self.translate_versioned_loop(instrs, i, plan)
                    i = plan.end + 1
                    continue
                if i in calling_loops:
                    self.op_loop(instr.imm, None, check=False)
                    self.fx.close_checks()
                elif instr.op == opcodes.LOOP:
                    scan = find_scan_loop(instrs, i, _UNOBSERVABLE) if self.scans else None
                    if scan is not None:
                        self.widen_pointers(instrs, i, scan)
                    stride = None if self.memory0_64 else access_stride(instrs, i)
                    self.op_loop(instr.imm, None, stride=stride)
                    self.fx.close_checks()
                    if scan is not None:
                        self.enter_scan(scan)
                else:
                    self.translate_instr(instr)
            elif instr.op in _OPENERS:
                self.frames.append(ControlFrame("dead", (), (), len(self.stack), False))
            elif instr.op in _SECTION_ENDS:
                self.translate_instr(instr)
            i += 1

    def translate_versioned_loop(self, instrs, start, plan):
        """A loop of the shape loops.py proves in bounds: a fast version without bounds
        checks for as many iterations as the entry computation allows, then the checked
        version for any iteration after those."""
        if bounded_trips(plan.condition, plan.pointers):
            self.translate_loop_to_end(instrs, start, plan)
            return
        fx = self.fx
        budget = chunk_budget(fx.builder, plan_budget(fx, plan, self.read_local))
        enter_fast = fx.fn.append_basic_block("loop.fast.enter")
        fast = fx.fn.append_basic_block("loop.fast")
        checked = fx.fn.append_basic_block("loop.checked")
        entry = fx.builder.block
        fx.builder.cbranch(fx.builder.icmp_unsigned("!=", budget, ir.Constant(I64, 0)),
                           enter_fast, checked)
        checked_header, after = self.translate_checked_copy(instrs, start, plan, checked)

        # The fast loop's own preheader, which the resumption below comes back to: the fast
        # loop keeps a single latch, as LLVM's vectoriser needs.
        fx.builder.position_at_end(enter_fast)
        chunk = fx.builder.phi(I64, name="chunk")
        chunk.add_incoming(budget, entry)
        fx.builder.branch(fast)
        fx.builder.position_at_end(fast)
        left = fx.builder.phi(I64, name="budget")
        left.add_incoming(chunk, enter_fast)
        again = self.translate_unchecked_body(instrs, start, plan)
        left_next = fx.builder.sub(left, ir.Constant(I64, 1))
        left.add_incoming(left_next, fx.builder.block)
        more = fx.builder.icmp_unsigned("!=", left_next, ir.Constant(I64, 0))
        exit_block = fx.fn.append_basic_block("loop.fast.exit")
        fx.builder.cbranch(fx.builder.and_(again, more), fast, exit_block)
        fx.builder.position_at_end(exit_block)
        resume = fx.fn.append_basic_block("loop.fast.resume")
        fx.builder.cbranch(again, resume, after)
        # After a chunk, or once the budget is spent: check for an interruption and
        # recompute the budget, which is 0 if it was spent (the checked loop goes on).
        fx.builder.position_at_end(resume)
        fx.check_interrupt()
        budget = chunk_budget(fx.builder, plan_budget(fx, plan, self.read_local))
        chunk.add_incoming(budget, fx.builder.block)
        fx.builder.cbranch(fx.builder.icmp_unsigned("!=", budget, ir.Constant(I64, 0)),
                           enter_fast, checked_header)
        fx.builder.position_at_end(after)

    def translate_loop_to_end(self, instrs, start, plan):
        """A versioned loop whose trip count the entry can bound (trip_counts.py): when it
        is sure to end within its budget, and within run_to_end_budget's bound on the
        iterations between interruption checks, it runs check-free to its end, testing
        nothing but its own condition (sieve's strided store, as C's); otherwise it runs
        checked from its first iteration."""
        fx = self.fx
        budget = plan_budget(fx, plan, self.read_local)
        within = trip_within(fx, plan.condition, plan.pointers,
                             run_to_end_budget(fx.builder, budget), self.read_local)
        fast = fx.fn.append_basic_block("loop.fast")
        checked = fx.fn.append_basic_block("loop.checked")
        any_fast = fx.builder.icmp_unsigned("!=", budget, ir.Constant(I64, 0))
        fx.builder.cbranch(fx.builder.and_(any_fast, within), fast, checked)
        _, after = self.translate_checked_copy(instrs, start, plan, checked)
        fx.builder.position_at_end(fast)
        again = self.translate_unchecked_body(instrs, start, plan)
        fx.builder.cbranch(again, fast, after)
        fx.builder.position_at_end(after)

    def translate_checked_copy(self, instrs, start, plan, block):
        """The loop as it is, with its checks, from `block` on. Returns its header and the
        block after the loop."""
        fx = self.fx
        fx.builder.position_at_end(block)
        self.op_loop(instrs[start].imm, None)
        checked_header = self.frames[-1].header
        for instr in instrs[start + 1:plan.end + 1]:
            self.translate_instr(instr)
        after = fx.fn.append_basic_block("loop.end")
        fx.builder.branch(after)
        return checked_header, after

    def translate_unchecked_body(self, instrs, start, plan):
        """The loop's body up to its condition, without bounds checks; returns the i1 of
        whether it goes on."""
        fx = self.fx
        fx.checked_accesses = False
        for instr in instrs[start + 1:plan.end - 1]:
            self.translate_instr(instr)
        fx.checked_accesses = True
        return self.is_true(self.pop())

    def widen_pointers(self, instrs, start, scan):
        """Before the scan loop at `start`: the 64-bit copies of its wide pointers
        (scan_loops.py, "Wide pointers"), under the 2 GiB limit only."""
        if not self.menv.signed_addresses:
            return
        b = self.fx.builder
        for local, (step, step_first) in wide_pointers(instrs, start, scan).items():
            if self.locals[local][1] != wasm_types.I32:
                continue
            slot = self.fx.prologue.alloca(I64)
            value = self.read_local(local)
            if step_first:
                first = b.zext(b.add(value, ir.Constant(I32, step)), I64)
                b.store(b.sub(first, ir.Constant(I64, step)), slot)
            else:
                b.store(b.zext(value, I64), slot)
            self.wide[local] = (slot, step)

    def enter_scan(self, scan):
        """After the header of a scan loop: its loads rely on the guard pages up to its end,
        and each iteration begins with a memory barrier (scan_loops.py)."""
        self.scan = scan
        self.guarded = True
        barrier(self.fx)

    def enter_scan_position(self, index):
        """Before the instruction at `index` of the scan loop: an exit tail starts behind a
        barrier of its own, and its loads are checked."""
        if index == self.scan.end:
            self.scan = None
            self.guarded = False
            self.wide = {}
            return
        if index in self.scan.tails and self.reachable:
            barrier(self.fx)
        self.guarded = self.scan.guarded(index)

    def translate_instr(self, instr):
        handler, extra = _HANDLERS[instr.op]
        handler(self, instr.imm, extra)
        if instr.op not in _UNOBSERVABLE:
            self.fx.close_checks()

    def read_local(self, index):
        slot, valtype = self.locals[index]
        return self.fx.builder.load(slot, typ=llvm_type(valtype))

    def _declare_locals(self):
        fx = self.fx
        for arg, valtype in zip(fx.fn.args[FIRST_PARAM:], self.functype.params):
            slot = fx.prologue.alloca(llvm_type(valtype))
            fx.prologue.store(arg, slot)
            self.locals.append((slot, valtype))
        for count, valtype in self.body.locals:
            typ = llvm_type(valtype)
            zero = ir.Constant(typ, None)
            for _ in range(count):
                slot = fx.prologue.alloca(typ)
                fx.prologue.store(zero, slot)
                self.locals.append((slot, valtype))

    # --- operand stack ----------------------------------------------------------------------

    def pop(self):
        return self.stack.pop()

    def pop_n(self, n):
        if n == 0:
            return []
        values = self.stack[-n:]
        del self.stack[-n:]
        return values

    def peek_n(self, n):
        return self.stack[len(self.stack) - n:]

    # --- control ----------------------------------------------------------------------------

    def block_type(self, blocktype):
        if blocktype is None:
            return FuncType((), ())
        if isinstance(blocktype, str):
            return FuncType((), (blocktype,))
        return self.menv.wasm.types[blocktype]

    def op_unreachable(self, imm, _):
        self.fx.trap(abi.TRAP_UNREACHABLE)
        self.reachable = False

    def op_nop(self, imm, _):
        pass

    def op_block(self, imm, _):
        bt = self.block_type(imm)
        self.frames.append(ControlFrame("block", bt.params, bt.results,
                                        len(self.stack) - len(bt.params), True,
                                        handler_depth=self.handler_depth))

    def op_loop(self, imm, _, check=True, stride=None):
        """`check=False`: each iteration calls a function that checks for an interruption
        (interruption.loops_calling_a_check). `stride`: see FunctionEnv.check_interrupt."""
        bt = self.block_type(imm)
        frame = ControlFrame("loop", bt.params, bt.results, len(self.stack) - len(bt.params), True,
                             handler_depth=self.handler_depth)
        self.frames.append(frame)
        self.stack.extend(enter_loop(self.fx, frame, self.pop_n(len(bt.params))))
        if check:
            self.fx.check_interrupt(stride)

    def op_if(self, imm, _):
        bt = self.block_type(imm)
        condition = self.is_true(self.pop())
        frame = ControlFrame("if", bt.params, bt.results, len(self.stack) - len(bt.params), True,
                             if_params=self.peek_n(len(bt.params)),
                             handler_depth=self.handler_depth)
        then_block = self.fx.fn.append_basic_block("then")
        frame.else_block = self.fx.fn.append_basic_block("else")
        self.fx.builder.cbranch(condition, then_block, frame.else_block)
        self.fx.builder.position_at_end(then_block)
        self.frames.append(frame)

    def op_else(self, imm, _):
        frame = self.frames[-1]
        if not frame.live:
            return
        if self.reachable:
            self.branch(frame, self.peek_n(len(frame.results)))
        del self.stack[frame.height:]
        self.stack.extend(frame.if_params)
        self.fx.builder.position_at_end(frame.else_block)
        frame.else_block = None
        self.reachable = True

    def op_end(self, imm, _):
        frame = self.frames.pop()
        if not frame.live:
            return
        if frame.kind == "loop":
            return      # the results are on the stack; branches went to the header
        if frame.kind == "try":
            self.end_try(frame)
            return
        if frame.kind == "try_table":
            if self.reachable:
                self.handlers.restore(frame.handler_depth)
            self.handler_depth = frame.handler_depth
        if frame.else_block is not None:
            # An if without else: the false edge passes the params through as results.
            if self.reachable:
                self.branch(frame, self.peek_n(len(frame.results)))
            self.fx.builder.position_at_end(frame.else_block)
            self.fx.builder.branch(branch_target(self.fx, frame, frame.if_params))
        elif self.reachable and not frame.edges:
            # Only the fall-through reaches the end: carry on in the same block.
            self.finish_frame(frame, self.pop_n(len(frame.results)))
            return
        elif self.reachable:
            self.branch(frame, self.peek_n(len(frame.results)))
        self.finish_frame(frame, close_merge(self.fx, frame))

    def finish_frame(self, frame, results):
        del self.stack[frame.height:]
        self.reachable = results is not None
        if results is None:
            return
        if frame.kind == "function":
            self.emit_return(results)
            self.reachable = False
        else:
            self.stack.extend(results)

    def emit_return(self, values):
        self.fx.isolate_terminator()
        builder = self.fx.builder
        if not values:
            builder.ret_void()
        elif returns_via_buffer(self.functype):
            store_slots(builder, self.fx.fn.args[-1], values, self.functype.results)
            builder.ret_void()
        else:
            builder.ret(values[0])

    def branch(self, frame, values):
        """Branch to `frame`'s label, ending the current block."""
        if frame.handler_depth < self.handler_depth:
            self.handlers.restore(frame.handler_depth)
        self.fx.builder.branch(branch_target(self.fx, frame, values))

    def edge_target(self, frame, values):
        """The block a conditional branch to `frame` goes to: its label, or, when the branch
        leaves try bodies, a block that puts the outer handler back first."""
        if frame.handler_depth >= self.handler_depth:
            return branch_target(self.fx, frame, values)
        b = self.fx.builder
        here = b.block
        edge = self.fx.fn.append_basic_block("try.leave")
        b.position_at_end(edge)
        self.branch(frame, values)
        b.position_at_end(here)
        return edge

    def label(self, depth):
        return self.frames[len(self.frames) - 1 - depth]

    def op_br(self, depth, _):
        frame = self.label(depth)
        self.branch(frame, self.peek_n(len(frame.branch_types)))
        self.reachable = False

    def op_br_if(self, depth, _):
        self.branch_if(self.is_true(self.pop()), depth)

    def branch_if(self, condition, depth):
        """Branch to label `depth` when `condition` (an i1) holds, else go on."""
        frame = self.label(depth)
        target = self.edge_target(frame, self.peek_n(len(frame.branch_types)))
        go_on = self.fx.fn.append_basic_block()
        self.fx.builder.cbranch(condition, target, go_on)
        self.fx.builder.position_at_end(go_on)

    def op_br_on_null(self, depth, _):
        ref = self.pop()
        self.branch_if(self.is_null(ref), depth)
        self.stack.append(ref)

    def op_br_on_non_null(self, depth, _):
        self.branch_if(self.fx.builder.not_(self.is_null(self.stack[-1])), depth)
        self.pop()

    def op_br_table(self, imm, _):
        depths, default = imm
        index = self.pop()
        arity = len(self.label(default).branch_types)
        values = self.peek_n(arity)
        self.fx.isolate_terminator()
        default_block = self.edge_target(self.label(default), values)
        switch = self.fx.builder.switch(index, default_block)
        for case, depth in enumerate(depths):
            switch.add_case(ir.Constant(I32, case), self.edge_target(self.label(depth), values))
        self.reachable = False

    def op_return(self, imm, _):
        self.op_br(len(self.frames) - 1, None)

    def is_true(self, value):
        return self.fx.builder.icmp_unsigned("!=", value, ir.Constant(I32, 0))

    def is_null(self, ref):
        return self.fx.builder.icmp_unsigned("==", ref, tables.ref_null(self.fx))

    # --- calls ------------------------------------------------------------------------------

    def op_call(self, func_index, _):
        functype = self.menv.func_types[func_index]
        args = self.pop_n(len(functype.params))
        self.stack.extend(calls.call(self.fx, func_index, args))

    def op_call_indirect(self, imm, _):
        type_index, table = imm
        index = self.pop()
        args = self.pop_n(len(self.menv.wasm.types[type_index].params))
        self.stack.extend(calls.call_indirect(self.fx, type_index, table, index, args))

    def leave_for_tail_call(self):
        """A tail call replaces this frame: its try bodies' buffers go with it."""
        if self.handler_depth:
            self.handlers.restore(0)

    def op_return_call(self, func_index, _):
        args = self.pop_n(len(self.menv.func_types[func_index].params))
        self.leave_for_tail_call()
        calls.return_call(self.fx, func_index, args)
        self.reachable = False

    def op_return_call_indirect(self, imm, _):
        type_index, table = imm
        index = self.pop()
        args = self.pop_n(len(self.menv.wasm.types[type_index].params))
        self.leave_for_tail_call()
        calls.return_call_indirect(self.fx, type_index, table, index, args)
        self.reachable = False

    def op_call_ref(self, type_index, _):
        ref = self.pop()
        args = self.pop_n(len(self.menv.wasm.types[type_index].params))
        self.stack.extend(calls.call_ref(self.fx, type_index, ref, args))

    def op_return_call_ref(self, type_index, _):
        ref = self.pop()
        args = self.pop_n(len(self.menv.wasm.types[type_index].params))
        self.leave_for_tail_call()
        calls.return_call_ref(self.fx, type_index, ref, args)
        self.reachable = False

    # --- exceptions (exceptions.py) ----------------------------------------------------------

    def op_throw(self, tag, _):
        params = self.menv.tag_types[tag].params
        self.throw(exceptions.new_exception(self.fx, tag, self.pop_n(len(params)), params))

    def op_throw_ref(self, imm, _):
        exn = self.pop()
        self.fx.trap_if(self.is_null(exn), abi.TRAP_NULL_EXCEPTION_REFERENCE)
        self.throw(exn)

    def op_rethrow(self, depth, _):
        self.throw(self.label(depth).exn)

    def throw(self, exn):
        exceptions.call_throw(self.menv, self.fx.builder, self.fx.exec_env(), exn)
        self.reachable = False

    def enter_try(self, kind, blocktype):
        """Push the frame of a try_table or legacy try and enter its body, leaving the
        builder at its landing code; returns the frame and the body's first block."""
        bt = self.block_type(blocktype)
        frame = ControlFrame(kind, bt.params, bt.results, len(self.stack) - len(bt.params), True,
                             handler_depth=self.handler_depth)
        landing = self.handlers.enter(self.handler_depth)
        body = self.fx.builder.block
        frame.exn = self.handlers.land(landing, self.handler_depth)
        return frame, body

    def op_try_table(self, imm, _):
        blocktype, catches = imm
        frame, body = self.enter_try("try_table", blocktype)
        self.dispatch(frame.exn, catches)
        self.fx.builder.position_at_end(body)
        self.frames.append(frame)
        self.handler_depth += 1

    def dispatch(self, exn, catches):
        """The landing code of a try_table: to the label of the first clause that catches
        `exn`, with its payload (and `exn` for the _ref clauses), or throw it on."""
        fx = self.fx
        for kind, tag, depth in catches:
            values = [exn] if kind in (opcodes.CATCH_REF, opcodes.CATCH_ALL_REF) else []
            if kind in (opcodes.CATCH_ALL, opcodes.CATCH_ALL_REF):
                self.branch(self.label(depth), values)
                return
            caught, other = fx.fn.append_basic_block("catch"), fx.fn.append_basic_block()
            fx.builder.cbranch(exceptions.tag_matches(fx, exn, tag), caught, other)
            fx.builder.position_at_end(caught)
            params = self.menv.tag_types[tag].params
            self.branch(self.label(depth), exceptions.payload(fx, exn, params) + values)
            fx.builder.position_at_end(other)
        exceptions.call_throw(self.menv, fx.builder, fx.exec_env(), exn)

    def op_try(self, blocktype, _):
        frame, body = self.enter_try("try", blocktype)
        frame.dispatch = self.fx.builder.block
        frame.in_body = True
        self.fx.builder.position_at_end(body)
        self.frames.append(frame)
        self.handler_depth += 1

    def end_section(self, frame):
        """The end of a legacy try's body or of one of its handlers: to the end of the try."""
        if self.reachable:
            self.branch(frame, self.peek_n(len(frame.results)))
        if frame.in_body:
            frame.in_body = False
            self.handler_depth = frame.handler_depth
        del self.stack[frame.height:]

    def op_catch(self, tag, _):
        frame = self.frames[-1]
        if not frame.live:
            return
        self.end_section(frame)
        fx = self.fx
        fx.builder.position_at_end(frame.dispatch)
        caught = fx.fn.append_basic_block("catch")
        frame.dispatch = fx.fn.append_basic_block()
        fx.builder.cbranch(exceptions.tag_matches(fx, frame.exn, tag), caught, frame.dispatch)
        fx.builder.position_at_end(caught)
        self.stack.extend(exceptions.payload(fx, frame.exn, self.menv.tag_types[tag].params))
        self.reachable = True

    def op_catch_all(self, imm, _):
        frame = self.frames[-1]
        if not frame.live:
            return
        self.end_section(frame)
        self.fx.builder.position_at_end(frame.dispatch)
        frame.dispatch = None
        self.reachable = True

    def end_try(self, frame):
        """`end` of a legacy try: an exception no handler caught is thrown on."""
        self.end_section(frame)
        if frame.dispatch is not None:
            self.fx.builder.position_at_end(frame.dispatch)
            self.throw(frame.exn)
        self.finish_frame(frame, close_merge(self.fx, frame))

    def op_delegate(self, depth, _):
        """Closes a legacy try: what its body throws is thrown on as if from the position of
        label `depth`, to the handler in effect there."""
        frame = self.frames.pop()
        if not frame.live:
            return
        self.end_section(frame)
        target = self.label(depth)
        target_depth = target.handler_depth + (target.kind == "try" and target.in_body)
        self.fx.builder.position_at_end(frame.dispatch)
        self.handlers.restore(target_depth)
        self.throw(frame.exn)
        self.finish_frame(frame, close_merge(self.fx, frame))

    # --- parametric, variables --------------------------------------------------------------

    def op_drop(self, imm, _):
        self.pop()

    def op_select(self, imm, _):
        condition = self.is_true(self.pop())
        b = self.pop()
        a = self.pop()
        self.stack.append(self.fx.builder.select(condition, a, b))

    def op_local_get(self, index, _):
        known = self.known_locals.get(index)
        if known is not None and known[0] is self.fx.region():
            value = known[1]
        else:
            value = self.read_local(index)
            self.known_locals[index] = (self.fx.region(), value)
        self.fx.address_roots.setdefault(value, index)
        self.stack.append(value)

    def op_local_set(self, index, _):
        self.set_local(index, self.pop())

    def op_local_tee(self, index, _):
        self.stack[-1] = self.set_local(index, self.stack[-1])

    def set_local(self, index, value):
        """Returns the value stored: for a wide pointer's step, the truncated copy."""
        if index in self.wide:
            slot, step = self.wide[index]
            b = self.fx.builder
            wide = b.add(b.load(slot, typ=I64), ir.Constant(I64, step))
            b.store(wide, slot)
            value = b.trunc(wide, I32)
        self.known_locals[index] = (self.fx.region(), value)
        self.fx.builder.store(value, self.locals[index][0])
        return value

    def wide_address(self, addr):
        """The 64-bit copy of the wide pointer whose current value `addr` is, or None."""
        for local, (slot, _) in self.wide.items():
            known = self.known_locals.get(local)
            if known is not None and known[1] is addr and known[0] is self.fx.region():
                return self.fx.builder.load(slot, typ=I64)
        return None

    def op_global_get(self, index, _):
        globaltype = self.menv.global_types[index]
        cell = self.fx.global_cell(index)
        # An immutable global never changes after instantiation.
        self.stack.append(self.fx.load(cell, 0, llvm_type(globaltype.valtype),
                                       invariant=not globaltype.mutable,
                                       align=_GLOBAL_CELL_ALIGN))

    def op_global_set(self, index, _):
        self.fx.builder.store(self.pop(), self.fx.global_cell(index), align=_GLOBAL_CELL_ALIGN)

    # --- constants, numeric -----------------------------------------------------------------

    def op_int_const(self, value, typ):
        self.stack.append(ir.Constant(typ, value))

    def op_float_const(self, bits, types):
        float_type, int_type = types
        self.stack.append(float_constant(float_type, int_type, bits))

    def op_unary(self, imm, lower):
        self.stack.append(lower(self.fx, self.pop()))

    def op_binary(self, imm, lower):
        b = self.pop()
        a = self.pop()
        self.stack.append(lower(self.fx, a, b))

    def op_ternary(self, imm, lower):
        self.stack.append(lower(self.fx, *self.pop_n(3)))

    # --- SIMD -------------------------------------------------------------------------------

    def op_v128_const(self, bits, _):
        self.stack.append(simd.v128_const(bits))

    def op_shuffle(self, indices, _):
        b = self.pop()
        a = self.pop()
        self.stack.append(simd.shuffle(self.fx, a, b, indices))

    def op_extract_lane(self, lane, lower):
        self.stack.append(lower(self.fx, self.pop(), lane))

    def op_replace_lane(self, lane, lower):
        scalar = self.pop()
        self.stack.append(lower(self.fx, self.pop(), scalar, lane))

    # --- memory -----------------------------------------------------------------------------

    def op_load(self, memarg, name):
        addr = self.pop()
        wide = self.wide_address(addr) if self.guarded and memarg[1:] == (0, 0) else None
        self.stack.append(memory.load(self.fx, name, memarg, addr, guarded=self.guarded,
                                      wide=wide))

    def op_store(self, memarg, name):
        value = self.pop()
        memory.store(self.fx, name, memarg, self.pop(), value)

    def op_v128_load(self, memarg, name):
        self.stack.append(simd_memory.load(self.fx, name, memarg, self.pop(),
                                           guarded=self.guarded))

    def op_v128_store(self, memarg, _):
        value = self.pop()
        simd_memory.store(self.fx, memarg, self.pop(), value)

    def op_load_lane(self, memarg_lane, name):
        vector = self.pop()
        self.stack.append(simd_memory.load_lane(self.fx, name, memarg_lane, self.pop(), vector,
                                                guarded=self.guarded))

    def op_store_lane(self, memarg_lane, name):
        vector = self.pop()
        simd_memory.store_lane(self.fx, name, memarg_lane, self.pop(), vector)

    def op_memory_size(self, index, _):
        self.stack.append(memory.memory_size(self.fx, index))

    def op_memory_grow(self, index, _):
        self.stack.append(memory.memory_grow(self.fx, index, self.pop()))

    def op_memory_fill(self, index, _):
        memory.memory_fill(self.fx, index, *self.pop_n(3))

    def op_memory_copy(self, indices, _):
        memory.memory_copy(self.fx, indices, *self.pop_n(3))

    def op_memory_init(self, imm, _):
        memory.memory_init(self.fx, imm, *self.pop_n(3))

    def op_data_drop(self, segment, _):
        memory.data_drop(self.fx, segment)

    # --- tables and references --------------------------------------------------------------

    def op_table_get(self, table, _):
        self.stack.append(tables.table_get(self.fx, table, self.pop()))

    def op_table_set(self, table, _):
        tables.table_set(self.fx, table, *self.pop_n(2))

    def op_table_size(self, table, _):
        self.stack.append(tables.table_size(self.fx, table))

    def op_table_grow(self, table, _):
        self.stack.append(tables.table_grow(self.fx, table, *self.pop_n(2)))

    def op_table_fill(self, table, _):
        tables.table_fill(self.fx, table, *self.pop_n(3))

    def op_table_copy(self, imm, _):
        tables.table_copy(self.fx, *imm, *self.pop_n(3))

    def op_table_init(self, imm, _):
        segment, table = imm
        tables.table_init(self.fx, segment, table, *self.pop_n(3))

    def op_elem_drop(self, segment, _):
        tables.elem_drop(self.fx, segment)

    def op_ref_null(self, imm, _):
        self.stack.append(tables.ref_null(self.fx))

    def op_ref_is_null(self, imm, _):
        self.stack.append(tables.ref_is_null(self.fx, self.pop()))

    def op_ref_as_non_null(self, imm, _):
        self.fx.trap_if(self.is_null(self.stack[-1]), abi.TRAP_NULL_REFERENCE)

    def op_ref_func(self, func_index, _):
        self.stack.append(tables.ref_func(self.fx, func_index))


def float_constant(float_type, int_type, bits):
    """A float constant with exactly these bits. Infinities and NaNs go through an integer
    bitcast: the IR text writes float literals from a Python float, which would not keep a NaN
    payload. Every other value is exact as a Python float, and stays a plain constant that
    the float lowering can recognise."""
    if int_type == I32:
        special = bits & 0x7F800000 == 0x7F800000
        value = struct.unpack("<f", struct.pack("<I", bits))[0]
    else:
        special = bits & 0x7FF0000000000000 == 0x7FF0000000000000
        value = struct.unpack("<d", struct.pack("<Q", bits))[0]
    if special:
        return ir.Constant(int_type, bits).bitcast(float_type)
    return ir.Constant(float_type, value)


def _build_handlers():
    """opcode -> (FunctionTranslator method, extra argument passed to it)."""
    t = FunctionTranslator
    named = {
        "unreachable": t.op_unreachable, "nop": t.op_nop, "block": t.op_block,
        "loop": t.op_loop, "if": t.op_if, "else": t.op_else, "end": t.op_end,
        "br": t.op_br, "br_if": t.op_br_if, "br_table": t.op_br_table,
        "return": t.op_return, "call": t.op_call, "call_indirect": t.op_call_indirect,
        "return_call": t.op_return_call, "return_call_indirect": t.op_return_call_indirect,
        "call_ref": t.op_call_ref, "return_call_ref": t.op_return_call_ref,
        "br_on_null": t.op_br_on_null, "br_on_non_null": t.op_br_on_non_null,
        "ref.as_non_null": t.op_ref_as_non_null,
        "throw": t.op_throw, "throw_ref": t.op_throw_ref, "rethrow": t.op_rethrow,
        "try_table": t.op_try_table, "try": t.op_try, "catch": t.op_catch,
        "catch_all": t.op_catch_all, "delegate": t.op_delegate,
        "drop": t.op_drop, "select": t.op_select, "select_t": t.op_select,
        "local.get": t.op_local_get, "local.set": t.op_local_set, "local.tee": t.op_local_tee,
        "global.get": t.op_global_get, "global.set": t.op_global_set,
        "memory.size": t.op_memory_size, "memory.grow": t.op_memory_grow,
        "memory.fill": t.op_memory_fill, "memory.copy": t.op_memory_copy,
        "memory.init": t.op_memory_init, "data.drop": t.op_data_drop,
        "table.get": t.op_table_get, "table.set": t.op_table_set,
        "table.size": t.op_table_size, "table.grow": t.op_table_grow,
        "table.fill": t.op_table_fill, "table.copy": t.op_table_copy,
        "table.init": t.op_table_init, "elem.drop": t.op_elem_drop,
        "ref.null": t.op_ref_null, "ref.is_null": t.op_ref_is_null,
        "ref.func": t.op_ref_func,
        "v128.const": t.op_v128_const, "i8x16.shuffle": t.op_shuffle,
        "v128.store": t.op_v128_store,
    }
    handlers = {opcodes.NAMES[name]: (method, None) for name, method in named.items()}
    handlers[opcodes.NAMES["i32.const"]] = (t.op_int_const, I32)
    handlers[opcodes.NAMES["i64.const"]] = (t.op_int_const, I64)
    handlers[opcodes.NAMES["f32.const"]] = (t.op_float_const, (F32, I32))
    handlers[opcodes.NAMES["f64.const"]] = (t.op_float_const, (F64, I64))
    for name, lower in {**numeric.UNARY, **simd.UNARY}.items():
        handlers[opcodes.NAMES[name]] = (t.op_unary, lower)
    for name, lower in {**numeric.BINARY, **simd.BINARY}.items():
        handlers[opcodes.NAMES[name]] = (t.op_binary, lower)
    for name in memory.LOADS:
        handlers[opcodes.NAMES[name]] = (t.op_load, name)
    for name in memory.STORES:
        handlers[opcodes.NAMES[name]] = (t.op_store, name)
    for name, lower in simd.TERNARY.items():
        handlers[opcodes.NAMES[name]] = (t.op_ternary, lower)
    for name, lower in simd.EXTRACT_LANE.items():
        handlers[opcodes.NAMES[name]] = (t.op_extract_lane, lower)
    for name, lower in simd.REPLACE_LANE.items():
        handlers[opcodes.NAMES[name]] = (t.op_replace_lane, lower)
    for name in simd_memory.LOADS:
        handlers[opcodes.NAMES[name]] = (t.op_v128_load, name)
    for name in simd_memory.LANE_LOADS:
        handlers[opcodes.NAMES[name]] = (t.op_load_lane, name)
    for name in simd_memory.LANE_STORES:
        handlers[opcodes.NAMES[name]] = (t.op_store_lane, name)
    return handlers


_HANDLERS = _build_handlers()
# Instructions that open a frame, and those that end a part of one, which matter in
# unreachable code too.
_OPENERS = frozenset([opcodes.BLOCK, opcodes.LOOP, opcodes.IF, opcodes.TRY_TABLE, opcodes.TRY])
_SECTION_ENDS = frozenset([opcodes.ELSE, opcodes.END, opcodes.CATCH_LEGACY,
                           opcodes.CATCH_ALL_LEGACY, opcodes.DELEGATE])


def _unobservable_ops():
    """Instructions that neither change anything outside the function nor can trap, other
    than by their own bounds check, nor branch: bounds checks may be widened across them."""
    pure_handlers = {
        FunctionTranslator.op_unary, FunctionTranslator.op_binary, FunctionTranslator.op_ternary,
        FunctionTranslator.op_int_const, FunctionTranslator.op_float_const,
        FunctionTranslator.op_v128_const, FunctionTranslator.op_shuffle,
        FunctionTranslator.op_extract_lane, FunctionTranslator.op_replace_lane,
        FunctionTranslator.op_load, FunctionTranslator.op_v128_load,
        FunctionTranslator.op_load_lane, FunctionTranslator.op_nop, FunctionTranslator.op_drop,
        FunctionTranslator.op_select, FunctionTranslator.op_local_get,
        FunctionTranslator.op_local_set, FunctionTranslator.op_local_tee,
        FunctionTranslator.op_global_get, FunctionTranslator.op_memory_size,
        FunctionTranslator.op_ref_null, FunctionTranslator.op_ref_is_null,
        FunctionTranslator.op_ref_func}
    trapping = {opcodes.NAMES[f"{t}.{op}"] for t in ("i32", "i64")
                for op in ("div_s", "div_u", "rem_s", "rem_u", "trunc_f32_s", "trunc_f32_u",
                           "trunc_f64_s", "trunc_f64_u")}
    return frozenset(op for op, (handler, _) in _HANDLERS.items()
                     if handler in pure_handlers and op not in trapping)


_UNOBSERVABLE = _unobservable_ops()
