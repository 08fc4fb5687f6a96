"""Translation of one WebAssembly function into the source of one Python function.

Nothing is dispatched at run time: wasm locals become Python locals `l0, l1, ...`, and the
operand stack exists only while translating. Each stack entry is an `Operand`, a Python
expression not yet evaluated; pure instructions combine their operands' expressions, so
`local.get 0; i32.const 1; i32.add; local.set 1` becomes `l1 = ((l0 + 1) % 4294967296)`.
An instruction that can trap or has an effect (loads, stores, calls, divisions) is emitted as
a statement in program order, its result going into the stack variable `s<height>`. Block and
loop results and loop parameters live in the stack variables of their heights too, so every
path into a label assigns the same names.

Control flow: a wasm `if` becomes a Python `if`; a `loop` that some branch targets becomes
`while True:` (a branch to it is `continue`, falling out of it is `break`); a `block` becomes
nothing at all. A branch that must skip forward to the end of a block sets the flag `_br` to
the label's id, and the code between the branch and the label's end runs under
`if not _br:` guards; the label's end clears the flag. A branch out of a Python loop whose end
is the target's end (the loop is the block's last instruction, a clang `while` loop) is a
plain `break`; otherwise it sets the flag and breaks, and the guards take over. `return`, and
any branch to the function's label, is a Python `return`. A tail call returns a request to
the function's trampoline (tail_calls.py). A try_table or legacy try becomes a Python `try`
statement whose `except Thrown` clause does what the catch clauses or handlers say
(exceptions.py).

Operands that read a local (or a global) are evaluated into their stack variable before the
variable is written, and before any construct that may write it, so that a deferred read
always sees the value of its program point.

Loads are deferred too, folded into the expression that uses them (`x[i] = y[j] * a + x[i]`
is one line), as long as program order holds: every emitted statement first evaluates the
loads still on the stack, in stack order, and only pure instructions, loads, stores and
variable accesses let them wait (LOAD_SAFE); a template that would evaluate its operands out
of order, twice or conditionally gets them evaluated first. A trap inside a folded load is
still reported at the load: its text is marked, and the line records the columns it spans.
In a loop, a typed view whose alignment cannot change is picked once before the loop
(loop_views.py, `view_of`), and so is an index through a local the loop does not write
(`index_before`); elsewhere the first access through a local holds its view and index for
the accesses after it that it dominates (`held_view`). A counted loop whose stepped locals
provably cannot wrap is emitted twice, the copy without their wraps under a test made on
entry (loop_ranges.py, `version_loop`).
"""

import functools
import re
from typing import NamedTuple

from ..errors import WasmError
from ..fuel import run_costs
from ..opcodes import CATCH_ALL_REF, CATCH_REF, DELEGATE, NAMES
from ..types import ByRepresentation
from . import layout
from .loop_ranges import counted_loop, unwrapped_copy
from .loop_views import invariant_alignments
from .numeric import f32_from_bits, f64_from_bits
from .operators import ALIGNED, LOADS, MODULAR, NUMERIC, STORES
from .simd_operators import (LANE_LOADS, LANE_OPERATORS, LANE_STORES, VECTOR_LOADS,
                             VECTOR_NUMERIC, VECTOR_STORES, EXTENDING_LOADS, lanes_product,
                             widened_twice)
from .structure import Construct, build_tree, unassigned_reads

M32 = 0xFFFFFFFF
M64 = 0xFFFFFFFFFFFFFFFF
# What the effective address of an access to a 64-bit memory (up to 2**65) is clamped to:
# past the end of any bytearray, yet an offset struct accepts (a larger one raises
# OverflowError, not the error that stands for the out-of-bounds trap).
ADDRESS_END = 2**63 - 1
LOCAL_DEFAULTS = ByRepresentation({"i32": "0", "i64": "0", "f32": "0.0", "f64": "0.0",
                                   "v128": "0", "funcref": "None", "externref": "None",
                                   "exnref": "None"})
_BR_IF = NAMES["br_if"]
# Labels a branch reaches at the construct's end, as a block's: what `_br` flags and
# `br_if 0` shortcuts work for.
_BLOCK_LIKE = ("block", "if", "try_table", "try")
TAIL_CALLS = frozenset([NAMES["return_call"], NAMES["return_call_indirect"],
                        NAMES["return_call_ref"]])
TAIL_EXIT = -1              # the exit of an outlined part that makes a tail call
INDENT = "\t"               # one character per level keeps the source small to compile
MAX_EXPRESSION = 160        # longer operands are evaluated into their stack variable
MAX_INDENT = 50             # deeper constructs are outlined (Python allows 100 levels)
MAX_LOOPS = 16              # loops and try statements nested deeper are outlined (Python
                            # allows 20 nested blocks of both together)
_LOCAL = re.compile(r"l(\d+)\Z")
_HOLD = re.compile(r"(_[pq]\d+) := ")     # a held view's (or its index's) assignment
MAX_COUNTED_LINES = 200     # longer counted loops are emitted once (version_loop)
_ATOM = re.compile(r"[A-Za-z_0-9.]+\Z|\(-[0-9.e+-]+\)\Z")   # a name or a number literal
# A deferred load's text is marked `START offset TEXT load END` until its line is emitted
# (characters generated code never contains otherwise).
_LOAD_START, _LOAD_TEXT, _LOAD_END = "\x01", "\x02", "\x03"
_LOAD_MARK = re.compile("[\x01-\x03]")
# A typed view's address: a local, or a local plus or minus a constant (operators._add/_sub).
_LOCAL_ADDRESS = re.compile(r"l(\d+)\Z|\(\(l(\d+) ([+-]) (\d+)\) % 4294967296\)\Z")
# A line a derived alignment (loop_views) survives: an assignment to a name or an element.
_ASSIGNMENT = re.compile(r"([\w.]+)(\[[^=]*\])? = ")


class Unsupported(WasmError):
    """A valid module the interpreter cannot run: a function nested too deeply for Python's
    compiler."""


class Operand(NamedTuple):
    text: str                    # a Python expression
    reads: frozenset = frozenset()   # local indices (int) and global names (str) it reads
    temp: int = -1               # the highest stack variable it reads (-1: none)
    cond: bool = False           # a Python bool (a comparison) rather than an int
    unwrapped: str = None        # for a MODULAR instruction's result, the expression before
                                 # its final wrap, which a MODULAR consumer can use instead
    loads: bool = False          # it reads memory (a deferred load, see push_load)


class Label:
    """A wasm control frame as the translator sees it."""

    __slots__ = ("kind", "id", "base", "n_params", "n_results", "loop_level", "is_last",
                 "python_loop", "landing", "exit_flags", "branched", "exit_code", "try_body",
                 "caught")

    def __init__(self, kind, label_id, base, n_params, n_results, loop_level, is_last):
        self.kind = kind
        self.id = label_id
        self.base = base                # stack height below the construct's parameters
        self.n_params = n_params
        self.n_results = n_results
        self.loop_level = loop_level    # Python loops around the construct
        self.is_last = is_last          # last instruction of the enclosing body
        self.python_loop = False        # a loop emitted as `while True:`
        self.landing = set()            # labels whose end is where breaking this loop lands
        self.exit_flags = set()         # labels that `_br = id; break` out of this loop targets
        self.branched = 0               # emitted branches to this label
        self.exit_code = None           # kind 'exit': the label outside an outlined part
        self.try_body = False           # inside the body of this try_table or try
        self.caught = None              # in a legacy try's handler: the caught exception

    def branch_vars(self):
        """The variables a branch to this label assigns: a loop's parameters, else results."""
        count = self.n_params if self.kind == "loop" else self.n_results
        return [f"s{self.base + i}" for i in range(count)]


