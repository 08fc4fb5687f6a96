"""Loops whose memory accesses are proven in bounds before they run, so that their body needs
no bounds check and LLVM can vectorise it as it would the C it came from.

Every access is checked in code (addresses.py): a branch to the trap exit that LLVM must keep
in program order, which makes traps exact but stops the loop vectoriser, since it does not
handle loops with more than one exit. For an innermost loop of the usual shape the check is
hoisted instead, as loop versioning does:

    loop                              ;; no params or results
      ...straight-line code...        ;; no branches, calls, memory.grow
      (loads and stores at P + I + C: P a local stepped once per iteration by a constant
       or by a local the loop does not change, I a sum of such unchanged locals, C a
       constant; P may be absent)
      br_if 0                         ;; the only branch, at the end, on a condition
    end                               ;; that compares a stepped local with unchanged values

Only a loop whose condition is counted this way is versioned: LLVM can then compute its trip
count, and vectorise. Where it cannot (a scan that stops at a loaded value, as in quicksort's
partition) a fast version would trade one check per iteration for one test of the budget,
and pay the entry computation on top; so would a loop with a single access whose pointer
moves by a step known only at run time, unless the entry can also tell that the loop ends
within its budget (trip_counts.py), in which case the fast version tests nothing more than
the loop itself does.

At loop entry, `plan_budget` computes from the pointers' values and the memory size how many
iterations B are certain to keep every access in bounds (exactly, in 64 bits: an address in
bounds cannot have wrapped). The loop is then emitted twice: a fast version without checks
that runs while the loop wants to go on and fewer than B iterations have run, and the
ordinary checked version, which takes over for the iterations after that (the one that traps,
or the rest of a loop that runs on past B). With B as a second induction variable the fast
version has a single exit whose trip count LLVM computes as the minimum of the two.

`find_loop` recognises the shape by evaluating the body over symbolic values (`Linear`): a
constant, plus unchanged locals, plus at most one pointer P, as it was at the start of the
iteration (phase 0) or after its step (phase 1). A local is a pointer if the body's last
assignment to it is its own start value plus a step.

A 64-bit memory 0 (memory64) has i64 addresses, whose sums wrap at 2^64 where the entry
computation works in 64 bits too. So its plan keeps every constant below WIDE_BOUND = 2^56
and adds fewer than MAX_WIDE_TERMS locals to an address (else: no plan), and its entry
computation gives no fast iteration unless every i64 local it reads is below WIDE_BOUND (a
step: in magnitude): the sums it forms then stay below 2^62, and are exact, as for 32-bit
addresses.
"""

from collections import namedtuple

from pywamr.runtime import opcodes
from pywamr.runtime.validator import LANE_ACCESSES, LANE_OPS, MEMORY_ACCESSES, SIGNATURES

from . import ir_text as ir
from .signatures import I64
from .trip_counts import bounded_trips

_LOCAL_GET = opcodes.NAMES["local.get"]
_LOCAL_SET = opcodes.NAMES["local.set"]
_LOCAL_TEE = opcodes.NAMES["local.tee"]
_GLOBAL_GET = opcodes.NAMES["global.get"]
_GLOBAL_SET = opcodes.NAMES["global.set"]
_CONSTS = {opcodes.NAMES["i32.const"], opcodes.NAMES["i64.const"]}
# add or sub -> whether it subtracts. i64 sums are followed only to recognise a counter.
_SUMS = {opcodes.NAMES["i32.add"]: False, opcodes.NAMES["i64.add"]: False,
         opcodes.NAMES["i32.sub"]: True, opcodes.NAMES["i64.sub"]: True}
_I64_SUMS = {opcodes.NAMES["i64.add"], opcodes.NAMES["i64.sub"]}
_COMPARISONS = {opcodes.NAMES[f"{t}.{c}"] for t in ("i32", "i64")
                for c in "eq ne lt_s lt_u gt_s gt_u le_s le_u ge_s ge_u".split()}
