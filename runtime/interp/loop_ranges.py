"""Counted loops: when their induction variables cannot wrap, their sums need no `% 2**N`.

clang ends a counted loop with its counter's step and test: `i += d; if i != b: continue`
(`local.tee i; local.get b; i32.ne; br_if 0`; also `i <u b`, and `i` alone for `i != 0`).
When nothing else branches back to the loop, every full iteration runs its top-level
instructions once, so a local assigned only there, each time to its value at the
iteration's start plus a constant (`p += 16`, clang's `t = p + 56` ... `p = t`), or plus a
local the loop does not write (`j += i`), moves by its step c once per full iteration. If
on entry the counter reaches `b` after t steps without wrapping (`(b - i) / d` a positive
whole number for `!=`; for `<u`, ceil((b - i) / d) or 1), the loop runs at most t full
iterations, so such a local starts iteration u (0 <= u < t) at x + c*u, x its entry value.
One test before the loop bounds every sum of it and a constant the loop's lines read, and
the translator emits the loop twice: under the test a copy whose sums `((l<x> + k) % 2**N)`
are `(l<x> + k)`, in its `else:` the loop as it was. The values are the same, so are traps
and memory; only the arithmetic is shorter.

The instructions say which locals are stepped and by what (counted_loop); the translated
lines say which sums of them there are and where (unwrapped_copy): a sum in a line after
the j-th line assigning x reads x + c*u + (x's j-th offset), one in that line or before it
the offset before. Whatever instructions made a sum's text, its value is that.
"""

import re
from typing import NamedTuple

from ..opcodes import NAMES
from .structure import Construct

_GET = NAMES["local.get"]
_SET = NAMES["local.set"]
_TEE = NAMES["local.tee"]
_BR_IF = NAMES["br_if"]
_ADD_WIDTH = {NAMES["i32.add"]: 32, NAMES["i64.add"]: 64}
_STEP_WIDTH = {**_ADD_WIDTH, NAMES["i32.sub"]: 32, NAMES["i64.sub"]: 64}
_CONST_WIDTH = {NAMES["i32.const"]: 32, NAMES["i64.const"]: 64}
# The closing tests: i != b, i <u b, b >u i (the counter's step pushed first or second).
_TESTS = {NAMES["i32.ne"]: (32, "ne"), NAMES["i64.ne"]: (64, "ne"),
          NAMES["i32.lt_u"]: (32, "lt"), NAMES["i64.lt_u"]: (64, "lt"),
          NAMES["i32.gt_u"]: (32, "gt"), NAMES["i64.gt_u"]: (64, "gt")}
MAX_STEP = 1 << 16                 # counter steps handled: constants up to this
# A local plus or minus a constant, or plus another local, as operators._add and _sub
# write them, and the moduli.
_SUM = re.compile(r"\(\(l(\d+) ([+-]) (\d+)\) % (4294967296|18446744073709551616)\)")
_LOCAL_SUM = re.compile(r"\(\(l(\d+) \+ l(\d+)\) % (4294967296|18446744073709551616)\)")
_MODULUS = {32: "4294967296", 64: "18446744073709551616"}
# The targets of an assignment statement (`l3 = ...`, `l3, l4 = ...`).
_TARGETS = re.compile(r"\t*((?:\w+, )*\w+) = ")


class CountedLoop(NamedTuple):
    counter: int                   # the local stepped and tested last
    step: object                   # its step: a constant, or the name of a local the loop
                                   # does not write (then the test is "lt")
    bound: str                     # what the test compares it with (a local or a constant)
    test: str                      # "ne": continue while i != b; "lt": while i <u b
    steps: dict                    # local -> (width, offsets): its value after each of its
                                   # assignments is its value at the start of the iteration
                                   # plus these; the last is its step per iteration. A step
                                   # by a local the loop does not write is its only offset.


