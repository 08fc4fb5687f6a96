"""The structured form of a function body: the flat instruction list folded into a tree.

The translator walks this tree instead of the flat list, because it needs to know things about
a construct before emitting it: whether any branch targets it (a `loop` nobody branches to needs
no Python loop), which locals and globals its body may write (operands computed before the
construct and still on the stack must then be evaluated before it, see `codegen.py`), whether
it may grow memory (a call or memory.grow: a typed view held across it would be stale), and
which locals it uses (to pass them to it when it is outlined into a function of its own).
A try_table's catch clauses and a delegate target labels as branches do.

It also records how a block is branched to, which decides its Python form: a block only left
by a `br_if 0` in its own body needs nothing, one that other branches leave may become a
one-shot `while True:` loop that they `break` (see codegen.py), unless a br_table or a catch
clause targets it or a branch inside it leaves it for a label further out without leaving a
Python loop (it is a plain `break`, `continue` or flag, which the one-shot loop would make a
flag and a `break`); and how deeply the constructs that must be Python loops or
`try` statements nest inside it, so that such a loop never takes a level they need.
"""

from ..opcodes import (BLOCK, CATCH_ALL_LEGACY, CATCH_LEGACY, DELEGATE, ELSE, END, IF, LOOP,
                       NAMES, TRY, TRY_TABLE)

_KINDS = {BLOCK: "block", LOOP: "loop", IF: "if", TRY_TABLE: "try_table", TRY: "try"}
_BR, _BR_IF, _BR_TABLE = NAMES["br"], NAMES["br_if"], NAMES["br_table"]
_BR_ON = {NAMES["br_on_null"], NAMES["br_on_non_null"]}
_LOCAL_GET, _LOCAL_SET, _LOCAL_TEE = NAMES["local.get"], NAMES["local.set"], NAMES["local.tee"]
# Instructions after which a global may hold a different value.
_WRITES_GLOBALS = {NAMES["global.set"], NAMES["call"], NAMES["call_indirect"],
                   NAMES["call_ref"]}
# Instructions after which a memory may have grown, which rebinds its typed views.
_GROWS = {NAMES["memory.grow"], NAMES["call"], NAMES["call_indirect"], NAMES["call_ref"]}


class Construct:
    """A `block`, `loop`, `if`, `try_table` or legacy `try` (or the function body itself,
    kind 'func').

    `body` (and `orelse` for an `if` with an `else`) hold `Instr`s and nested `Construct`s,
    without the closing `end`/`else` instructions. A try_table has its catch clauses in
    `catches`; a legacy try its handlers in `handlers`, (tag index or None for catch_all,
    body) each, and the label of its `delegate` in `delegate` (None: closed by `end`)."""

    __slots__ = ("kind", "blocktype", "body", "orelse", "targeted", "uses_locals",
                 "writes_locals", "writes_globals", "offset", "catches", "handlers",
                 "delegate", "far_targeted", "table_targeted", "crossed", "python_depth",
                 "may_grow")

    def __init__(self, kind, blocktype, offset):
        self.kind = kind
        self.blocktype = blocktype
        self.body = []
        self.orelse = None
        self.targeted = False         # some br/br_if/br_table names this construct's label
        self.far_targeted = False     # ... other than a `br_if 0` directly in its body
        self.table_targeted = False   # ... a br_table or catch clause among them
        self.crossed = False          # a branch inside it targets a label outside, with
                                      # no Python loop to leave on the way
        self.python_depth = 0         # nesting of targeted loops and tries inside, itself
                                      # included
        self.uses_locals = set()      # local indices read or written anywhere inside
        self.writes_locals = set()    # local indices set or teed anywhere inside
        self.writes_globals = False   # a global.set or a call anywhere inside
        self.may_grow = False         # a memory.grow or a call anywhere inside
        self.offset = offset
        self.catches = ()
        self.handlers = []
        self.delegate = None