_OP_NAMES = {op: name for name, op in opcodes.NAMES.items()}
_EQZ = {opcodes.NAMES["i32.eqz"], opcodes.NAMES["i64.eqz"]}
_DROP = opcodes.NAMES["drop"]
_SELECT = (opcodes.NAMES["select"], opcodes.NAMES["select_t"])
_MEMORY_SIZE = opcodes.NAMES["memory.size"]
_BR_IF = opcodes.NAMES["br_if"]
_END = opcodes.NAMES["end"]
# Bounds checks an iteration needs at most this many: beyond it the entry computation would
# cost more than a short loop saves.
MAX_POINTER_GROUPS = 8

# A pointer local: its step is a constant (`constant` set) or the value of an invariant local.
Pointer = namedtuple("Pointer", "local constant step_local")
# The accesses at P + I + C: pointer P = (local, phase) or None, I the sum of the invariant
# locals `invariants`, and C from `low` (the lowest sum) to `high` (the highest end of an
# access: sum + static offset + size).
AccessGroup = namedtuple("AccessGroup", "pointer invariants low high")
# A symbolic i32: constant + pointer (local, phase) or None + the invariant locals.
Linear = namedtuple("Linear", "constant pointer invariants")
# The loop's condition: the comparison `name` (such as "i64.lt_u"; a bare value is "i32.ne"
# and an eqz "i32.eq" or "i64.eq", with 0) of two linear values, at least one of them with a
# pointer, which is then the loop's counter: what `trip_within` bounds.
Condition = namedtuple("Condition", "name a b")
LoopPlan = namedtuple("LoopPlan", "end pointers groups condition")

_UNKNOWN = None


def _mod64(value):
    value &= 0xFFFFFFFFFFFFFFFF
    return value - (1 << 64) if value >= 1 << 63 else value


def _mod32(value):
    value &= 0xFFFFFFFF
    return value - (1 << 32) if value >= 1 << 31 else value


# The bound on a 64-bit memory's plan constants and the i64 values its entry reads, and on
# the invariant locals of one address: its sums then stay below 2^62.
WIDE_BOUND = 1 << 56
MAX_WIDE_TERMS = 32


def find_loop(instrs, start, wide=False):
    """The LoopPlan of the `loop` at instrs[start], or None when it is not of the shape.
    `wide`: memory 0 is 64-bit (its constants must be below WIDE_BOUND)."""
    analysis = _analyse(instrs, start)
    if analysis is None:
        return None
    end, pointers, accesses, condition = analysis
    if condition is None:
        return None
    if wide and not (all(-WIDE_BOUND < low and high < WIDE_BOUND
                         and len(invariants) < MAX_WIDE_TERMS
                         for _, invariants, low, high in accesses)
                     and all(p.constant is None or abs(p.constant) < WIDE_BOUND
                             for p in pointers.values())):
        return None
    # A loop whose one access moves by a step only known at run time (sieve's p += i) is
    # left as it is unless its trip count can be bounded (trip_counts.py): LLVM cannot
    # vectorise it, and its one check costs no more than a test of the iteration budget.
    steps_known = all(pointers[p[0]].constant is not None for p, _, _, _ in accesses if p)
    if len(accesses) < 2 and not steps_known and not bounded_trips(condition, pointers):
        return None
    groups = {}
    for pointer, invariants, low, high in accesses:
        old = groups.get((pointer, invariants))
        groups[pointer, invariants] = (low, high) if old is None else (min(old[0], low),
                                                                       max(old[1], high))
    if not groups or len(groups) > MAX_POINTER_GROUPS:
        return None
    return LoopPlan(end, pointers, [AccessGroup(pointer, invariants, low, high)
                                    for (pointer, invariants), (low, high) in groups.items()],
                    condition)