def counted_loop(loop):
    """The CountedLoop of `loop` (a targeted loop Construct), or None when it is not a
    counted loop of the shape above."""
    body = loop.body
    if loop.far_targeted or not body or type(body[-1]) is Construct:
        return None
    if body[-1].op != _BR_IF or body[-1].imm != 0:
        return None
    exit_test = _exit_test(body)
    if exit_test is None:
        return None
    counter, width, step, bound, test = exit_test
    if bound[0] == "local" and bound[1] in loop.writes_locals:
        return None
    if type(step) is str and int(step[1:]) in loop.writes_locals:
        return None
    if any(type(item) is not Construct and item.op == _BR_IF and item.imm == 0
           for item in body[:-1]):
        return None                   # another `continue`, which would skip the steps
    assignments = {}
    for items, top in _bodies(loop):
        for i, item in enumerate(items):
            if type(item) is not Construct and (item.op == _SET or item.op == _TEE):
                assignments.setdefault(item.imm, []).append(top)
    steps = _stepped(body, assignments)
    if steps.get(counter) != (width, [step]):
        return None
    bound = f"l{bound[1]}" if bound[0] == "local" else str(bound[1])
    return CountedLoop(counter, step, bound, test, steps)


def unwrapped_copy(counted, lines, offsets, indent):
    """For a counted loop translated into `lines` (its `while True:` at indentation
    `indent`, after the lines picking its views) with their offset entries: (the test, and
    the lines and offset entries of the copy whose sums of stepped locals and constants do
    not wrap), or None. The lines assigning a stepped local must be the loop's top-level
    ones its steps say (one each); a sum of it in a line after the j-th of them reads its
    value at the iteration's start plus the j-th offset."""
    top = "\t" * (indent + 1)
    segments = {}                     # local -> [(last line before it, offset)]
    for local, (_, values) in counted.steps.items():
        name = f"l{local}"
        found = [n for n, line in enumerate(lines) if name in _targets(line)]
        if len(found) == len(values) and all(
                lines[n].startswith(top) and lines[n][len(top)] != "\t" for n in found):
            segments[local] = list(zip(found, values))
    if counted.counter not in segments:
        return None
    bounds = {local: [0, 0] for local in segments}      # least and greatest offset
    copy = []
    for n, (line, offset) in enumerate(zip(lines, offsets)):
        sums = [found for found in _SUM.finditer(line)
                if int(found[1]) in bounds
                and found[4] == _MODULUS[counted.steps[int(found[1])][0]]]
        sums += [found for found in _LOCAL_SUM.finditer(line)
                 if int(found[1]) in bounds
                 and counted.steps[int(found[1])][1] == [f"l{found[2]}"]
                 and found[3] == _MODULUS[counted.steps[int(found[1])][0]]]
        sums.sort(key=lambda found: found.start())
        for found in sums:
            local = int(found[1])
            if found.re is _LOCAL_SUM:
                continue                # the step itself: bounded by the step's own test
            k = int(found[3]) if found[2] == "+" else -int(found[3])
            now = 0                     # a sum in an assignment's line reads the old value
            for assigned, offset_then in segments[local]:
                if assigned < n and type(offset_then) is int:
                    now = offset_then
            e = now + k
            low, high = bounds[local]
            bounds[local] = [min(low, e), max(high, e)]
        copy.append(_unwrap(line, offset, sums))
    if all(new is line for (new, _), line in zip(copy, lines)):
        return None
    return _guard(counted, bounds), copy


def _targets(line):
    found = _TARGETS.match(line)
    return found[1].split(", ") if found else ()


def _unwrap(line, offset, sums):
    """The line with the sums `sums` (matches of _SUM in it) written without their wrap, and
    its offset entry with the spans of its loads moved to match."""
    if not sums:
        return line, offset
    pieces = []
    moves = []                         # (end column of a sum, columns removed up to it)
    position = removed = 0
    for found in sums:
        text = (f"(l{found[1]} + l{found[2]})" if found.re is _LOCAL_SUM
                else f"(l{found[1]} {found[2]} {found[3]})")
        pieces += [line[position:found.start()], text]
        position = found.end()
        removed += len(found[0]) - len(text)
        moves.append((found.end(), removed))
    pieces.append(line[position:])
    if isinstance(offset, tuple):
        def moved(column):
            shift = 0
            for end, total in moves:
                if end <= column:
                    shift = total
            return column - shift
        offset = (offset[0], tuple((moved(start), moved(end), at)
                                   for start, end, at in offset[1]))
    return "".join(pieces), offset