def build_tree(code, offset=0):
    """Fold a function body (ending with its final `end`) into a 'func' Construct."""
    root = Construct("func", None, offset)
    open_constructs = [root]
    current = root.body
    bodies = [current]                # the instruction list being filled, per open construct
    crossings = []                    # per branch, the constructs it leaves, innermost first
    for instr in code:
        op = instr.op
        if op in _KINDS:
            if op == TRY_TABLE:
                blocktype, catches = instr.imm
                for _, _, depth in catches:       # labels counted from outside the try_table
                    _target(open_constructs[-1 - depth], table=True)
                _cross(open_constructs, [depth for _, _, depth in catches], crossings)
            else:
                blocktype, catches = instr.imm, ()
            construct = Construct(_KINDS[op], blocktype, instr.offset)
            construct.catches = catches
            current.append(construct)
            open_constructs.append(construct)
            current = construct.body
            bodies.append(current)
        elif op == ELSE:
            construct = open_constructs[-1]
            construct.orelse = current = bodies[-1] = []
        elif op == CATCH_LEGACY or op == CATCH_ALL_LEGACY:
            current = bodies[-1] = []
            open_constructs[-1].handlers.append((instr.imm, current))
        elif op == END or op == DELEGATE:
            done = open_constructs.pop()
            bodies.pop()
            if op == DELEGATE:
                done.delegate = instr.imm
            if done.kind in ("try_table", "try") or done.kind == "loop" and done.targeted:
                done.python_depth += 1
            if not open_constructs:
                for left in crossings:
                    if not any(c.kind == "loop" and c.targeted for c in left):
                        for construct in left:
                            construct.crossed = True
                return root
            parent = open_constructs[-1]
            parent.python_depth = max(parent.python_depth, done.python_depth)
            parent.uses_locals |= done.uses_locals
            parent.writes_locals |= done.writes_locals
            parent.writes_globals |= done.writes_globals
            parent.may_grow |= done.may_grow
            current = bodies[-1]
        else:
            current.append(instr)
            if op == _BR or op == _BR_IF or op in _BR_ON:
                target = open_constructs[-1 - instr.imm]
                target.targeted = True
                if not (op == _BR_IF and instr.imm == 0):
                    target.far_targeted = True
                _cross(open_constructs, (instr.imm,), crossings)
            elif op == _BR_TABLE:
                labels, default = instr.imm
                for depth in (*labels, default):
                    _target(open_constructs[-1 - depth], table=True)
                _cross(open_constructs, (*labels, default), crossings)
            elif op == _LOCAL_GET:
                open_constructs[-1].uses_locals.add(instr.imm)
            elif op == _LOCAL_SET or op == _LOCAL_TEE:
                open_constructs[-1].uses_locals.add(instr.imm)
                open_constructs[-1].writes_locals.add(instr.imm)
            if op in _WRITES_GLOBALS:
                open_constructs[-1].writes_globals = True
            if op in _GROWS:
                open_constructs[-1].may_grow = True
    raise ValueError("function body does not end with `end`")


def _target(construct, table):
    construct.targeted = construct.far_targeted = True
    construct.table_targeted |= table


def _cross(open_constructs, depths, crossings):
    """Note the constructs a branch to labels `depths` leaves on its way (one to the
    function's label is a `return`, which leaves them all as it is)."""
    inner = [depth for depth in depths if depth < len(open_constructs) - 1]
    if inner:
        crossings.append(open_constructs[len(open_constructs) - max(inner):])


# Instructions after which the rest of a body is not reached (nor translated).
_TRANSFERS = {NAMES[name] for name in (
    "br", "br_table", "return", "unreachable", "throw", "throw_ref", "rethrow", "return_call",
    "return_call_indirect", "return_call_ref")}


def unassigned_reads(root, first_local):
    """The locals from index `first_local` on (those that are not parameters) that some path
    may read before writing: only these need their zero assigned on entry, as Python reads an
    unassigned local as an error. The analysis follows the tree forwards: a loop's body is
    entered with what is assigned before it (a back edge brings more, never less), and a
    construct's end with what every path into it (falling out, branching) has assigned."""
    reads = set()
    _assigned_after(root.body, set(), [], reads)
    return {index for index in reads if index >= first_local}


def _assigned_after(items, assigned, labels, reads):
    """Walk a body entered with the locals `assigned`, noting reads of other locals in
    `reads`; return what is assigned where control falls out of it, or None where it
    cannot. `labels` holds, per enclosing construct, the sets branches to its end carry
    (None for a loop, whose label is its start)."""
    assigned = set(assigned)
    for item in items:
        if type(item) is Construct:
            assigned = _construct_assigned(item, assigned, labels, reads)
            if assigned is None:
                return None
            continue
        op = item.op
        if op == _LOCAL_GET:
            if item.imm not in assigned:
                reads.add(item.imm)
        elif op == _LOCAL_SET or op == _LOCAL_TEE:
            assigned.add(item.imm)
        elif op == _BR or op == _BR_IF or op in _BR_ON:
            _reach(labels, item.imm, assigned)
        elif op == _BR_TABLE:
            depths, default = item.imm
            for depth in (*depths, default):
                _reach(labels, depth, assigned)
        if op in _TRANSFERS:
            return None
    return assigned


def _reach(labels, depth, assigned):
    if depth < len(labels) and labels[-1 - depth] is not None:
        labels[-1 - depth].append(set(assigned))


def _construct_assigned(node, assigned, labels, reads):
    if node.kind == "try_table":
        for _, _, depth in node.catches:          # counted from outside the try_table
            _reach(labels, depth, assigned)
    ends = [] if node.kind != "loop" else None
    labels.append(ends)
    ends = ends if ends is not None else []
    ends.append(_assigned_after(node.body, assigned, labels, reads))
    if node.kind == "if":
        ends.append(_assigned_after(node.orelse or [], assigned, labels, reads))
    elif node.kind in ("try_table", "try"):
        ends.append(assigned)                     # an exception may leave at any point
        for _, body in node.handlers:
            ends.append(_assigned_after(body, assigned, labels, reads))
    labels.pop()
    ends = [end for end in ends if end is not None]
    if not ends:
        return None
    return set.intersection(*ends)
