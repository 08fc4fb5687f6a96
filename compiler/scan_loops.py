"""Scan loops: innermost loops that only read memory, whose loads rely on the guard pages
instead of a bounds check in code.

In guard-page mode (`--bounds-checks off`, the default) every memory lies in a reservation
whose pages outside the memory fault, and the fault handler turns a fault in wasm code into
trap 5 (guard_pages.py). Traps are nevertheless exact because every access is checked in
code (addresses.py): LLVM assumes that a load never faults, so a plain load relying on the
guard pages may be deleted, narrowed, or have stores moved across it (docs/aot-abi.md, "Exact
traps"). Loops that stop at a loaded value (`do i++; while (a[i] < pivot)`, strlen, strcmp,
a hash over a string, a walk down a list) cannot be versioned by loops.py, since no entry
test can tell how far they go, so each of their loads pays its check.

A scan loop is a `loop` whose body holds no `loop` and nothing but instructions that neither
change anything outside the function nor trap other than by their bounds (the translator's
unobservable instructions: arithmetic that cannot trap, locals, global.get, loads,
memory.size, references) and structured control (block, if, br, br_if, br_table, return):
no store, call, memory.grow, bulk operation, table access, global.set, unreachable,
division or float-to-int conversion; except in exit tails, straight-line code that leaves
the loop for good (C's `if (a[i] > a[i + 1]) { puts("not sorted"); return 1; }`, an
assertion's call to abort and `unreachable`). Inside it, in guard-page mode, loads are
emitted as `load volatile` without a check, and the top of each iteration and of each exit
tail has an empty `asm sideeffect "" "~{memory}"`: a compiler-only memory barrier, no
instruction. The loads of an exit tail keep their checks. Why that is exact:

- Nothing a program can observe happens between two barriers except the loads themselves
  and the loop's exits; so whichever load of an iteration faults first, the trap is the
  same (out of bounds) and memory is the same (every store made before the loop). What
  must hold is that each load the wasm code makes is made, that no load is made which the
  wasm code does not make, and that no store (or other trap) crosses from one side of a
  load to the other.
- Made: LLVM never deletes a volatile load, not even one whose value is dead (a `drop`,
  a value known from its range), never narrows, splits or widens one (a partly used i32
  still reads its four bytes, so an access that straddles the end of memory faults), and
  never merges two. Volatile loads keep their order and their number through every pass
  (GVN, LICM, the machine scheduler, MachineSink/MachineLICM, which test for ordered memory
  references); loop rotation, peeling, unrolling and unswitching copy them with the barrier
  in front of each copy.
- Not made where the wasm code does not make them: LLVM does not speculate a load from a
  pointer it cannot prove dereferenceable (the memory base is an opaque pointer), and never
  a volatile one: SimplifyCFG's hoisting and speculation, LICM and if-conversion to a
  select skip it. No vectoriser touches a loop with volatile accesses, including the
  early-exit vectoriser, which needs dereferenceable loads anyway; loop idiom recognition
  (strlen, memchr) does not either.
- No store or trap crosses: the barrier may read and write any memory and may not return,
  so no store before the loop sinks past the first iteration's barrier, no store after the
  loop rises above the last one, no store is deleted as overwritten across it (DSE), and no
  load moves across it, in IR or in machine code (an INLINEASM with side effects is a
  scheduling barrier). A store after the loop could only reach a load of the last iteration
  by being executed inside the loop, which nothing does (LICM's promotion moves stores out
  of loops, not in); an exit tail's stores and calls come after its own barrier. Traps of
  other kinds (the interruption check at the loop header, those of an exit tail) are
  branches to a trap exit, and a volatile load is never moved across a branch: above it
  would be speculation, below it would mean copying it into every successor. A volatile
  load whose execution LLVM believes continues can let later UB or stores move above it
  (LangRef), but between the barriers there are none. Calls into the function are
  unaffected: the barrier is not `willreturn`, so callers keep their stores on their side
  of a call, as for any call that may loop.
- A fault lands in a guard page: the address is zext(addr) + offset < 2^33, and the
  reservation spans 8 GiB above the base (loader/memory.py). Loads whose offset plus size
  exceed 2^32 keep their check, so that no access ends past the reservation.

A volatile load reads memory once, as a plain one does; it may not be folded into another
instruction as a memory operand on x86_64 (`mov` then `cmp` instead of `cmp` from memory),
and a loop-invariant load in a scan loop is made in each iteration, which only moves a load
the wasm code makes anyway. What it saves is the check: quicksort's partition scans, strcmp
and a hash over a key become a load, a compare and a branch, as C's. And a load that did not
fault proves its access in bounds, since memory never shrinks: addresses.load_at follows it
with an `llvm.assume` in the form of the check, so LLVM drops the checks of later accesses it
covers, such as the stores of quicksort's swap to where its scans stopped (docs/aot-abi.md,
"Exact traps", for the measurements).

Wide pointers. In a scan loop, a pointer `p` the loop steps by a constant each iteration
(quicksort's `p += 4`) is an i32, and every load through it zero-extends it to address
`base + zext(p)`: to LLVM a second induction variable beside the index, and on x86_64 a
`mov` per iteration, since zext(p + 4) is not zext(p) + 4 where p + 4 wraps. Under the 2 GiB
memory limit (addresses.py) such a pointer keeps a 64-bit copy `w`, stepped by the same
constant, and the loads through it at static offset 0 address `base + w`; the local itself
becomes trunc(w), so the two are one induction variable. That is exact when every iteration that goes on loads
through `p` (`wide_pointers` checks the body for it), by induction: w = p modulo 2^32, and
w lies in [-2^31, 2^32) whenever a load uses it.

- At the start: w's first value to be loaded through is zext of the local's: zext(p), or,
  where the iteration steps before it loads, zext(p + step) (w starts one step below).
- A load through w in range is the wasm access when 0 <= w < 2^32 (w = zext(p)); when
  w < 0, p = w + 2^32 >= 2^31 is outside memory, and base + w lies in the guard below the
  base: both trap.
- A load that did not fault proves 0 <= w < 2 GiB, and one step from there stays in range
  for the next iteration's loads.

A trap in a scan loop comes from the fault handler (traps.py), whose backtrace names the
function the faulting load lies in: a scanning function that LLVM inlined is not named, its
caller stands for it (docs/aot-abi.md, "Backtraces"). With `--bounds-checks on` and with
`--fuel` (whose charges are stores to the ExecEnv that must stay in order with the loads)
nothing here applies.
"""

