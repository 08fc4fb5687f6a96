"""The structured form of a function body: the flat instruction list folded into a tree.

The translator walks this tree instead of the flat list, because it needs to know things about
a construct before emitting it: whether any branch targets it (a `loop` nobody branches to needs
no Python loop), which locals and globals its body may write (operands computed before the
construct and still on the stack must then be evaluated before it, see `codegen.py`), and which
locals it uses (to pass them to it when it is outlined into a function of its own).
A try_table's catch clauses and a delegate target labels as branches do.
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


class Construct:
    """A `block`, `loop`, `if`, `try_table` or legacy `try` (or the function body itself,
    kind 'func').

    `body` (and `orelse` for an `if` with an `else`) hold `Instr`s and nested `Construct`s,
    without the closing `end`/`else` instructions. A try_table has its catch clauses in
    `catches`; a legacy try its handlers in `handlers`, (tag index or None for catch_all,
    body) each, and the label of its `delegate` in `delegate` (None: closed by `end`)."""

    __slots__ = ("kind", "blocktype", "body", "orelse", "targeted", "uses_locals",
                 "writes_locals", "writes_globals", "offset", "catches", "handlers",
                 "delegate")

    def __init__(self, kind, blocktype, offset):
        self.kind = kind
        self.blocktype = blocktype
        self.body = []
        self.orelse = None
        self.targeted = False         # some br/br_if/br_table names this construct's label
        self.uses_locals = set()      # local indices read or written anywhere inside
        self.writes_locals = set()    # local indices set or teed anywhere inside
        self.writes_globals = False   # a global.set or a call anywhere inside
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
    for instr in code:
        op = instr.op
        if op in _KINDS:
            if op == TRY_TABLE:
                blocktype, catches = instr.imm
                for _, _, depth in catches:       # labels counted from outside the try_table
                    open_constructs[-1 - depth].targeted = True
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
            if not open_constructs:
                return root
            parent = open_constructs[-1]
            parent.uses_locals |= done.uses_locals
            parent.writes_locals |= done.writes_locals
            parent.writes_globals |= done.writes_globals
            current = bodies[-1]
        else:
            current.append(instr)
            if op == _BR or op == _BR_IF or op in _BR_ON:
                open_constructs[-1 - instr.imm].targeted = True
            elif op == _BR_TABLE:
                labels, default = instr.imm
                for depth in (*labels, default):
                    open_constructs[-1 - depth].targeted = True
            elif op == _LOCAL_GET:
                open_constructs[-1].uses_locals.add(instr.imm)
            elif op == _LOCAL_SET or op == _LOCAL_TEE:
                open_constructs[-1].uses_locals.add(instr.imm)
                open_constructs[-1].writes_locals.add(instr.imm)
            elif op in _WRITES_GLOBALS:
                open_constructs[-1].writes_globals = True
    raise ValueError("function body does not end with `end`")