def _guard(counted, bounds):
    """The test, made on entry, that the loop runs at most t = `_k` full iterations (the
    counter reaches its bound without wrapping), and that for each stepped local (entry
    value x, step c, sums reading it at offsets low..high from the iteration's start)
    x + c*u + low >= 0 and x + c*u + high < 2**N for every iteration u from 0 to t - 1. A
    local stepped by a local s (not negative: values are unsigned) reads x + c*u + k or
    x + c*(u + 1) + k for its constants k, from x + low to x + s*t + high."""
    i = f"l{counted.counter}"
    step = counted.step
    if counted.test == "lt":                # t: 1 when i >= b, else ceil((b - i) / d)
        tests = [f"0 < {step}"] if type(step) is str else []
        tests.append(f"0 < (_k := max(1, -(({i} - {counted.bound}) // {step})))")
        trips = "_k"
    else:                                   # t: (b - i) / d, a whole positive number
        difference = (f"{counted.bound} - {i}" if step > 0
                      else i if counted.bound == "0" else f"{i} - {counted.bound}")
        tests = [f"0 < (_k := {difference})"]
        size = abs(step)
        shift = size.bit_length() - 1
        if size > 1:
            tests.append(f"not _k & {size - 1}")
        trips = f"(_k >> {shift})" if shift else "_k"
    for local, (low, high) in bounds.items():
        width, values = counted.steps[local]
        c = values[-1]
        x = f"l{local}"
        if type(c) is str:
            if low < 0:
                tests.append(f"{x} >= {-low}")
            tests.append(f"{x} + {c} * {trips} < {(1 << width) - high}")
            continue
        moved = f"{abs(c)} * {trips}" if abs(c) != 1 else trips
        # A counter tested with != ends at its bound b: x + c*t = b, in range.
        exact = local == counted.counter and counted.test == "ne"
        if c >= 0:              # the least value at u = 0, the greatest at u = t - 1
            if low < 0:
                tests.append(f"{x} >= {-low}")
            if c and not (exact and high <= c):
                tests.append(f"{x} + {moved} < {(1 << width) + c - high}")
            elif high > 0:
                tests.append(f"{x} < {(1 << width) - high}")
        else:                   # the greatest at u = 0, the least at u = t - 1
            if high > 0:
                tests.append(f"{x} < {(1 << width) - high}")
            slack = -c + low    # x - |c|*t + |c| + low >= 0
            if exact and slack >= 0:
                continue
            tests.append(f"{x} + {slack} >= {moved}" if slack > 0
                         else f"{x} >= {moved} + {-slack}" if slack else f"{x} >= {moved}")
    return " and ".join(tests)


def _exit_test(body):
    """(counter, width, step, bound, test) of the loop's closing `i += d; br_if i != b` (or
    `i <u b`, `b >u i`), where bound is ("local", index) or ("const", value); None for any
    other ending."""
    tail = body[-8:-1]
    while any(type(item) is Construct for item in tail):
        tail = tail[1:]
    ops = [item.op for item in tail]
    # i != 0: get i, const d, add, tee i, br_if
    if len(ops) >= 4 and ops[-1] == _TEE and ops[-2] in _ADD_WIDTH:
        found = _bump(tail[-4:], _ADD_WIDTH[ops[-2]], "ne")
        if found:
            return (*found, ("const", 0), "ne")
    if len(ops) < 6 or ops[-1] not in _TESTS:
        return None
    width, test = _TESTS[ops[-1]]
    # get i, d, add, tee i, (get b | const b), test   or   (get b | const b), get i, ...
    orders = {"ne": ((tail[-6:-2], tail[-2]), (tail[-5:-1], tail[-6])),
              "lt": ((tail[-6:-2], tail[-2]),), "gt": ((tail[-5:-1], tail[-6]),)}[test]
    for bump, other in orders:
        found = _bump(bump, width, test)
        if found is None:
            continue
        test = "ne" if test == "ne" else "lt"
        if other.op == _GET:
            return (*found, ("local", other.imm), test)
        if _CONST_WIDTH.get(other.op) == width:
            return (*found, ("const", other.imm & ((1 << width) - 1)), test)
    return None


