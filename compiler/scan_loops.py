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

A trap in a scan loop comes from the fault handler (traps.py), whose backtrace names the
function the faulting load lies in: a scanning function that LLVM inlined is not named, its
caller stands for it (docs/aot-abi.md, "Backtraces"). With `--bounds-checks on` and with
`--fuel` (whose charges are stores to the ExecEnv that must stay in order with the loads)
nothing here applies.
"""

from llvmlite import ir

from pywamr.runtime import opcodes
from pywamr.runtime.validator import LANE_ACCESSES, MEMORY_ACCESSES

from .signatures import VOID

_CONTROL = frozenset([opcodes.BLOCK, opcodes.IF, opcodes.ELSE, opcodes.END]
                     + [opcodes.NAMES[name] for name in ("br", "br_if", "br_table", "return",
                                                         "br_on_null", "br_on_non_null")])
_BR = opcodes.NAMES["br"]
# Unconditional ways out of the loop that may close an exit tail (with `br` past the loop).
_LEAVING = frozenset(opcodes.NAMES[name] for name in ("return", "unreachable"))
_LOADS = frozenset([op for op, (_, _, results) in MEMORY_ACCESSES.items() if results]
                   + [op for op, (_, _, results) in LANE_ACCESSES.items() if results])
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


class _VolatileLoad(ir.LoadInstr):
    def descr(self, buf):
        start = len(buf)
        super().descr(buf)
        buf[start] = buf[start].replace("load ", "load volatile ", 1)


def load_volatile(builder, pointer, typ):
    """`load volatile` (align 1), which llvmlite has no way to spell: the load it builds is
    given a class whose text says so."""
    value = builder.load(pointer, typ=typ, align=1)
    value.__class__ = _VolatileLoad
    return value
