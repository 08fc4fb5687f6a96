"""Typed views a loop can pick once, before it starts.

An aligned access is `MD[a & 7][a >> 3]`: the view for the address modulo 8, then the index
in it. In a loop that changes a local `x` only by adding constants that are multiples of 8
(`x += 16`: a pointer stepping through doubles), `x & 7` is the same in every iteration (the
wrap to 32 bits keeps it too), and so is `MD[x & 7]`, as long as nothing in the loop can
rebind the views (memory.grow rebinds them in every namespace using the memory, and a call
may grow it). The translator then evaluates the view once, before `while True:`, into a
variable of its own (`_v1 = MD[l0 & 7]`), and the accesses in the loop through `x`, or
through `x` plus a multiple of 8, index it directly (`_v1[l0 >> 3]`): a tuple index, a load
of a global and an `&` less per access, the same IndexError past the end.
"""

from ..opcodes import NAMES
from .structure import Construct

# What may rebind the views of a memory while the loop runs.
_REBINDS = frozenset(NAMES[name] for name in (
    "call", "call_indirect", "call_ref", "return_call", "return_call_indirect",
    "return_call_ref", "memory.grow"))
_SET = frozenset((NAMES["local.set"], NAMES["local.tee"]))
_GET = NAMES["local.get"]
_TEE = NAMES["local.tee"]
_CONST = NAMES["i32.const"]
_STEPS = frozenset((NAMES["i32.add"], NAMES["i32.sub"]))
WIDEST = 8                  # the largest typed view element (MQ, MD)


def invariant_alignments(loop):
    """{local index: the largest power of two up to WIDEST dividing every constant the loop
    adds to it} for the locals the loop `loop` (a Construct) changes only by adding
    constants (`local.set x (i32.add (local.get x) (i32.const c))`), or by copying a
    temporary it has set to itself plus a constant in the same iteration (`t = x + 56` ...
    `x = t`, clang's pointer bump); locals it does not change keep their value (they are
    not listed: WIDEST). None when something in the loop may rebind the memory views."""
    assignments = {}                  # local -> [("step", c) | ("from", y, c) | ("copy", t)]
    for items in _bodies(loop):
        for i, item in enumerate(items):
            if type(item) is Construct:
                continue
            if item.op in _REBINDS:
                return None
            if item.op in _SET:
                assignments.setdefault(item.imm, []).append(_assignment(items, i, item.imm))
    alignments = {}
    for local, kinds in assignments.items():
        steps = []
        for kind in kinds:
            if kind[0] == "step":
                steps.append(kind[1])
            elif (kind[0] == "copy" and kind[1] in assignments
                  and all(other[:2] == ("from", local) for other in assignments[kind[1]])
                  and _written_before_read(loop.body, kind[1])):
                steps += [other[2] for other in assignments[kind[1]]]
            else:
                break
        else:
            alignment = min(map(_power_of_two, steps), default=WIDEST)
            if alignment > 1:
                alignments[local] = alignment
    return alignments


def _assignment(items, i, index):
    """What the local.set/tee of local `index` at items[i] assigns: ("step", c) for itself
    plus c (directly or through a local.tee), ("from", y, c) for another local plus c,
    ("copy", t) for another local, or ("other",)."""
    end = i
    if i >= 1 and type(items[i - 1]) is not Construct and items[i - 1].op == _TEE:
        end = i - 1                   # x = (t = x + c): a step of x all the same
    before = [item for item in items[max(end - 3, 0):end] if type(item) is not Construct]
    if len(before) == 3 and end >= 3:
        get, const, op = before
        if get.op == _GET and const.op == _CONST and op.op in _STEPS:
            return ("step", const.imm) if get.imm == index else ("from", get.imm, const.imm)
        if end < i:
            return ("other",)
    if before and i >= 1 and before[-1] is items[i - 1] and before[-1].op == _GET:
        return ("copy", before[-1].imm)
    return ("other",)


def _written_before_read(body, local):
    """Whether the loop body's own instructions (outside nested constructs) set `local`
    before anything reads it: every read then sees a value of this iteration."""
    for item in body:
        if type(item) is Construct:
            if local in item.uses_locals:
                return False
        elif item.op == _GET and item.imm == local:
            return False
        elif item.op in _SET and item.imm == local:
            return True
    return False


def _power_of_two(step):
    alignment = WIDEST
    while step % alignment:
        alignment //= 2
    return alignment


def _bodies(construct):
    """Every instruction list inside a construct, nested constructs' included."""
    pending = [construct]
    while pending:
        node = pending.pop()
        lists = [node.body]
        if node.orelse:
            lists.append(node.orelse)
        lists += [body for _, body in node.handlers]
        for items in lists:
            yield items
            pending += [item for item in items if type(item) is Construct]