def _bump(items, width, test):
    """(i, width, d) for `local.get i; d; add; local.tee i`: for the test "ne" with d a
    constant power of two (or its negative) up to MAX_STEP, else with d a positive constant
    up to MAX_STEP or a local (`local.get s`: "l<s>"); else None."""
    get, step, add, tee = items
    if (get.op != _GET or tee.op != _TEE or get.imm != tee.imm
            or _ADD_WIDTH.get(add.op) != width):
        return None
    if step.op == _GET and test != "ne" and step.imm != get.imm:
        return get.imm, width, f"l{step.imm}"
    if _CONST_WIDTH.get(step.op) != width:
        return None
    d = _signed(step.imm, width)
    size = abs(d)
    if not size or size > MAX_STEP or (size & (size - 1) if test == "ne" else d < 0):
        return None
    return get.imm, width, d


def _stepped(body, assignments):
    """local -> (width, offsets) for the locals assigned only at the top level of the loop's
    body, each time to its value at the start of the iteration plus a constant: `x = x + c`,
    or clang's `t = x + c` ... `x = t` with t assigned once, before (which may also set x
    to x + c' in between as a scratch value)."""
    offsets = {}                      # local -> offsets so far, or None: not stepped
    widths = {}
    temps = {}                        # temporary -> (local, offset) it holds
    for i, item in enumerate(body):
        if type(item) is Construct or item.op not in (_SET, _TEE):
            continue
        local = item.imm
        if not all(assignments[local]) or offsets.get(local, ()) is None:
            continue
        now = offsets[local][-1] if local in offsets else 0
        found = _sum_before(body, i)
        by_local = _local_sum_before(body, i, assignments)
        if by_local is not None and by_local[0] == local and local not in offsets:
            offsets[local], widths[local] = [by_local[2]], by_local[1]
            continue
        if found is not None and found[0] != local:
            source, width, c = found
            if len(assignments[local]) == 1:
                held = offsets.get(source)
                temps[local] = (source, (held[-1] if held else 0) + c, width)
            offsets[local] = None
            continue
        if found is not None:
            offset, widths[local] = now + found[2], found[1]
        elif (i >= 1 and type(body[i - 1]) is not Construct and body[i - 1].op == _GET
              and temps.get(body[i - 1].imm, (None,))[0] == local):
            _, offset, widths[local] = temps[body[i - 1].imm]
        else:
            offsets[local] = None
            continue
        offsets.setdefault(local, []).append(offset)
    return {local: (widths[local], found) for local, found in offsets.items()
            if found and (len(found) == 1 or not any(type(c) is str for c in found))}


def _sum_before(items, i):
    """(x, width, c) when items[i] (a set or tee) stores `local.get x; const c; add|sub`."""
    if i < 3 or any(type(item) is Construct for item in items[i - 3:i]):
        return None
    get, const, op = items[i - 3:i]
    width = _STEP_WIDTH.get(op.op)
    if get.op != _GET or width is None or _CONST_WIDTH.get(const.op) != width:
        return None
    c = _signed(const.imm, width)
    return get.imm, width, (c if op.op in _ADD_WIDTH else -c)


def _local_sum_before(items, i, assignments):
    """(x, width, "l<s>") when items[i] stores `local.get x; local.get s; add` with s a
    local the loop does not write."""
    if i < 3 or any(type(item) is Construct for item in items[i - 3:i]):
        return None
    get, step, op = items[i - 3:i]
    width = _ADD_WIDTH.get(op.op)
    if (get.op != _GET or step.op != _GET or width is None or step.imm in assignments
            or step.imm == get.imm):
        return None
    return get.imm, width, f"l{step.imm}"


def _signed(value, width):
    value &= (1 << width) - 1
    return value - (1 << width) if value >> (width - 1) else value


def _bodies(construct):
    """(instruction list, whether it is the construct's own body) for every list inside
    `construct`, nested constructs' included."""
    pending = [(construct, True)]
    while pending:
        node, top = pending.pop()
        lists = [node.body]
        if node.orelse:
            lists.append(node.orelse)
        lists += [body for _, body in node.handlers]
        for items in lists:
            yield items, top and items is node.body
            pending += [(item, False) for item in items if type(item) is Construct]