from collections import namedtuple

from pywamr.runtime import opcodes
from pywamr.runtime.types import V128
from pywamr.runtime.validator import LANE_ACCESSES, MEMORY_ACCESSES

from . import ir_text as ir
from .signatures import VOID

_CONTROL = frozenset([opcodes.BLOCK, opcodes.IF, opcodes.ELSE, opcodes.END]
                     + [opcodes.NAMES[name] for name in ("br", "br_if", "br_table", "return",
                                                         "br_on_null", "br_on_non_null")])
_BR = opcodes.NAMES["br"]
# Unconditional ways out of the loop that may close an exit tail (with `br` past the loop).
_LEAVING = frozenset(opcodes.NAMES[name] for name in ("return", "unreachable"))
_LOADS = frozenset([op for op, (_, _, results) in MEMORY_ACCESSES.items() if results]
                   + [op for op, (_, _, results) in LANE_ACCESSES.items() if results])
_SCALAR_LOADS = frozenset(op for op, (_, _, results) in MEMORY_ACCESSES.items()
                          if results and results[0] != V128)
_LOCAL_GET = opcodes.NAMES["local.get"]
_LOCAL_TEE = opcodes.NAMES["local.tee"]
_LOCAL_READS = frozenset([_LOCAL_GET, _LOCAL_TEE])
_LOCAL_WRITES = frozenset([opcodes.NAMES["local.set"], _LOCAL_TEE])
_TO_LABEL = frozenset([_BR, opcodes.NAMES["br_if"]])
_BR_TABLE = opcodes.NAMES["br_table"]
_I32_CONST = opcodes.NAMES["i32.const"]
_I32_ADD = opcodes.NAMES["i32.add"]
_I32_SUB = opcodes.NAMES["i32.sub"]
# A wide pointer's step is smaller than this (module docstring, "Wide pointers").
_MAX_STEP = 1 << 16
# Loads whose static offset is this large keep their check: offset + size must stay within
# the 2^32 bytes of guard above the highest address (see the module docstring).
_OFFSET_LIMIT = 1 << 32


class ScanLoop:
    """A scan loop's extent in the function body: `end`, the index of its `end`, and
    `tails`, {first index: last index} of each exit tail."""

    def __init__(self, end, tails):
        self.end = end
        self.tails = tails

    def guarded(self, index):
        """Whether a load at `index` relies on the guard pages (it is not in a tail)."""
        return not any(first <= index <= last for first, last in self.tails.items())