def access_stride(instrs, start):
    """The smallest step, in bytes, of the pointers through which every iteration of the loop
    at instrs[start] (a straight-line body, whatever its condition) accesses memory; None if
    it has no such access. The loop traps or ends within memory_size / step + 1 iterations:
    the addresses of such an access form an arithmetic progression modulo 2^32 that starts in
    memory and moves by the step, so, memory being at most 2^31 bytes, it leaves memory
    within that many iterations, and must wrap around through the rest of the 2^32 to come
    back (quicksort's `do i++; while (a[i] < pivot)`)."""
    analysis = _analyse(instrs, start)
    if analysis is None:
        return None
    _, pointers, accesses, _ = analysis
    steps = [abs(pointers[pointer[0]].constant) for pointer, _, _, _ in accesses
             if pointer and pointers[pointer[0]].constant]
    return min(steps, default=None)


def _analyse(instrs, start):
    """(end, pointers, accesses, condition) of the loop at instrs[start] if its body is
    straight-line code whose addresses are all linear (see _evaluate), else None."""
    end = _body_end(instrs, start)
    if end is None or instrs[start].imm is not None:
        return None
    body = instrs[start + 1:end - 1]        # without the final br_if 0
    last_assignment = {}     # local -> index in body of its last assignment
    for i, instr in enumerate(body):
        if instr.op in (_LOCAL_SET, _LOCAL_TEE):
            last_assignment[instr.imm] = i
    # Every local assigned may be a pointer; those whose last assignment is no step are
    # dropped and the body evaluated again (a copy such as `local.tee $q (P + 8)` is
    # forwarded).
    candidates = set(last_assignment)
    while True:
        result = _evaluate(body, last_assignment, candidates)
        if result is None:
            return None
        pointers, accesses, failed, condition = result
        if not failed:
            return end, pointers, accesses, condition
        candidates -= failed


def _body_end(instrs, start):
    """Index of the `end` of the loop at `start` if its body is straight-line code closed by
    `br_if 0`, else None."""
    for i in range(start + 1, len(instrs)):
        op = instrs[i].op
        if op == _END:
            if i - 1 > start and instrs[i - 1].op == _BR_IF and instrs[i - 1].imm == 0:
                return i
            return None
        if op == _BR_IF and instrs[i + 1].op == _END:
            continue
        if not _straight(op) or _other_memory(instrs[i]):
            return None
    return None


def _other_memory(instr):
    """Whether `instr` accesses a memory other than memory 0, whose accesses are always
    checked against its own size (addresses.py): the plans here are memory 0's."""
    return any(opcodes.memory_indices(instr))


def _straight(op):
    return (op in SIGNATURES or op in MEMORY_ACCESSES or op in LANE_ACCESSES or op in LANE_OPS
            or op in (_LOCAL_GET, _LOCAL_SET, _LOCAL_TEE, _GLOBAL_GET, _GLOBAL_SET, _DROP,
                      _MEMORY_SIZE, *_SELECT))


