"""Whether a counted loop ends within a number of iterations, tested once at its entry.

A versioned loop (loops.py) knows at entry how many iterations B keep its accesses in bounds.
Its check-free copy could test B on every iteration beside the loop's own condition, but a
loop that does not vectorise (sieve's strided store) then pays that test as it paid the bounds
check. When the loop is sure to end within B iterations, the copy needs no test of B at all:
it is the loop itself, without checks. The test at entry evaluates the loop's condition
(loops.Condition) on the counter X, the stepped local it compares, at two iterations, in the
condition's own w-bit arithmetic: X_k = X_0 + k * s mod 2^w, against the value N the loop does
not change.

- If the condition is false at some k < B, the loop stops at the latest in iteration k. That
  is exact arithmetic whatever the values: no assumption on order or wrap-around is needed
  for the claim, only for how often it is made. The k tested are 0, K = min(B - 1, 2^w - 1),
  and, for a constant step s, where the counter meets N: d = (N - X_0) / s in w-bit unsigned
  arithmetic (X_0 - N for a step down), and d + 1, each at most K. For a counter that moves
  towards N without wrapping against an ordered comparison (the loops C compiles to) the
  condition is false at d or d + 1; at K it is false too unless the counter wraps first, as
  an unsigned count down does (memset's `n -= 32` while `n > 31`, whose X_K has wrapped
  around for any budget of more than a few iterations).
- `ne` with a constant step s (clang's `i != n`, or `p != end` with s the element size): the
  loop stops at the first k where X_k = N. With D = N - X_0 in w-bit unsigned arithmetic
  (X_0 - N for a step down), if |s| divides D that k is D / |s|: an earlier k' would need
  (D / |s| - k') * |s| = 0 mod 2^w, impossible for a nonzero multiple of |s| below D < 2^w.
  The loop then ends within B iterations when D / |s| < B. If |s| does not divide D the
  counter steps over N (and meets it, if ever, only after wrapping around), and the test
  fails. A step known only at run time keeps the test of B in the fast copy.

Where the test fails the loop runs checked from its first iteration: either it traps (the
accesses of iteration B are out of bounds, and the body, straight-line code, reaches them),
or its condition escaped the test (a counter that wraps or steps over N), which is rare
enough to leave slow.
"""

from . import ir_text as ir
from .signatures import I64

def _comparison(condition):
    """(width, predicate, signed) of the condition's name, such as (64, "<", False)."""
    typ, op = condition.name.split(".")
    kind, _, sign = op.partition("_")
    predicate = {"lt": "<", "le": "<=", "gt": ">", "ge": ">=", "eq": "==", "ne": "!="}[kind]
    return int(typ[1:]), predicate, sign == "s"


def _counter_side(condition):
    """(counter value, other value, whether the counter is the left operand), or None when
    the other value also moves."""
    a, b = condition.a, condition.b
    if a.pointer and not b.pointer:
        return a, b, True
    if b.pointer and not a.pointer:
        return b, a, False
    return None


def bounded_trips(condition, pointers):
    """Whether `trip_within` can bound the trip count of a loop with this Condition: one
    operand moves (the counter), the other does not, and an `ne` counter steps by a constant
    (with a step known only at run time, where X_k = N is not foreseeable)."""
    sides = _counter_side(condition)
    if sides is None:
        return False
    _, predicate, _ = _comparison(condition)
    return predicate != "!=" or pointers[sides[0].pointer[0]].constant not in (None, 0)


def trip_within(fx, condition, pointers, budget, read_local):
    """i1: the loop whose Condition this is runs at most `budget` (i64, at least 1)
    iterations from now. `read_local(index)` gives a local's current value."""
    b = fx.builder
    width, predicate, signed = _comparison(condition)
    typ = ir.IntType(width)
    counter, other, counter_left = _counter_side(condition)
    local, phase = counter.pointer
    pointer = pointers[local]
    step = ir.Constant(typ, pointer.constant) if pointer.constant is not None \
        else read_local(pointer.step_local)
    x0 = read_local(local)
    if phase:
        x0 = b.add(x0, step)
    x0 = b.add(x0, _linear(fx, counter, typ, read_local))
    n = _linear(fx, other, typ, read_local)

    if predicate == "!=":
        magnitude = ir.Constant(typ, abs(pointer.constant))
        distance = b.sub(n, x0) if pointer.constant > 0 else b.sub(x0, n)
        meets = b.udiv(distance, magnitude)
        if width < 64:
            meets = b.zext(meets, I64)
        divides = b.icmp_unsigned("==", b.urem(distance, magnitude), ir.Constant(typ, 0))
        return b.and_(divides, b.icmp_unsigned("<", meets, budget))

    def stops(x):
        left, right = (x, n) if counter_left else (n, x)
        compare = b.icmp_signed if signed else b.icmp_unsigned
        return b.not_(compare(predicate, left, right))

    last = b.sub(budget, ir.Constant(I64, 1))
    if width < 64:
        last = b.trunc(_umin(b, last, ir.Constant(I64, (1 << width) - 1)), typ)
    stopped = b.or_(stops(x0), stops(b.add(x0, b.mul(last, step))))
    if pointer.constant is None:
        return stopped
    # Where the counter meets N: ahead of it by the distance in whole steps, or one more.
    magnitude = abs(pointer.constant)
    distance = b.sub(n, x0) if pointer.constant > 0 else b.sub(x0, n)
    meets = b.udiv(distance, ir.Constant(typ, magnitude))
    for k in (meets, b.add(meets, ir.Constant(typ, 1))):
        stopped = b.or_(stopped, stops(b.add(x0, b.mul(_umin(b, k, last), step))))
    return stopped


def _linear(fx, value, typ, read_local):
    """A Linear's constant plus its invariant locals, as the code computes them (w bits)."""
    total = ir.Constant(typ, value.constant)
    for local in value.invariants:
        total = fx.builder.add(total, read_local(local))
    return total


def _umin(b, x, y):
    return b.select(b.icmp_unsigned("<", x, y), x, y)