class FunctionTranslator:
    """Translates defined function `func_index` of `module` (an interp Module, for its
    decoded module and the tables it derives from it once)."""

    def __init__(self, module, func_index, outer=None):
        self.module = module
        self.types = module.decoded.types
        self.func_types = module.func_types
        self.global_types = module.global_types
        self.global_cells = module.global_cells
        # Memories and tables by index; a 64-bit one's sizes are i64s (memory64).
        self.memory_types = module.decoded.all_memories()
        self.table_types = module.decoded.all_tables()
        self.func_index = func_index
        self.type = module.func_types[func_index]
        self.body = module.decoded.codes[func_index - module.decoded.num_imported_funcs]
        self.tail_calls = outer.tail_calls if outer else any(
            instr.op in TAIL_CALLS for instr in self.body.body)
        self.tag_types = module.tag_types
        self.delegates = outer.delegates if outer else any(
            instr.op == DELEGATE for instr in self.body.body)
        # With fuel: each run's cost by the byte offset of its first instruction (the tree
        # keeps offsets, of constructs too).
        self.fuel_costs = {}
        if module.fuel:
            instrs = self.body.body
            self.fuel_costs = {instrs[i].offset: cost
                               for i, cost in run_costs(instrs).items()}
        self.lines = []
        self.offsets = []             # per line: module offset of the instruction it is for
        self.offset = None            # that of the instruction being translated
        self.line_offsets = None      # per line of the source, once made (see translate)
        self.indent = 1
        self.stack = []               # Operands
        self.labels = []              # enclosing Labels, innermost last
        self.python_loops = []        # enclosing Labels emitted as Python loops
        self.pending = set()          # label ids `_br` may hold at this point (besides 0)
        self.guards = []              # (pending before the guard, line count) per open guard
        self.open_tries = 0           # enclosing Python `try` statements
        self.label_count = 0
        self.uses_flag = False
        self.assigned_globals = set()
        # Outlining (see emit_outlined): the translator of the whole function collects the
        # sources of the outlined parts; a part's translator knows what it must return.
        self.function = outer.function if outer else self
        self.outlined = []            # (source, line offsets) of outlined parts (whole-
                                      # function translator)
        self.written = []             # locals an outlined part hands back
        self.exit_width = 0           # values an outlined part hands back
        self.used_exits = set()
        self.address_count = 0
        self.maybe_loads = False      # a deferred load may be on the stack (see emit)
        # Typed views picked before a loop (loop_views.py): per enclosing Python loop, a
        # dict with its invariant alignments, where its `while` line is and the views it
        # picks; and `derived`, local -> (local, constant, indentation) for a local just
        # set to another plus a constant, until the next line that is not an assignment.
        self.loop_views = []
        self.derived = {}
        self.view_count = 0
        # Views held from an access through a local to later ones (held_view): (view, local
        # index) -> (view variable, index variable), while every later access is dominated
        # by the first and neither the local nor the memory's views changed since.
        self.held = {}
        self.reheld = set()           # held view and index variables a later access used
        self.free_else = None         # (line count, indent) just after an `if` statement
                                      # whose else branch is free (mark_free_else)

    # ------------------------------------------------------------------ entry points

    def translate(self):
        """The source of `def f<index>(...)` (followed by the functions of outlined parts;
        for a function that makes tail calls, `def t<index>` and `f<index> = TRAMPOLINE(...)`).
        Afterwards `line_offsets[n - 1]` is the module offset of the instruction line n of
        the source was made for, or None (a trap's backtrace reads it)."""
        params = self.type.params
        results = self.type.results
        local_types = list(params) + [t for count, t in self.body.locals for _ in range(count)]
        tree = build_tree(self.body.body, self.body.offset)
        label = self.new_label("func", 0, 0, len(results), False)
        self.labels.append(label)
        self.emit_body(tree.body, label)

        init = []
        by_default = {}
        # Locals every path writes before reading need no zero (an outlined part takes the
        # locals it uses as arguments, assigned or not).
        unassigned = (range(len(params), len(local_types)) if self.outlined
                      else sorted(unassigned_reads(tree, len(params))))
        for i in unassigned:
            by_default.setdefault(LOCAL_DEFAULTS[local_types[i]], []).append(f"l{i}")
        for default, local_names in by_default.items():
            for start in range(0, len(local_names), 200):
                init.append(f"{INDENT}{' = '.join(local_names[start:start + 200])} = {default}")
        names = [f"l{i}" for i in range(len(params))]
        if self.tail_calls:
            body = layout.tail_body(self.func_index)
            parts = [self.source(body, names, init), *self.outlined,
                     (f"{layout.func(self.func_index)} = {layout.TRAMPOLINE}({body})\n", [None])]
        else:
            parts = [self.source(layout.func(self.func_index), names, init)] + self.outlined
        self.line_offsets = [offset for _, offsets in parts for offset in offsets]
        return "".join(source for source, _ in parts)

    def translate_part(self, name, node, inputs):
        """The source of `def <name>(...)` running construct `node` alone (see
        emit_outlined). The stack below the construct's inputs is not reachable from it."""
        base = len(self.stack)
        self.stack.extend(Operand(f"s{base + i}", temp=base + i) for i in range(inputs))
        reachable = self.emit_construct(node, False)
        if reachable:
            self.emit_exit(0, self.pop_n(len(self.stack) - base))
        names = [f"l{i}" for i in sorted(node.uses_locals)]
        names += [f"s{base + i}" for i in range(inputs)]
        return self.source(name, names, []), reachable

    def source(self, name, params, init):
        """The function's source, and the module offset each of its lines is for."""
        header = [f"def {name}({', '.join(params)}):"]
        if self.assigned_globals:
            header.append(f"{INDENT}global {', '.join(sorted(self.assigned_globals))}")
        header += init
        if self.uses_flag:
            header.append(INDENT + "_br = 0")
        if not self.lines:
            self.emit("pass")
        lines, line_offsets = self.lines, self.offsets
        if self.view_count:
            lines = _unhold(lines, self.reheld)
        offsets = [None] * len(header)
        for line, offset in zip(lines, line_offsets):
            offsets += [offset] * (line.count("\n") + 1)
        return "\n".join(header + lines) + "\n\n", offsets + [None]

    # ------------------------------------------------------------------ output

    def emit(self, line, pure=False):
        """Emit a statement, after the deferred loads on the stack (they come first in
        program order, and the statement may trap or write memory), unless it is `pure`:
        it assigns a local or temporary variable no deferred load reads, and cannot trap."""
        if self.maybe_loads and not pure:
            self.flush_loads()
        if self.derived:
            self.forget_derived(line)
        line = INDENT * self.indent + line
        offset = self.offset
        if _LOAD_START in line:
            line, spans = _load_spans(line)
            offset = (offset, spans)
        self.lines.append(line)
        self.offsets.append(offset)

    def flush_loads(self, keep=0):
        """Evaluate the deferred loads on the stack (all but the top `keep` entries) into
        their stack variables, in program order."""
        if not self.maybe_loads:
            return
        for height in range(len(self.stack) - keep):
            op = self.stack[height]
            if op.loads:
                self.stack[height] = Operand(f"s{height}", temp=height, cond=op.cond)
                self.emit(f"s{height} = {op.text}", pure=True)
        if not keep:
            self.maybe_loads = False

    def forget_derived(self, line):
        """Keep the derived alignments (see view_of) only across assignments at the same
        indentation, and not that of a local just assigned again."""
        assigned = _ASSIGNMENT.match(line)
        if assigned is None:
            self.derived.clear()
        else:
            self.derived = {local: fact for local, fact in self.derived.items()
                            if fact[2] == self.indent and f"l{local}" != assigned[1]}

    def end_suite(self, start):
        """Close an indented suite begun at line `start` (Python wants one statement)."""
        if len(self.lines) == start:
            self.emit("pass")
        self.indent -= 1

    def open_guard(self):
        self.emit("if not _br:")
        self.indent += 1
        self.guards.append((self.pending, len(self.lines)))
        self.pending = set()

    def close_guard(self):
        before, start = self.guards.pop()
        self.end_suite(start)
        self.pending = before | self.pending

    def guard_if_pending(self, guarded):
        """Before an item: if a branch may have set the flag, put what follows under a fresh
        guard (closing the previous one, so guards stay flat). Returns whether one is open."""
        if not self.pending:
            return guarded
        if guarded:
            self.close_guard()
        self.open_guard()
        return True

    # ------------------------------------------------------------------ operand stack

    def value(self, op):
        """The operand as an int-valued (or float, or reference) expression."""
        return f"(1 if {op.text} else 0)" if op.cond else op.text

    def push(self, op):
        height = len(self.stack)
        if op.temp > height or len(op.text) > MAX_EXPRESSION:
            op = self.spill(op, height)
        elif op.loads:
            self.maybe_loads = True
        self.stack.append(op)

    def fill(self, template, operands, modular=False):
        """The template with the popped operands filled in. An operand the template uses
        more than once is evaluated into its stack variable first, and so are deferred
        loads unless the template evaluates each operand once, in order. A `modular`
        template (operators.MODULAR) takes its operands without their own final wrap."""
        height = len(self.stack)
        spill_loads = self.maybe_loads and _any_loads(operands) and not _in_order(template)
        texts = []
        for i, op in enumerate(operands):
            if (op.loads and spill_loads
                    or template.count(f"{{{i}}}") > 1 and not _ATOM.match(op.text)):
                op = operands[i] = self.spill(op, height + i)
            texts.append(op.unwrapped if modular and op.unwrapped else self.value(op))
        return template.format(*texts)

    def push_expr(self, template, operands, cond=False, modular=False):
        """Push a pure expression built from popped operands."""
        text = self.fill(template, operands, modular)
        reads = frozenset().union(*(op.reads for op in operands))
        temp = max((op.temp for op in operands), default=-1)
        unwrapped = None
        if modular:                               # the wrap is its last operation
            unwrapped = f"({text[:max(text.rfind(' % '), text.rfind(' & '))]})"
        self.push(Operand(f"({text})", reads, temp, cond, unwrapped, _any_loads(operands)))

    def push_load(self, text, base):
        """Push a load from memory as a deferred operand: its consumer evaluates it, unless
        a statement comes first (see emit). The marks around it let a trap inside it find
        the load's offset in the module (_load_spans)."""
        mark = f"{_LOAD_START}{self.offset}{_LOAD_TEXT}"
        self.push(Operand(f"({mark}{text}{_LOAD_END})", base.reads, base.temp, loads=True))

    def push_statement(self, expr):
        """Evaluate `expr` now into the next stack variable and push that."""
        height = len(self.stack)
        self.emit(f"s{height} = {expr}")
        self.stack.append(Operand(f"s{height}", temp=height))

    def condition(self, op):
        """The popped condition `op` as the test of an `if`: where the last line evaluated it
        into its stack variable (which push does when it reads a variable above it), that
        line's expression instead, without the store and load."""
        prefix = f"{INDENT * self.indent}{op.text} = "
        if (op.cond and op.text == f"s{len(self.stack)}" and self.lines
                and self.lines[-1].startswith(prefix)):
            self.offsets.pop()
            return self.lines.pop()[len(prefix):]
        return op.text

    def spill(self, op, height):
        """Evaluate an operand into the stack variable of its height (a comparison stays a
        bool there)."""
        name = f"s{height}"
        spilled = Operand(name, temp=height, cond=op.cond)
        if op.text != name:
            if height < len(self.stack) and self.stack[height] is op:
                self.stack[height] = spilled        # so that emit does not flush it again
            self.emit(f"{name} = {op.text}", pure=not op.loads)
        return spilled

    def address_variable(self, op):
        """Evaluate an address used twice (a typed view's `a & 3`, `a >> 2`) into a variable
        of its own, `_a<n>`: no later statement writes it before the access is evaluated, so
        the load stays a deferred operand where `s<height>` would make its user spill."""
        self.address_count += 1
        name = f"_a{self.address_count}"
        self.emit(f"{name} = {op.text}", pure=not op.loads)
        return Operand(name)

    def pop(self):
        return self.stack.pop()

    def pop_n(self, n):
        if not n:
            return []
        ops = self.stack[-n:]
        del self.stack[-n:]
        return ops

    def spill_reading(self, locals_=frozenset(), globals_=False):
        """Evaluate every stacked operand that reads one of `locals_` (or any global)."""
        for height, op in enumerate(self.stack):
            if op.reads and (not op.reads.isdisjoint(locals_) or globals_ and any(
                    isinstance(key, str) for key in op.reads)):
                self.stack[height] = self.spill(op, height)

    def assign(self, targets, operands):
        """Assign operands to variables, all right-hand sides first."""
        pairs = [(t, self.value(op)) for t, op in zip(targets, operands) if op.text != t]
        if len(pairs) == 1:
            self.emit(f"{pairs[0][0]} = {pairs[0][1]}")
        elif pairs:
            self.emit(f"{', '.join(t for t, _ in pairs)} = {', '.join(v for _, v in pairs)}")

    # ------------------------------------------------------------------ structure

    def new_label(self, kind, base, n_params, n_results, is_last):
        self.label_count += 1
        return Label(kind, self.label_count, base, n_params, n_results,
                     len(self.python_loops), is_last)

    def block_type(self, blocktype):
        if blocktype is None:
            return (), ()
        if isinstance(blocktype, str):
            return (), (blocktype,)
        functype = self.types[blocktype]
        return functype.params, functype.results

    def emit_body(self, items, label, start=0):
        """Emit a construct's body (from item `start` on) and, if control can fall out of it,
        the assignment of the label's results (or the return, for the function). Returns
        whether it falls out."""
        guarded = False
        reachable = True
        last = len(items) - 1
        for i in range(start, len(items)):
            item = items[i]
            if self.pending:
                guarded = self.guard_if_pending(guarded)
            self.offset = item.offset
            if self.fuel_costs:
                self.charge_fuel(item.offset)
            if type(item) is Construct:
                reachable = self.emit_construct(item, i == last)
                if self.free_else == (len(self.lines), self.indent) and i < last:
                    reachable = self.emit_else_rest(items, i + 1, label)
                    break
            elif (item.op == _BR_IF and item.imm == 0 and label.kind in _BLOCK_LIKE
                  and not label.python_loop):
                self.flush_loads(1)                 # its condition is evaluated by its `if`
                reachable = self.emit_br_if_out(items, i + 1, label)
                break
            elif item.op == _BR_IF and self.sets_flag(self.labels[-1 - item.imm]):
                self.flush_loads(1)
                reachable = self.emit_br_if_flag(items, i + 1, label, item.imm)
                break
            else:
                if self.maybe_loads and item.op not in LOAD_SAFE:
                    # Deferred loads wait only across instructions that keep them in order.
                    self.flush_loads(item.op == _BR_IF)
                reachable = HANDLERS[item.op](self, item.imm)
            if not reachable:
                break
        else:
            guarded = self.guard_if_pending(guarded)
            results = self.pop_n(label.n_results)
            if label.kind == "func":
                self.emit_return(results)
            else:
                self.assign([f"s{label.base + i}" for i in range(label.n_results)], results)
        if guarded:
            self.close_guard()
        return reachable

    def charge_fuel(self, offset):
        """At the start of a run: charge its cost, or trap (runtime/fuel.py)."""
        cost = self.fuel_costs.get(offset)
        if cost:
            self.emit(f"if {layout.FUEL}[0] < {cost}: {layout.OUT_OF_FUEL}()")
            self.emit(f"{layout.FUEL}[0] -= {cost}")

    def emit_br_if_out(self, items, rest, label):
        """`br_if 0` out of a block or if: the rest of the body becomes the else branch, so
        no flag is needed. Returns whether the rest falls out of the body."""
        cond = self.pop()
        label.branched += 1
        others = label.branched
        values = self.stack[len(self.stack) - label.n_results:] if label.n_results else []
        if values:
            self.emit(f"if {self.condition(cond)}:")
            self.indent += 1
            start = len(self.lines)
            self.assign(label.branch_vars(), values)
            self.end_suite(start)
            self.emit("else:")
        else:
            self.emit(f"if not {self.condition(cond)}:")
        self.indent += 1
        start = len(self.lines)
        falls = self.emit_body(items, label, rest)
        self.end_suite(start)
        if not (values or falls) and label.branched == others:
            self.mark_free_else()       # the label's end is reached by the else branch only
        return falls

    def mark_free_else(self):
        """The `if` statement just emitted has no else branch, and control reaches what
        follows it only where its condition is false: the rest of the enclosing body can be
        that else branch (emit_else_rest)."""
        self.free_else = (len(self.lines), self.indent)

    def sets_flag(self, target):
        """Whether a branch to label `target` from here sets the flag (and breaks nothing)."""
        return (target.kind in _BLOCK_LIKE and not target.python_loop
                and target.loop_level == len(self.python_loops))

    def emit_br_if_flag(self, items, rest, label, depth):
        """A `br_if` that sets the flag: the rest of the body becomes its else branch, which
        needs no guard, as the flag is clear there. Returns whether the rest falls out."""
        self.emit(f"if {self.condition(self.pop())}:")
        self.indent += 1
        self.branch(depth)
        self.indent -= 1
        return self.emit_else_rest(items, rest, label)

    def emit_else_rest(self, items, rest, label):
        """The rest of a body as the else branch of the `if` just emitted, whose then branch
        does not fall out (so the flag is clear wherever the rest runs)."""
        self.free_else = None
        flagged, self.pending = self.pending, set()
        else_line = len(self.lines)
        self.emit("else:")
        self.indent += 1
        falls = self.emit_body(items, label, rest)
        self.indent -= 1
        if len(self.lines) == else_line + 1:
            del self.lines[else_line]
            del self.offsets[else_line]
        self.pending |= flagged
        return falls

    def emit_construct(self, node, is_last):
        python_block = node.kind in ("try_table", "try") or (node.kind == "loop"
                                                              and node.targeted)
        kept = self.held_after(node)
        if self.indent >= MAX_INDENT or (
                python_block and len(self.python_loops) + self.open_tries >= MAX_LOOPS):
            reachable = self.emit_outlined(node)
            self.held = kept
            return reachable
        params, results = self.block_type(node.blocktype)
        cond = self.pop() if node.kind == "if" else None
        self.flush_loads()                      # the construct's statements come after them
        self.spill_reading(node.writes_locals, node.writes_globals)
        base = len(self.stack) - len(params)
        label = self.new_label(node.kind, base, len(params), len(results), is_last)
        if python_block or node.kind == "block" and self.one_shot_loop(node):
            self.held = dict(kept)              # what each iteration (or handler) starts with
        if node.kind == "if":
            reachable = self.emit_if(node, label, cond)
        elif node.kind == "loop" and node.targeted:
            reachable = self.emit_loop(node, label)
        elif node.kind == "block" and self.one_shot_loop(node):
            reachable = self.emit_loop(node, label)
        elif node.kind == "try_table":
            reachable = self.emit_try_table(node, label)
        elif node.kind == "try":
            reachable = self.emit_try(node, label)
        else:                         # a block, or a loop nothing branches back to
            self.labels.append(label)
            reachable = self.emit_body(node.body, label)
            self.labels.pop()
        self.held = kept                        # branches from inside reach the end too
        return self.finish_construct(label, reachable)

    def finish_construct(self, label, falls_through):
        """At a construct's end: clear the flag if a branch set it for this label, and leave
        the results on the stack. Returns whether the end is reachable."""
        if label.id in self.pending:
            if self.pending == {label.id}:
                self.emit("_br = 0")
            else:
                self.emit(f"if _br == {label.id}:")
                self.emit(INDENT + "_br = 0")
            self.pending.discard(label.id)
        del self.stack[label.base:]
        reachable = falls_through or (label.branched and label.kind != "loop")
        if reachable:
            for i in range(label.n_results):
                self.stack.append(Operand(f"s{label.base + i}", temp=label.base + i))
        return reachable

    def emit_if(self, node, label, cond):
        saved = list(self.stack)
        held = dict(self.held)
        self.emit(f"if {self.condition(cond)}:")
        self.indent += 1
        start = len(self.lines)
        self.labels.append(label)
        then_falls = self.emit_body(node.body, label)
        self.end_suite(start)
        then_pending, self.pending = self.pending, set()
        self.stack = saved
        self.held = held
        else_line = len(self.lines)
        self.emit("else:")
        self.indent += 1
        else_falls = self.emit_body(node.orelse or [], label)
        self.indent -= 1
        if len(self.lines) == else_line + 1:
            del self.lines[else_line]
            del self.offsets[else_line]
            if not (then_falls or node.orelse or label.branched or label.n_params
                    or label.n_results):
                self.mark_free_else()
        self.labels.pop()
        self.pending |= then_pending
        return then_falls or else_falls

    def one_shot_loop(self, node):
        """Whether block `node` becomes `while True: ... break`, so that a branch out of it
        from any depth of `if`s is a `break` rather than a flag that every construct end and
        statement group up to the block's end tests. Not for a block a br_table targets (its
        flags are one tuple lookup), nor one that a branch inside leaves for a label further
        out without leaving a Python loop (`crossed`: its plain break, continue or flag would
        become a flag and a break), nor where the loop would take a nesting level that the
        Python loops and `try` statements inside need (or much indentation)."""
        return (node.far_targeted and not node.table_targeted and not node.crossed
                and len(self.python_loops) + self.open_tries + 1 + node.python_depth
                <= MAX_LOOPS
                and self.indent < MAX_INDENT // 2)

    def emit_loop(self, node, label):
        """A targeted loop, or a block as a one-shot loop (`one_shot_loop`): `while True:`
        whose body ends with `break`; a branch to the label is `continue` for a loop,
        `break` for a block."""
        if label.kind == "loop":
            params = self.pop_n(label.n_params)
            param_vars = label.branch_vars()
            self.assign(param_vars, params)
            for i, name in enumerate(param_vars):
                self.stack.append(Operand(name, temp=label.base + i))
        label.python_loop = True
        label.landing = self.landing_labels(label)
        self.flush_loads()
        counted = counted_loop(node) if label.kind == "loop" and not label.n_params else None
        views = {"alignments": invariant_alignments(node), "writes": node.writes_locals,
                 "header": len(self.lines), "indent": self.indent, "picked": {}}
        self.emit("while True:")
        self.indent += 1
        self.labels.append(label)
        self.python_loops.append(label)
        self.loop_views.append(views)
        falls = self.emit_body(node.body, label)
        self.loop_views.pop()
        self.pick_views_before(views)
        self.python_loops.pop()
        self.labels.pop()
        if label.id in self.pending:          # a nested loop broke out to continue this one
            self.emit_continue_check(label)
        self.emit("break")
        self.indent -= 1
        if counted and len(self.lines) - views["header"] <= MAX_COUNTED_LINES:
            self.version_loop(views["header"], counted)
        self.pending |= label.exit_flags
        if self.python_loops and self.python_loops[-1].id in self.pending:
            self.emit_continue_check(self.python_loops[-1])
        return falls

    def version_loop(self, header, counted):
        """Put the loop just emitted from line `header` on under `if <test>:` in a copy
        whose sums of stepped locals and constants are not wrapped, and the original under
        `else:` (loop_ranges.py). Only for loops of up to MAX_COUNTED_LINES lines: each
        copy doubles the code, that of the loops inside included."""
        found = unwrapped_copy(counted, self.lines[header:], self.offsets[header:],
                               self.indent)
        if found is None:
            return
        guard, fast = found
        slow = zip(self.lines[header:], self.offsets[header:])
        prefix = INDENT * self.indent
        entry = _shift_spans(self.offsets[header], 0)
        lines = ([(f"{prefix}if {guard}:", entry)]
                 + [(INDENT + line, _shift_spans(offset, 1)) for line, offset in fast]
                 + [(f"{prefix}else:", entry)]
                 + [(INDENT + line, _shift_spans(offset, 1)) for line, offset in slow])
        self.lines[header:] = [line for line, _ in lines]
        self.offsets[header:] = [offset for _, offset in lines]
        self.free_else = None
        self.derived.clear()

    def pick_views_before(self, loop):
        """Insert the assignments of the views the loop's accesses used (see view_of) before
        its `while` line."""
        lines = [INDENT * loop["indent"] + f"{name} = {pick}"
                 for pick, name in loop["picked"].items()]
        header = loop["header"]
        self.lines[header:header] = lines
        self.offsets[header:header] = [self.offsets[header]] * len(lines)

    def view_of(self, view, size, base):
        """The variable holding `view[x & (size - 1)]` picked before an enclosing loop, for an
        access at the address `base` (a text: x, or x plus a constant multiple of size),
        when x's alignment is the same throughout that loop (loop_views.py); else None."""
        found = _LOCAL_ADDRESS.match(base)
        if not found or not self.loop_views:
            return None
        if found[1]:
            local, step = int(found[1]), 0
        else:
            local, step = int(found[2]), int(found[4])
        if local in self.derived:
            local, more, indent = self.derived[local]
            if indent != self.indent:
                return None
            step += more
        if step % size:
            return None
        chosen = None
        for loop in reversed(self.loop_views):
            alignments = loop["alignments"]
            if alignments is None or (local in loop["writes"]
                                      and alignments.get(local, 1) % size):
                break
            chosen = loop
        if chosen is None:
            return None
        pick = f"{view}[l{local} & {size - 1}]"
        if pick not in chosen["picked"]:
            self.view_count += 1
            chosen["picked"][pick] = f"_h{self.view_count}"
        return chosen["picked"][pick]

    def held_view(self, view, size, base):
        """(view, index) texts for an aligned access through a local, or a local plus a
        multiple of the size (`base`, a text), where no enclosing loop picks the view: the
        first such access assigns the view, and the local's index, to variables of their
        own (`(_p1 := MI[l2 & 3])[(_q1 := l2 >> 2) + 4]`), later ones use them
        (`_p1[_q1 + 11]`), until the local is set, the memory may have grown (a call,
        memory.grow), or control leaves the construct of the first access (held_after).
        None for another base, and in a try body (a handler may start from any point)."""
        found = _LOCAL_ADDRESS.match(base)
        if found is None or self.open_tries:
            return None
        if found[1]:
            local, step = int(found[1]), None
        else:
            local, step = int(found[2]), int(found[4])
            if step % size:
                return None
        shift = size.bit_length() - 1
        key = (view, local)
        view_name, index_name = self.held.get(key, (None, None))
        if view_name is None:
            self.view_count += 1
            view_name = f"_p{self.view_count}"
            view_text = f"({view_name} := {view}[l{local} & {size - 1}])"
        else:
            self.reheld.add(view_name)
            view_text = view_name
        if step is not None:                    # the sum keeps the local's alignment
            index_text = f"({base} >> {shift})"
        elif index_name is None:
            index_name = "_q" + view_name[2:]
            index_text = f"({index_name} := l{local} >> {shift})"
        else:
            self.reheld.add(index_name)
            index_text = index_name
        self.held[key] = view_name, index_name
        return view_text, index_text

    def held_after(self, node):
        """The held views (held_view) still good after construct `node`, and at the start of
        each iteration if it is a loop: those of locals it does not set, if it cannot grow
        memory. Views first picked inside it are not: a branch may skip their access."""
        if node.may_grow:
            return {}
        return {key: held for key, held in self.held.items()
                if key[1] not in node.writes_locals}

    def index_before(self, base, index):
        """The variable holding `index`, an index into a view picked before a loop, computed
        before the innermost loop when the access runs in every iteration (at the top of
        the loop's body) and the loop does not write the local of `base` (x, or x plus a
        constant): nbody's `_h2[(l1 >> 3) + 4]` becomes `_h2[_i5]`. Else None (an index
        computed for an access in a branch seldom taken costs more than it saves)."""
        found = _LOCAL_ADDRESS.match(base)
        if not found or not self.loop_views:
            return None
        local = int(found[1] or found[2])
        loop = self.loop_views[-1]
        if (local in self.derived or local in loop["writes"]
                or self.indent != loop["indent"] + 1):
            return None
        if index not in loop["picked"]:
            self.view_count += 1
            loop["picked"][index] = f"_i{self.view_count}"
        return loop["picked"][index]

    def emit_try_body(self, node, label):
        """`try:` and the body of a try_table or legacy try. Returns whether the body falls
        out, and leaves the stack as it was below the construct's parameters."""
        saved = self.stack[:label.base]
        self.emit("try:")
        self.indent += 1
        start = len(self.lines)
        self.labels.append(label)
        label.try_body = True
        self.open_tries += 1
        falls = self.emit_body(node.body, label)
        self.open_tries -= 1
        label.try_body = False
        self.labels.pop()
        self.end_suite(start)
        self.stack = saved
        self.emit(f"except {layout.THROWN} as _e:")
        if self.delegates:            # an exception a delegate passes on past this try
            self.emit(INDENT + "if _e.skip:")
            self.emit(INDENT * 2 + "_e.skip -= 1")
            self.emit(INDENT * 2 + "raise")
        return falls

    def emit_try_table(self, node, label):
        """A try_table: the except clause branches to the label of the first catch clause
        that matches (exceptions.py)."""
        falls = self.emit_try_body(node, label)
        body_pending, self.pending = self.pending, set()
        self.indent += 1
        first = True
        for kind, tag, depth in node.catches:
            target = self.labels[-1 - depth]     # counted from outside the try_table
            values = []
            conditional = tag is not None or not first
            if tag is not None:
                self.emit(f"{'if' if first else 'elif'} _e.tag is {layout.tag(tag)}:")
                values = [Operand(f"_e.payload[{i}]")
                          for i in range(len(self.tag_types[tag].params))]
            elif not first:
                self.emit("else:")
            first = False
            if kind == CATCH_REF or kind == CATCH_ALL_REF:
                values.append(Operand("_e"))
            self.indent += conditional
            self.stack.extend(values)
            self.branch_to(target)
            del self.stack[len(self.stack) - len(values):]
            self.indent -= conditional
            if tag is None:             # catch_all: the clauses after it never match
                break
        else:
            if not first:
                self.emit("else:")
            self.emit(INDENT * (not first) + "raise")
        self.indent -= 1
        self.pending |= body_pending
        return falls

    def emit_try(self, node, label):
        """A legacy try: the except clause keeps the exception in `_c<id>` (or, for a try
        closed by `delegate`, passes it on), and after the `try` statement the handler of
        its tag runs, or catch_all's (exceptions.py)."""
        caught = f"_c{label.id}"
        if node.handlers:
            self.emit(f"{caught} = None")
        falls = self.emit_try_body(node, label)
        self.indent += 1
        if node.delegate is not None:
            skip = sum(outer.try_body for outer in self.labels[len(self.labels) - node.delegate:])
            if skip:
                self.emit(f"_e.skip = {skip}")
            self.emit("raise")
        elif node.handlers:
            self.emit(f"{caught} = _e")
        else:
            self.emit("raise")
        self.indent -= 1
        if not node.handlers:
            return falls
        body_pending, self.pending = self.pending, set()
        pending = set()
        saved = list(self.stack)
        self.emit(f"if {caught} is not None:")
        self.indent += 1
        outer_start = len(self.lines)
        label.caught = caught
        self.labels.append(label)
        first = True
        for tag, body in node.handlers:
            conditional = tag is not None or not first
            if tag is not None:
                self.emit(f"{'if' if first else 'elif'} {caught}.tag is {layout.tag(tag)}:")
            elif not first:
                self.emit("else:")
            first = False
            self.indent += conditional
            start = len(self.lines)
            self.stack = list(saved)
            if tag is not None:
                self.stack.extend(Operand(f"{caught}.payload[{i}]")
                                  for i in range(len(self.tag_types[tag].params)))
            falls = self.emit_body(body, label) or falls
            pending |= self.pending
            self.pending = set()
            if conditional:
                self.end_suite(start)
            if tag is None:             # catch_all: the handlers after it never run
                break
        else:
            self.emit("else:")
            self.emit(f"{INDENT}raise {caught}")
        self.labels.pop()
        label.caught = None
        self.end_suite(outer_start)
        self.stack = saved
        self.pending = body_pending | pending
        return falls

    def emit_continue_check(self, loop):
        """After a nested Python loop broke out to branch to `loop`: do it."""
        self.emit("if _br:" if self.pending == {loop.id} else f"if _br == {loop.id}:")
        self.emit(INDENT + "_br = 0")
        self.emit(INDENT + ("continue" if loop.kind == "loop" else "break"))
        self.pending.discard(loop.id)

    def landing_labels(self, loop):
        """Labels whose end is the end of `loop`: it is the last instruction of their body,
        with nothing of theirs below it on the stack, or of a construct's that is, and so on.
        Breaking the Python loop reaches them: falling out of an enclosing Python loop's body
        is its final `break`."""
        found = set()
        child = loop
        for parent in reversed(self.labels):
            if parent.kind in ("func", "exit"):
                break
            if not child.is_last or child.base != parent.base:
                break
            if parent.kind != "loop":
                found.add(parent.id)
            child = parent
        return found

    # ------------------------------------------------------------------ branches

    def branch(self, depth):
        """Emit a branch to the label `depth` levels out, its values on top of the stack."""
        self.branch_to(self.labels[-1 - depth])

    def branch_to(self, label):
        label.branched += 1
        targets = label.branch_vars()
        values = self.stack[len(self.stack) - len(targets):] if targets else []
        if label.kind == "func":
            self.emit_return(values)
            return
        if label.kind == "exit":
            self.emit_exit(label.exit_code, values)
            return
        self.assign(targets, values)
        if label.python_loop and self.python_loops[-1] is label:
            self.emit("continue" if label.kind == "loop" else "break")
        elif self.python_loops and label.id in self.python_loops[-1].landing:
            self.emit("break")
        elif not label.python_loop and label.loop_level == len(self.python_loops):
            self.emit(f"_br = {label.id}")
            self.uses_flag = True
            self.pending.add(label.id)
        else:
            self.break_with_flag(label)

    def break_with_flag(self, label):
        self.emit(f"_br = {label.id}")
        self.emit("break")
        self.uses_flag = True
        self.python_loops[-1].exit_flags.add(label.id)

    def emit_return(self, values):
        texts = [self.value(op) for op in values]
        if not texts:
            self.emit("return")
        elif len(texts) == 1:
            self.emit(f"return {texts[0]}")
        else:
            self.emit(f"return ({', '.join(texts)})")

    # ------------------------------------------------------------------ outlining

    def emit_outlined(self, node):
        """Translate a construct nested too deeply for Python (100 indentation levels, 20
        nested loops) into a function of its own, and call it.

        The function receives the locals the construct uses and its inputs (parameters, and
        the condition of an `if`); it returns a tuple (exit, written locals..., values...):
        exit 0 when control falls out of the construct, exit k when it branches to the k-th
        enclosing label (counted from the function's), carrying that branch's values. The
        caller assigns the locals back and performs the exit as its own branch."""
        params, results = self.block_type(node.blocktype)
        self.flush_loads()
        inputs = self.pop_n(len(params) + (node.kind == "if"))
        self.spill_reading(node.writes_locals, node.writes_globals)
        base = len(self.stack)
        outlined = self.function.outlined
        slot = len(outlined)
        outlined.append(None)               # parts outlined from this one come after it
        name = f"{layout.func(self.func_index)}_{slot + 1}"

        part = FunctionTranslator(self.module, self.func_index, self)
        part.stack = [Operand("<unreachable>")] * base
        part.written = [f"l{i}" for i in sorted(node.writes_locals)]
        for code, label in enumerate(self.labels, 1):
            exit_label = part.new_label("exit", label.base, 0, len(label.branch_vars()), False)
            exit_label.exit_code = code
            exit_label.try_body = label.try_body        # for delegate's count
            part.labels.append(exit_label)
        part.exit_width = max([len(results), int(self.tail_calls)]
                              + [len(label.branch_vars()) for label in self.labels])
        source, reachable = part.translate_part(name, node, len(inputs))
        outlined[slot] = source

        values = [f"_v{i}" for i in range(part.exit_width)]
        args = [f"l{i}" for i in sorted(node.uses_locals)] + [self.value(op) for op in inputs]
        self.emit(f"{', '.join(['_x'] + part.written + values)}, = {name}({', '.join(args)})")
        keyword = "if"
        for code in sorted(part.used_exits):
            self.emit(f"{keyword} _x == {code}:")
            keyword = "elif"
            self.indent += 1
            if code == TAIL_EXIT:
                if self.labels[0].kind == "func":
                    self.emit("return _v0")
                else:
                    self.emit_exit(TAIL_EXIT, [Operand("_v0")])
                self.indent -= 1
                continue
            label = self.labels[code - 1]
            arity = len(label.branch_vars())
            self.stack.extend(Operand(v) for v in values[:arity])
            self.branch_to(label)
            del self.stack[len(self.stack) - arity:]
            self.indent -= 1
        if reachable:
            targets = [f"s{base + i}" for i in range(len(results))]
            if keyword == "elif":
                self.emit("else:")
                self.indent += 1
            start = len(self.lines)
            self.assign(targets, [Operand(v) for v in values[:len(results)]])
            if keyword == "elif":
                self.end_suite(start)
            self.stack.extend(Operand(t, temp=base + i) for i, t in enumerate(targets))
        return reachable

    def emit_exit(self, code, values):
        """Leave an outlined part (see emit_outlined)."""
        if code:
            self.used_exits.add(code)
        padding = ["None"] * (self.exit_width - len(values))
        items = [str(code)] + self.written + [self.value(op) for op in values] + padding
        self.emit(f"return ({', '.join(items)},)")

    def is_plain_flag(self, depth):
        """Whether a branch to this label only sets the flag (no values, no loop to leave)."""
        label = self.labels[-1 - depth]
        return (label.kind in _BLOCK_LIKE and label.n_results == 0 and not label.python_loop
                and label.loop_level == len(self.python_loops))

    # ------------------------------------------------------------------ instructions
    # Each handler takes the immediate and returns whether the next instruction is reachable.

    def op_unreachable(self, _):
        self.emit("raise Trap(TrapCode.UNREACHABLE)")
        return False

    def op_nop(self, _):
        return True

    def op_br(self, depth):
        self.branch(depth)
        return False

    def op_br_if(self, depth):
        self.branch_if(self.condition(self.pop()), depth)
        return True

    def branch_if(self, cond, depth):
        """Branch to the label `depth` levels out when the Python expression `cond` holds."""
        self.emit(f"if {cond}:")
        self.indent += 1
        self.branch(depth)
        self.indent -= 1

    def op_br_table(self, imm):
        depths, default = imm
        index = self.pop()
        if all(d == default for d in depths):
            self.branch(default)
            return False
        if not _ATOM.match(index.text):
            index = self.spill(index, len(self.stack))
        i = self.value(index)
        if all(self.is_plain_flag(d) for d in (*depths, default)):
            ids = tuple(self.labels[-1 - d].id for d in depths)
            default_id = self.labels[-1 - default].id
            self.emit(f"_br = {ids}[{i}] if {i} < {len(ids)} else {default_id}")
            self.uses_flag = True
            for d in {*depths, default}:
                self.labels[-1 - d].branched += 1
                self.pending.add(self.labels[-1 - d].id)
            return False
        cases = {}
        for position, depth in enumerate(depths):
            if depth != default:
                cases.setdefault(depth, []).append(position)
        keyword = "if"
        for depth, positions in cases.items():
            if positions[-1] - positions[0] == len(positions) - 1:
                test = (f"{i} == {positions[0]}" if len(positions) == 1
                        else f"{positions[0]} <= {i} <= {positions[-1]}")
            else:
                test = f"{i} in {{{', '.join(map(str, positions))}}}"
            self.emit(f"{keyword} {test}:")
            self.indent += 1
            self.branch(depth)
            self.indent -= 1
            keyword = "elif"
        self.emit("else:")
        self.indent += 1
        self.branch(default)
        self.indent -= 1
        return False

    def op_return(self, _):
        self.branch_to(self.labels[0])      # the function's label (or its exit)
        return False

    def emit_call(self, callee, functype):
        args = self.pop_n(len(functype.params))
        self.spill_reading(globals_=True)
        self.held = {}                          # the callee may grow memory
        call = f"{callee}({', '.join(self.value(op) for op in args)})"
        height = len(self.stack)
        n = len(functype.results)
        if n == 0:
            self.emit(call)
        elif n == 1:
            self.push_statement(call)
        else:
            names = [f"s{height + i}" for i in range(n)]
            self.emit(f"{', '.join(names)} = {call}")
            self.stack.extend(Operand(name, temp=height + i) for i, name in enumerate(names))

    def op_call(self, func_index):
        self.emit_call(layout.func(func_index), self.func_types[func_index])
        return True

    def op_call_indirect(self, imm):
        self.check_indirect_callee(imm)
        self.emit_call("_f.call", self.types[imm[0]])
        return True

    def check_indirect_callee(self, imm):
        """`_f = ` the table element call_indirect calls, after its checks."""
        type_index, table_index = imm
        index = self.spilled(self.pop())
        i = self.value(index)
        table = layout.table(table_index)
        self.emit(f"_f = {table}[{i}] if {i} < len({table}) else None")
        self.emit(f"if _f is None or _f.type is not {layout.functype(type_index)}: "
                  f"call_indirect_fail({table}, {i}, _f)")

    def op_call_ref(self, type_index):
        self.check_ref_callee()
        self.emit_call("_f.call", self.types[type_index])
        return True

    def check_ref_callee(self):
        """`_f = ` the function call_ref calls, after its null check."""
        self.emit(f"_f = {self.value(self.pop())}")
        self.emit("if _f is None: raise Trap(TrapCode.NULL_FUNCTION_REFERENCE)")

    def op_return_call(self, func_index):
        self.emit_tail_call(f"{layout.FUNCS}[{func_index}].tail", self.func_types[func_index])
        return False

    def op_return_call_indirect(self, imm):
        self.check_indirect_callee(imm)
        self.emit_tail_call("_f.tail", self.types[imm[0]])
        return False

    def op_return_call_ref(self, type_index):
        self.check_ref_callee()
        self.emit_tail_call("_f.tail", self.types[type_index])
        return False

    def emit_tail_call(self, target, functype):
        """Return the request for a tail call to `target` (tail_calls.py)."""
        args = [self.value(op) for op in self.pop_n(len(functype.params))]
        request = f"{layout.TAIL_CALL}({target}, ({', '.join(args)}{',' * (len(args) == 1)}))"
        if self.labels[0].kind == "func":
            self.emit(f"return {request}")
        else:
            self.emit_exit(TAIL_EXIT, [Operand(request)])

    def op_throw(self, tag):
        args = [self.value(op) for op in self.pop_n(len(self.tag_types[tag].params))]
        self.emit(f"raise {layout.THROWN}({layout.tag(tag)}, "
                  f"({', '.join(args)}{',' * (len(args) == 1)}))")
        return False

    def op_throw_ref(self, _):
        self.emit(f"{layout.THROW_REF}({self.value(self.pop())})")
        return False

    def op_rethrow(self, depth):
        caught = self.labels[-1 - depth].caught
        if caught is None:
            raise Unsupported("rethrow of an exception caught outside an outlined construct "
                              f"in function {self.func_index}")
        self.emit(f"{layout.THROW_REF}({caught})")
        return False

    def op_drop(self, _):
        """A dropped value is not computed unless it may trap (a deferred load); one that the
        last line computed (`s2 = f3(...)`, a call or load) is not assigned: the line becomes
        the expression alone, its effects and traps kept."""
        op = self.pop()
        if op.loads:                            # it may still trap
            self.emit(op.text)
        elif op.text == f"s{len(self.stack)}":
            self.retarget_last_statement(op.text, None)
        return True

    def op_select(self, _):
        operands = self.pop_n(3)
        if operands[0].loads or operands[1].loads:
            # Python evaluates the condition first, then one of the two.
            height = len(self.stack)
            operands = [self.spill(op, height + i) if op.loads else op
                        for i, op in enumerate(operands)]
        a, b, cond = operands
        self.push(Operand(f"({self.value(a)} if {cond.text} else {self.value(b)})",
                          a.reads | b.reads | cond.reads, max(a.temp, b.temp, cond.temp),
                          loads=cond.loads))
        return True

    def op_local_get(self, index):
        self.push(Operand(f"l{index}", frozenset((index,))))
        return True

    def op_local_set(self, index):
        op = self.pop()
        name = f"l{index}"
        if op.text == name:
            return True
        self.derived.pop(index, None)
        if self.held:
            self.held = {key: held for key, held in self.held.items() if key[1] != index}
        if any(index in other.reads for other in self.stack):
            self.spill_reading(frozenset((index,)))
        elif (not op.cond and op.text == f"s{len(self.stack)}"
              and self.retarget_last_statement(op.text, name)):
            return True
        self.emit(f"{name} = {self.value(op)}", pure=not op.loads)   # no trap sees locals
        found = _LOCAL_ADDRESS.match(op.text) if self.loop_views else None
        if found and found[2]:
            self.derived[index] = (int(found[2]), int(found[4]), self.indent)
        return True

    def retarget_last_statement(self, temp, name):
        """If the last line computed stack variable `temp` (`s3 = load(...)`), just popped,
        make it assign `name` instead, saving a copy, or, for no `name`, leave the expression
        alone (a dropped value). Returns whether it did."""
        prefix = INDENT * self.indent + temp + " = "
        if self.lines and self.lines[-1].startswith(prefix):
            target = f"{name} = " if name else ""
            self.lines[-1] = INDENT * self.indent + target + self.lines[-1][len(prefix):]
            if isinstance(self.offsets[-1], tuple):
                offset, spans = self.offsets[-1]
                shift = len(target) - len(temp) - len(" = ")
                self.offsets[-1] = (offset, tuple((start + shift, end + shift, at)
                                                  for start, end, at in spans))
            return True
        return False

    def op_local_tee(self, index):
        self.op_local_set(index)
        return self.op_local_get(index)

    def op_global_get(self, index):
        if index in self.global_cells:
            name = layout.global_cell(index)
            self.push(Operand(f"{name}.stored", frozenset((name,))))
        else:
            name = layout.global_var(index)
            mutable = self.global_types[index].mutable
            self.push(Operand(name, frozenset((name,)) if mutable else frozenset()))
        return True

    def op_global_set(self, index):
        op = self.pop()
        if index in self.global_cells:
            # Two imports may be the same Global object: any cell read may see this write.
            self.spill_reading(globals_=True)
            target = f"{layout.global_cell(index)}.stored"
        else:
            target = layout.global_var(index)
            self.assigned_globals.add(target)
            self.spill_reading(frozenset((target,)))
        self.emit(f"{target} = {self.value(op)}")
        return True

    def op_table_get(self, table_index):
        index = self.pop()
        self.push_statement(f"table_get({layout.table(table_index)}, {self.value(index)})")
        return True

    def op_table_set(self, table_index):
        ref = self.pop()
        index = self.pop()
        self.emit(f"table_set({layout.table(table_index)}, {self.value(index)}, "
                  f"{self.value(ref)})")
        return True

    def op_memory_size(self, memory):
        self.push_statement(f"len({layout.memory(memory)}) >> 16")
        return True

    def op_memory_grow(self, memory):
        delta = self.pop()
        mask = size_mask(self.memory_types[memory])
        self.push_statement(f"{layout.memory_object(memory)}.grow({self.value(delta)}) & {mask}")
        self.held = {}
        return True

    def is_64_bit(self, memory):
        return self.memory_types[memory].address_type == "i64"

    def op_i32_const(self, value):
        self.push(Operand(str(value & M32)))
        return True

    def op_i64_const(self, value):
        self.push(Operand(str(value & M64)))
        return True

    def op_f32_const(self, bits):
        self.push(Operand(float_literal(f32_from_bits(bits), f"f32_from_bits({bits:#x})")))
        return True

    def op_f64_const(self, bits):
        self.push(Operand(float_literal(f64_from_bits(bits), f"f64_from_bits({bits:#x})")))
        return True

    def op_v128_const(self, value):
        self.push(Operand(f"{value:#x}"))
        return True

    def op_ref_null(self, _):
        self.push(Operand("None"))
        return True

    def op_ref_is_null(self, _):
        self.push_expr("{0} is None", [self.pop()], cond=True)
        return True

    def op_ref_as_non_null(self, _):
        ref = self.spilled(self.pop())
        self.emit(f"if {ref.text} is None: raise Trap(TrapCode.NULL_REFERENCE)")
        self.push(ref)
        return True

    def op_br_on_null(self, depth):
        ref = self.spilled(self.pop())
        self.branch_if(f"{ref.text} is None", depth)
        self.push(ref)
        return True

    def op_br_on_non_null(self, depth):
        ref = self.spilled(self.pop())
        self.push(ref)
        self.branch_if(f"{ref.text} is not None", depth)
        self.pop()
        return True

    def spilled(self, op):
        """The popped operand `op` as a name, to be used more than once."""
        return op if _ATOM.match(op.text) else self.spill(op, len(self.stack))

    def op_ref_func(self, func_index):
        self.push(Operand(f"{layout.FUNCS}[{func_index}]"))
        return True

    def op_eqz(self, _):
        op = self.pop()
        self.push(Operand(f"(not {op.text})", op.reads, op.temp, True, loads=op.loads))
        return True

    def op_memory_init(self, imm):
        segment, memory = imm
        dest, src, n = (self.value(op) for op in self.pop_n(3))
        self.emit(f"memory_init({layout.memory(memory)}, {layout.DATA}[{segment}], {dest}, "
                  f"{src}, {n})")
        return True

    def op_data_drop(self, segment):
        self.emit(f"{layout.DATA}[{segment}] = b''")
        return True

    def op_memory_copy(self, memories):
        dest_memory, src_memory = memories
        dest, src, n = (self.value(op) for op in self.pop_n(3))
        self.emit(f"memory_copy({layout.memory(dest_memory)}, {layout.memory(src_memory)}, "
                  f"{dest}, {src}, {n})")
        return True

    def op_memory_fill(self, memory):
        dest, value, n = (self.value(op) for op in self.pop_n(3))
        self.emit(f"memory_fill({layout.memory(memory)}, {dest}, {value}, {n})")
        return True

    def op_table_init(self, imm):
        segment, table_index = imm
        dest, src, n = (self.value(op) for op in self.pop_n(3))
        self.emit(f"table_init({layout.table(table_index)}, {layout.ELEMS}[{segment}], "
                  f"{dest}, {src}, {n})")
        return True

    def op_elem_drop(self, segment):
        self.emit(f"{layout.ELEMS}[{segment}] = ()")
        return True

    def op_table_copy(self, imm):
        dest_table, src_table = imm
        dest, src, n = (self.value(op) for op in self.pop_n(3))
        self.emit(f"table_copy({layout.table(dest_table)}, {layout.table(src_table)}, "
                  f"{dest}, {src}, {n})")
        return True

    def op_table_grow(self, table_index):
        init, n = (self.value(op) for op in self.pop_n(2))
        mask = size_mask(self.table_types[table_index])
        self.push_statement(f"{layout.table_object(table_index)}.grow({n}, {init}) & {mask}")
        return True

    def op_table_size(self, table_index):
        self.push_statement(f"len({layout.table(table_index)})")
        return True

    def op_table_fill(self, table_index):
        dest, ref, n = (self.value(op) for op in self.pop_n(3))
        self.emit(f"table_fill({layout.table(table_index)}, {dest}, {ref}, {n})")
        return True


def _load_spans(line):
    """The line without its load marks, and the spans (start column, end column, module
    offset) of the loads in it: a trap inside one is that load's (boundary.py)."""
    start = line.find(_LOAD_START)
    if line.find(_LOAD_START, start + 1) < 0:          # one load: the usual line
        text = line.find(_LOAD_TEXT, start)
        end = line.find(_LOAD_END, text)
        stripped = line[:start] + line[text + 1:end] + line[end + 1:]
        return stripped, ((start, end - (text + 1 - start), int(line[start + 1:text])),)
    out = []
    spans = []
    open_loads = []
    column = 0
    position = 0
    for mark in _LOAD_MARK.finditer(line):
        text = line[position:mark.start()]
        position = mark.end()
        if mark.group() == _LOAD_TEXT:                  # text is the offset
            open_loads[-1] = (column, int(text))
            continue
        out.append(text)
        column += len(text)
        if mark.group() == _LOAD_START:
            open_loads.append(None)
        else:
            start, offset = open_loads.pop()
            spans.append((start, column, offset))
    out.append(line[position:])
    return "".join(out), tuple(spans)


def _unhold(lines, reheld):
    """The lines without the assignments of held views no later access used (held_view):
    blanks of the same length, so that the columns of the loads stay where they were."""
    def blank(found):
        return found[0] if found[1] in reheld else " " * len(found[0])
    return [_HOLD.sub(blank, line) if ":=" in line else line for line in lines]


def _shift_spans(offset, columns):
    """An offset entry whose load spans are `columns` further right (its line indented)."""
    if not isinstance(offset, tuple):
        return offset
    return offset[0], tuple((start + columns, end + columns, at)
                            for start, end, at in offset[1])


def _any_loads(operands):
    for op in operands:
        if op.loads:
            return True
    return False


@functools.lru_cache(maxsize=4096)
def _in_order(template):
    """Whether a template evaluates each of its operands once, first operand first, and
    unconditionally: deferred loads in them then run in program order."""
    if any(word in template for word in (" if ", " or ", " and ", " for ", "lambda")):
        return False
    positions = []
    for i in range(3):
        count = template.count(f"{{{i}}}")
        if count > 1:
            return False
        if count:
            positions.append(template.index(f"{{{i}}}"))
    return positions == sorted(positions)


def size_mask(externtype):
    """The mask of a memory's or table's size as an integer (-1 of a failed grow included)."""
    return M64 if externtype.address_type == "i64" else M32


def literal_value(text):
    """The number an operand's text is a literal for, else None."""
    if text.isdigit():
        return int(text)
    if text[0].isdigit() or text.startswith("(-"):
        try:
            return float(text.strip("()"))
        except ValueError:
            return None
    return None


def float_literal(x, fallback):
    """A Python expression for float x: a literal when one exists, else `fallback`."""
    if x != x:
        return fallback
    if x in (float("inf"), float("-inf")):
        return "INF" if x > 0 else "(-INF)"
    text = repr(x)
    return f"({text})" if text.startswith("-") else text


def _arity(template):
    """How many operands a template takes ({0}, {1}, {2}); a template that is a function of
    the constant operands takes two."""
    if callable(template):
        return 2
    return sum(f"{{{i}}}" in template for i in range(3))


def _numeric_handler(kind, template, modular):
    arity = _arity(template)

    def handler(self, _):
        operands = self.pop_n(arity)
        if callable(template):
            text = template(*(literal_value(op.text) for op in operands))
        else:
            text = template
        if kind in ("expr", "cond"):
            self.push_expr(text, operands, cond=kind == "cond", modular=modular)
            return True
        text = self.fill(text, operands)
        if kind == "f32":
            self.emit(f"f32buf[0] = {text}")
            text = "f32buf[0]"
        self.push_statement(text)
        return True
    return handler


def _widen_again_handler(plain, high):
    """i32x4.extend_*_i16x8_u: of an unsigned i16x8 extend, one step from bytes to u32s
    (simd_operators.widened_twice)."""
    def handler(self, imm):
        fused = widened_twice(self.stack[-1].text, high)
        if fused is None:
            return plain(self, imm)
        template, inner = fused
        self.push_expr(template, [self.pop()._replace(text=inner, unwrapped=None)])
        return True
    return handler


def _load_lanes(op, shape):
    """If `op` is one deferred extending load making a `shape` vector: (the operand of its
    lane tuple, marked as the load, and the load's signedness); else None."""
    text = op.text
    if not (text.startswith("(" + _LOAD_START) and text.endswith(_LOAD_END + ")")
            and text.count(_LOAD_START) == 1):
        return None
    mark_end = text.index(_LOAD_TEXT) + 1
    load = text[mark_end:-2]
    for prefix, sign in EXTENDING_LOADS[shape].items():
        if load.startswith(prefix) and load.endswith("))"):
            lanes = f"{text[1:mark_end]}{load[load.index('(') + 1:-1]}{_LOAD_END}"
            return op._replace(text=lanes), sign
    return None


def _lanes_mul_handler(plain, shape):
    """A lane multiply of two extending loads multiplies their lanes as unpacked
    (simd_operators.lanes_product)."""
    def handler(self, imm):
        found = [_load_lanes(op, shape) for op in self.stack[-2:]]
        if None in found:
            return plain(self, imm)
        self.pop_n(2)
        (a, a_sign), (b, b_sign) = found
        self.push_expr(lanes_product(shape, a_sign + b_sign), [a, b])
        return True
    return handler


def _immediate_handler(template_of):
    """A pure instruction whose template depends on its immediate (a lane index, the
    indices of a shuffle). A template that may leave an operand unused says how many it
    takes in `operands`."""
    count = getattr(template_of, "operands", None)

    def handler(self, imm):
        template = template_of(imm)
        self.push_expr(template, self.pop_n(count or _arity(template)))
        return True
    return handler


def _memory_access(self, template, aligned, offset, base, wide):
    """The template of a load or store filled with its address: `{a}` the effective
    address, or for the typed-view form `aligned` (operators.ALIGNED), when the offset is a
    multiple of the size, `{k}` and `{i}` from the base, evaluated once (too large an index
    raises IndexError as it is). `wide`: the memory is 64-bit, and the address given to
    struct is clamped to ADDRESS_END. Returns the text and the base operand it uses (the
    base's stack variable, if it had to be evaluated first)."""
    b = base.text
    if b.isdigit():                               # a constant address: fold it
        address = int(b) + offset
        if aligned:
            size, form = aligned
            return form.format(k=address % size, i=address // size, v="{v}"), base
        return template.format(a=min(address, ADDRESS_END), v="{v}"), base
    if aligned and offset % aligned[0] == 0:
        size, form = aligned
        shift = size.bit_length() - 1
        view = form[:form.index("[")]
        picked = None if wide else self.view_of(view, size, b)
        if picked:
            index = f"({b} >> {shift}) + {offset // size}" if offset else f"{b} >> {shift}"
            index = self.index_before(b, index) or index
            return form.replace(f"{view}[{{k}}]", picked, 1).format(i=index, v="{v}"), base
        held = None if wide else self.held_view(view, size, b)
        if held:
            picked, index = held
            index = f"{index} + {offset // size}" if offset else index
            return form.replace(f"{view}[{{k}}]", picked, 1).format(i=index, v="{v}"), base
        if not _ATOM.match(b):
            base = self.address_variable(base)
            b = base.text
        shift = size.bit_length() - 1
        index = f"({b} >> {shift}) + {offset // size}" if offset else f"{b} >> {shift}"
        return form.format(k=f"{b} & {size - 1}", i=index, v="{v}"), base
    return template.format(a=_address(self.value(base), offset, wide), v="{v}"), base


def _address(base, offset, wide):
    address = f"{base} + {offset}" if offset else base
    return f"min({address}, {ADDRESS_END})" if wide else address


_MEMORY_NAMES = re.compile(rf"\b({'|'.join([layout.MEMORY, *layout.MEMORY_VIEWS])})\b")


@functools.cache
def _on_memory(template, memory):
    """A load or store template, or a (size, typed-view form) pair, written for memory 0
    (`M`, `MI`, ...), for memory `memory`."""
    if template is None or memory == 0:
        return template
    if isinstance(template, tuple):
        size, form = template
        return size, _on_memory(form, memory)
    return _MEMORY_NAMES.sub(lambda name: f"{name[0]}{memory}", template)


def _emit_store(self, template, aligned, offset, memory):
    op = self.pop()
    value = self.value(op)
    base = self.pop()
    if base.loads and op.loads:
        # `M[a] = v` evaluates v first: the address's load must come before v's.
        base = self.spill(base, len(self.stack))
    access, _ = _memory_access(self, _on_memory(template, memory),
                               _on_memory(aligned, memory), offset, base,
                               self.is_64_bit(memory))
    if op.loads:
        access, value = _reuse_view(access, value)
    for line in access.split("\n"):
        self.emit(line.replace("{v}", value))


_VIEW_STORE = re.compile(r"(\w+\[[^][]*\]|_[hp]\d+)\[([^][]*)\] = ")


def _reuse_view(access, value):
    """A store to the address a load in its value reads (`x[i] += y`) picks the view and
    the index once: the load assigns them to `_m` and `_n` (Python evaluates the value
    before the target), the store uses them. Returns the store and value texts."""
    match = _VIEW_STORE.match(access)
    if match is None:
        return access, value
    view, index = match.groups()
    load = f"{_LOAD_TEXT}{view}[{index}]{_LOAD_END}"
    if load not in value:
        return access, value
    if view.startswith(("_h", "_p")):           # a view picked before the loop, or held
        value = value.replace(load, f"{_LOAD_TEXT}{view}[(_n := {index})]{_LOAD_END}", 1)
        return f"{view}[_n] = " + access[match.end():], value
    value = value.replace(load, f"{_LOAD_TEXT}(_m := {view})[(_n := {index})]{_LOAD_END}", 1)
    return "_m[_n] = " + access[match.end():], value


def _load_handler(template, aligned):
    def handler(self, memarg):
        _, offset, memory = memarg
        text, base = _memory_access(self, _on_memory(template, memory),
                                    _on_memory(aligned, memory), offset, self.pop(),
                                    self.is_64_bit(memory))
        self.push_load(text, base)
        return True
    return handler


def _store_handler(template, aligned):
    def handler(self, memarg):
        _, offset, memory = memarg
        _emit_store(self, template, aligned, offset, memory)
        return True
    return handler


def _lane_load_handler(template_of):
    """v128.loadN_lane: `{v}` in the template is the vector the lane is loaded into."""
    def handler(self, memarg):
        _, offset, lane, memory = memarg
        vector = self.value(self.pop())
        load, _ = _memory_access(self, _on_memory(template_of(lane), memory), None, offset,
                                 self.pop(), self.is_64_bit(memory))
        self.push_statement(load.replace("{v}", vector))
        return True
    return handler


def _lane_store_handler(template_of):
    def handler(self, memarg):
        _, offset, lane, memory = memarg
        _emit_store(self, template_of(lane), None, offset, memory)
        return True
    return handler


def _build_handlers():
    handlers = {}
    for op, (kind, template) in {**NUMERIC, **VECTOR_NUMERIC}.items():
        handlers[op] = _numeric_handler(kind, template, op in MODULAR)
    for op, template in {**LOADS, **VECTOR_LOADS}.items():
        handlers[op] = _load_handler(template, ALIGNED.get(op))
    for op, template in {**STORES, **VECTOR_STORES}.items():
        handlers[op] = _store_handler(template, ALIGNED.get(op))
    for part in ("low", "high"):
        op = NAMES[f"i32x4.extend_{part}_i16x8_u"]
        handlers[op] = _widen_again_handler(handlers[op], part == "high")
    for shape in EXTENDING_LOADS:
        op = NAMES[f"{shape}.mul"]
        handlers[op] = _lanes_mul_handler(handlers[op], shape)
    for op, template_of in LANE_OPERATORS.items():
        handlers[op] = _immediate_handler(template_of)
    for op, template_of in LANE_LOADS.items():
        handlers[op] = _lane_load_handler(template_of)
    for op, template_of in LANE_STORES.items():
        handlers[op] = _lane_store_handler(template_of)
    for name, code in NAMES.items():
        method = getattr(FunctionTranslator, "op_" + name.replace(".", "_"), None)
        if method is not None:
            handlers[code] = method
    handlers[NAMES["select_t"]] = FunctionTranslator.op_select
    handlers[NAMES["i32.eqz"]] = handlers[NAMES["i64.eqz"]] = FunctionTranslator.op_eqz
    return handlers


HANDLERS = _build_handlers()

# The instructions a deferred load may wait across (see FunctionTranslator.emit): pure ones,
# other loads, stores and local and global variables; any other flushes the loads first.
LOAD_SAFE = frozenset([*NUMERIC, *VECTOR_NUMERIC, *LANE_OPERATORS, *LOADS, *VECTOR_LOADS,
                       *STORES, *VECTOR_STORES]
                      + [NAMES[name] for name in (
                          "local.get", "local.set", "local.tee", "global.get", "global.set",
                          "i32.const", "i64.const", "f32.const", "f64.const", "v128.const",
                          "drop", "select", "select_t", "nop")])