def _evaluate(body, last_assignment, candidates):
    """Run the body over symbolic values: (pointers, accesses, failed candidates, condition),
    with the Pointer of each candidate whose last assignment is a step, each access as
    (pointer or None, invariants, low, high), and the loop's Condition if it is counted
    (else None); None when an access's address is not of the shape. Assignments before a
    pointer's last one are values of this iteration like any other (clang reuses a pointer's
    local for `p + 96` before it steps it)."""
    stack = []
    current = {}         # local -> symbolic value assigned earlier in this iteration
    pointers = {}
    accesses = []
    for i, instr in enumerate(body):
        op, imm = instr.op, instr.imm
        if op == _LOCAL_GET:
            if imm in current:
                stack.append(current[imm])
            elif imm in candidates:
                stack.append(Linear(0, (imm, 0), ()))
            elif imm in last_assignment:
                stack.append(_UNKNOWN)      # carried over from the previous iteration
            else:
                stack.append(Linear(0, None, (imm,)))
        elif op in (_LOCAL_SET, _LOCAL_TEE):
            value = stack[-1] if op == _LOCAL_TEE else stack.pop()
            if imm in candidates and i == last_assignment[imm]:
                pointers[imm] = _step_of(value, imm)
                if pointers[imm] is not None:
                    value = Linear(0, (imm, 1), ())
            current[imm] = value
        elif op in _CONSTS:
            stack.append(Linear(imm, None, ()))
        elif op in _SUMS:
            b = stack.pop()
            a = stack.pop()
            stack.append(_sum(a, b, _SUMS[op], op in _I64_SUMS))
        elif op in _COMPARISONS or op in _EQZ:
            operands = [stack.pop() for _ in range(1 if op in _EQZ else 2)][::-1]
            counted = all(isinstance(v, Linear) for v in operands) \
                and any(v.pointer for v in operands)
            if not counted:
                stack.append(_UNKNOWN)
            elif op in _EQZ:
                stack.append(Condition(_OP_NAMES[op][:3] + ".eq", operands[0],
                                       Linear(0, None, ())))
            else:
                stack.append(Condition(_OP_NAMES[op], *operands))
        elif op in MEMORY_ACCESSES or op in LANE_ACCESSES:
            # Every access's largest alignment is its size. A lane access takes an address
            # and a vector.
            if op in MEMORY_ACCESSES:
                align, params, results = MEMORY_ACCESSES[op]
                arity = len(params)
            else:
                align, _, results = LANE_ACCESSES[op]
                arity = 2
            address = stack[len(stack) - arity]
            del stack[len(stack) - arity:]
            if not isinstance(address, Linear):
                return None
            # The i32 sum must not wrap, and the access must end within memory; the static
            # offset is added to the sum in 64 bits.
            accesses.append((address.pointer, address.invariants, address.constant,
                             address.constant + imm[1] + (1 << align)))
            stack.extend(_UNKNOWN for _ in results)
        else:
            pops, pushes = _arity(op)
            del stack[len(stack) - pops:]
            stack.extend(_UNKNOWN for _ in range(pushes))
    failed = {local for local, step in pointers.items() if step is None}
    condition = stack[-1]
    if isinstance(condition, Linear):
        condition = Condition("i32.ne", condition, Linear(0, None, ())) if condition.pointer \
            else None
    elif not isinstance(condition, Condition):
        condition = None
    return pointers, accesses, failed, condition


def _arity(op):
    if op in SIGNATURES:
        params, results = SIGNATURES[op]
        return len(params), len(results)
    if op in LANE_OPS:
        _, params, results = LANE_OPS[op]
        return len(params), len(results)
    if op == _DROP or op == _GLOBAL_SET:
        return 1, 0
    if op in _SELECT:
        return 3, 1
    if op in (_GLOBAL_GET, _MEMORY_SIZE):
        return 0, 1
    raise AssertionError(f"opcode {op:#x} not straight-line")


def _sum(a, b, subtract, wide):
    """a + b (a - b) of two linear values, if it is one: at most one pointer, and only a
    constant subtracted. `wide`: an i64 sum, whose constant wraps at 2^64."""
    if not (isinstance(a, Linear) and isinstance(b, Linear)):
        return _UNKNOWN
    wrap = _mod64 if wide else _mod32
    if subtract:
        if b.pointer or b.invariants:
            return _UNKNOWN
        return Linear(wrap(a.constant - b.constant), a.pointer, a.invariants)
    if a.pointer and b.pointer:
        return _UNKNOWN
    return Linear(wrap(a.constant + b.constant), a.pointer or b.pointer,
                  tuple(sorted(a.invariants + b.invariants)))


def _step_of(value, local):
    """The Pointer if `value` is the local's start value plus a step, else None."""
    if not isinstance(value, Linear) or value.pointer != (local, 0):
        return None
    if not value.invariants:
        return Pointer(local, value.constant, None)
    if len(value.invariants) == 1 and value.constant == 0:
        return Pointer(local, None, value.invariants[0])
    return None


# --- the entry computation ------------------------------------------------------------------

