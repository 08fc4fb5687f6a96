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
_CONST = NAMES["i32.const"]
_STEPS = frozenset((NAMES["i32.add"], NAMES["i32.sub"]))
WIDEST = 8                  # the largest typed view element (MQ, MD)


def invariant_alignments(loop):
    """{local index: the largest power of two up to WIDEST dividing every constant the loop
    adds to it} for the locals the loop `loop` (a Construct) changes only by adding
    constants (`local.set x (i32.add (local.get x) (i32.const c))`) or not at all (those
    are left out: any local not in `writes_locals` keeps its value, WIDEST); None when
    something in the loop may rebind the memory views."""
    alignments = {}
    for items in _bodies(loop):
        for i, item in enumerate(items):
            if type(item) is Construct:
                continue
            if item.op in _REBINDS:
                return None
            if item.op in _SET:
                step = _step(items, i, item.imm)
                alignment = 1 if step is None else _power_of_two(step)
                alignments[item.imm] = min(alignments.get(item.imm, WIDEST), alignment)
    return {index: alignment for index, alignment in alignments.items() if alignment > 1}


def _step(items, i, index):
    """The constant added to local `index` by the local.set/tee at items[i], or None if it
    sets anything else."""
    if i < 3:
        return None
    get, const, op = items[i - 3:i]
    if (type(get) is Construct or type(const) is Construct or type(op) is Construct
            or get.op != _GET or get.imm != index or const.op != _CONST or op.op not in _STEPS):
        return None
    return const.imm


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