def find_scan_loop(instrs, start, unobservable):
    """The ScanLoop of the loop at instrs[start], or None when it is not one: innermost,
    with at least one load, and nothing in it but `unobservable` instructions and structured
    control, except in exit tails. An exit tail is straight-line code that leaves the loop
    for good (`br` to a label outside it, `return`, `unreachable`): what follows a failed
    test, a call to puts or abort on the way out (C's `if (a[i] > a[i + 1]) { puts(...);
    return 1; }`). It runs once, after the loop's last load, behind a barrier of its own."""
    depth = 0           # blocks and ifs open inside the loop
    dead_below = None   # after an unconditional branch: dead code up to the end of its frame
    loads = False
    tails = {}
    i = start + 1
    while i < len(instrs):
        op = instrs[i].op
        if op in (opcodes.BLOCK, opcodes.IF):
            depth += 1
        elif op in (opcodes.END, opcodes.ELSE):
            if dead_below is not None and depth <= dead_below:
                dead_below = None
            if op == opcodes.END:
                if depth == 0:
                    return ScanLoop(i, tails) if loads else None
                depth -= 1
        elif op == opcodes.LOOP:
            return None
        elif dead_below is not None:
            pass
        elif op in _LOADS:
            if instrs[i].imm[-1]:       # another memory than 0 (addresses.py): checked loads
                return None
            loads = True
        elif op not in unobservable and op not in _CONTROL:
            last = _tail_end(instrs, i, depth)
            if last is None:
                return None
            tails[i] = last
            dead_below = depth
            i = last
        elif op == _BR and instrs[i].imm > depth or op == opcodes.NAMES["return"]:
            dead_below = depth
        i += 1
    return None


# A wide pointer's constant step, and whether each iteration steps it before it loads.
WidePointer = namedtuple("WidePointer", "step step_first")


def wide_pointers(instrs, start, scan):
    """{local: WidePointer} of the pointers of the scan loop at instrs[start] whose loads may use a
    64-bit copy (module docstring, "Wide pointers"): each is written once in the loop, by
    `local.get p; i32.const C; i32.add (or sub); local.set (or tee) p`, and loaded through
    (the load's address being `local.get p` or that `local.tee p`); both outside any block
    of the body and any exit tail, in a body that goes on to its next iteration only at its
    end, so that every iteration that goes on makes the step and the load."""
    writes = {}
    steps = {}
    loaded = {}       # local -> whether its first load comes after its step
    depth = 0
    for i in range(start + 1, scan.end):
        instr = instrs[i]
        op = instr.op
        straight = depth == 0 and scan.guarded(i)
        if op in (opcodes.BLOCK, opcodes.IF):
            depth += 1
        elif op == opcodes.END:
            depth -= 1
        elif op in _TO_LABEL and instr.imm == depth and not (i == scan.end - 1 and depth == 0):
            return {}
        elif op == _BR_TABLE and depth in (*instr.imm[0], instr.imm[1]):
            return {}
        elif op in _LOCAL_WRITES:
            writes[instr.imm] = writes.get(instr.imm, 0) + 1
            step = _constant_step(instrs, i)
            if step is not None and straight:
                steps[instr.imm] = step
        elif op in _SCALAR_LOADS and straight and instrs[i - 1].op in _LOCAL_READS:
            loaded.setdefault(instrs[i - 1].imm, instrs[i - 1].imm in steps)
    return {local: WidePointer(step, loaded[local]) for local, step in steps.items()
            if writes[local] == 1 and local in loaded}


def _constant_step(instrs, i):
    """C when instrs[i] ends `local.get p; i32.const C; i32.add; local.set p` (or sub, or
    tee; the sum may also be teed to other locals on its way) with a small C, else None."""
    local = instrs[i].imm
    while i > 0 and instrs[i - 1].op == _LOCAL_TEE and instrs[i - 1].imm != local:
        i -= 1
    if i < 3:
        return None
    get, const, add = instrs[i - 3:i]
    if get.op != _LOCAL_GET or get.imm != local or const.op != _I32_CONST:
        return None
    if add.op == _I32_ADD:
        step = const.imm
    elif add.op == _I32_SUB:
        step = -const.imm
    else:
        return None
    return step if 0 < abs(step) < _MAX_STEP else None


def _tail_end(instrs, first, depth):
    """Index of the instruction that ends an exit tail beginning at `first`, or None if
    none does before a control instruction."""
    for i in range(first, len(instrs)):
        op = instrs[i].op
        if op == _BR and instrs[i].imm > depth or op in _LEAVING:
            return i
        if op in _CONTROL or op == opcodes.LOOP:
            return None
    return None


def may_rely_on_guard_pages(offset, size):
    """Whether a load in a scan loop at this static offset can fault in the reservation."""
    return offset + size <= _OFFSET_LIMIT


def barrier(fx):
    """An empty `asm sideeffect` that may read and write all memory: nothing crosses it."""
    fence = ir.InlineAsm(ir.FunctionType(VOID, []), "", "~{memory}", side_effect=True)
    fx.builder.call(fence, []).attributes.add("nounwind")


def load_volatile(builder, pointer, typ):
    """`load volatile` (align 1)."""
    return builder.load(pointer, typ=typ, align=1, volatile=True)
