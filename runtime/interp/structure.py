"""The structured form of a function body: the flat instruction list folded into a tree.

The translator walks this tree instead of the flat list, because it needs to know things about
a construct before emitting it: whether any branch targets it (a `loop` nobody branches to needs
no Python loop), which locals and globals its body may write (operands computed before the
construct and still on the stack must then be evaluated before it, see `codegen.py`), and which
locals it uses (to pass them to it when it is outlined into a function of its own).
"""

from ..opcodes import BLOCK, ELSE, END, IF, LOOP, NAMES

_KINDS = {BLOCK: "block", LOOP: "loop", IF: "if"}
_BR, _BR_IF, _BR_TABLE = NAMES["br"], NAMES["br_if"], NAMES["br_table"]
_BR_ON = {NAMES["br_on_null"], NAMES["br_on_non_null"]}
_LOCAL_GET, _LOCAL_SET, _LOCAL_TEE = NAMES["local.get"], NAMES["local.set"], NAMES["local.tee"]
# Instructions after which a global may hold a different value.
_WRITES_GLOBALS = {NAMES["global.set"], NAMES["call"], NAMES["call_indirect"],
                   NAMES["call_ref"]}


class Construct:
    """A `block`, `loop` or `if` (or the function body itself, kind 'func').

    `body` (and `orelse` for an `if` with an `else`) hold `Instr`s and nested `Construct`s,
    without the closing `end`/`else` instructions."""

    __slots__ = ("kind", "blocktype", "body", "orelse", "targeted", "uses_locals",
                 "writes_locals", "writes_globals", "offset")

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


def build_tree(code, offset=0):
    """Fold a function body (ending with its final `end`) into a 'func' Construct."""
    root = Construct("func", None, offset)
    open_constructs = [root]
    current = root.body
    for instr in code:
        op = instr.op
        if op in _KINDS:
            construct = Construct(_KINDS[op], instr.imm, instr.offset)
            current.append(construct)
            open_constructs.append(construct)
            current = construct.body
        elif op == ELSE:
            construct = open_constructs[-1]
            construct.orelse = current = []
        elif op == END:
            done = open_constructs.pop()
            if not open_constructs:
                return root
            parent = open_constructs[-1]
            parent.uses_locals |= done.uses_locals
            parent.writes_locals |= done.writes_locals
            parent.writes_globals |= done.writes_globals
            current = parent.orelse if parent.orelse is not None else parent.body
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