def plan_budget(fx, plan, read_local):
    """i64: how many iterations from now keep every access of `plan` in bounds (0: none).
    `read_local(index)` gives a local's current i32 value."""
    b = fx.builder
    size = fx.memory_size_bytes()
    budget = None
    for group in plan.groups:
        count = _group_budget(fx, plan.pointers, group, size, read_local)
        budget = count if budget is None else _umin(b, budget, count)
    return budget


_UNLIMITED = (1 << 63) - 1
# The fast version has no interruption check (it would keep the loop from vectorising): it
# runs at most CHUNK_ITERATIONS before the check at its re-entry, or, when it runs to the
# loop's end (trip_counts.py), at most RUN_TO_END_ITERATIONS (docs/aot-abi.md,
# "Interruption").
CHUNK_ITERATIONS = 1 << 16
RUN_TO_END_ITERATIONS = 1 << 26


def chunk_budget(b, budget):
    """The iterations the fast version runs before it checks for an interruption."""
    return _umin(b, budget, ir.Constant(I64, CHUNK_ITERATIONS))


def run_to_end_budget(b, budget):
    """The iterations within which a loop must end to run check-free to its end
    (trip_counts.py): its budget, but no more than RUN_TO_END_ITERATIONS, which bounds how
    long such a loop runs without checking for an interruption."""
    return _umin(b, budget, ir.Constant(I64, RUN_TO_END_ITERATIONS))


def _umin(b, x, y):
    return b.select(b.icmp_unsigned("<", x, y), x, y)


def _group_budget(fx, pointers, group, size, read_local):
    """Iterations k = 0, 1, ... for which the group's accesses lie in memory: 0 if the first
    does not. In iteration k the sum is S_k = P + (k + phase) * step + I + C, computed here
    exactly in 64 bits; the i32 sum the code computes is S_k mod 2^32 (an i64 sum: mod
    2^64), which is S_k itself whenever S_k is in bounds, so no wrap-around can hide. An i64
    local counts only below WIDE_BOUND (module docstring): `small` says whether all do."""
    b = fx.builder
    zero = ir.Constant(I64, 0)
    small = []

    def unsigned(value):
        if value.type != I64:
            return b.zext(value, I64)
        small.append(b.icmp_unsigned("<", value, ir.Constant(I64, WIDE_BOUND)))
        return value

    start = zero
    for local in group.invariants:
        start = b.add(start, unsigned(read_local(local)))
    step = zero
    if group.pointer is not None:
        local, phase = group.pointer
        pointer = pointers[local]
        if pointer.constant is not None:
            step = ir.Constant(I64, pointer.constant)
        else:
            step = read_local(pointer.step_local)
            if step.type != I64:
                step = b.sext(step, I64)
            else:
                small.append(b.icmp_unsigned("<", b.add(step, ir.Constant(I64, WIDE_BOUND)),
                                             ir.Constant(I64, 2 * WIDE_BOUND)))
        start = b.add(start, unsigned(read_local(local)))
        if phase:
            start = b.add(start, step)
    low = b.add(start, ir.Constant(I64, group.low))
    high = b.add(start, ir.Constant(I64, group.high))
    first_in = b.and_(b.icmp_signed(">=", low, zero), b.icmp_signed("<=", high, size))
    for condition in small:
        first_in = b.and_(first_in, condition)
    # Room ahead in the direction of the step, in whole steps, plus the first iteration.
    forward = b.sdiv(b.sub(size, high), _at_least_one(b, step))
    backward = b.sdiv(low, _at_least_one(b, b.neg(step)))
    room = b.select(b.icmp_signed(">", step, zero), forward,
                    b.select(b.icmp_signed("<", step, zero), backward,
                             ir.Constant(I64, _UNLIMITED - 1)))
    return b.select(first_in, b.add(room, ir.Constant(I64, 1)), zero)


def _at_least_one(b, value):
    one = ir.Constant(I64, 1)
    return b.select(b.icmp_signed("<", value, one), one, value)
