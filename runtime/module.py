"""The decoded form of a WebAssembly module, shared by the validator, interpreter and compiler.

A function body is kept as a flat list of `Instr` tuples exactly as the binary has them
(including `else` and `end`), each with its byte offset in the module, so that every consumer
can report errors at a byte offset and decide for itself how to rebuild structure.
"""

from dataclasses import dataclass, field
from typing import NamedTuple

from .types import FuncType, GlobalType, MemoryType, TableType


class Instr(NamedTuple):
    """One instruction. `op` is an opcode from `opcodes.py` (prefixed ones are 0xFC00+n and
    0xFD00+n); `imm` is its immediate in the form `opcodes.py` documents; `offset` is the byte
    offset of the opcode in the module binary."""
    op: int
    imm: object
    offset: int


@dataclass
class Import:
    module: str
    name: str
    kind: str        # 'func' | 'table' | 'memory' | 'global'
    desc: object     # type index (func) | TableType | MemoryType | GlobalType


@dataclass
class Export:
    name: str
    kind: str        # 'func' | 'table' | 'memory' | 'global'
    index: int


@dataclass
class Global:
    type: GlobalType
    init: list       # constant expression: list of Instr without the final `end`


@dataclass
class ElemSegment:
    mode: str        # 'active' | 'passive' | 'declarative'
    elem_type: str   # 'funcref' | 'externref'
    init: list       # one constant expression (list of Instr) per element
    table: int = 0
    offset: list | None = None   # constant expression, active segments only


@dataclass
class DataSegment:
    mode: str        # 'active' | 'passive'
    data: bytes
    memory: int = 0
    offset: list | None = None


@dataclass
class FunctionBody:
    locals: list     # [(count, valtype)] as declared; params are not included
    body: list       # list of Instr, ending with the function's final `end`
    offset: int      # byte offset of the body (its size field) in the module
    num_locals: int = 0   # sum of the declared counts


@dataclass
class Module:
    types: list = field(default_factory=list)        # [FuncType]
    imports: list = field(default_factory=list)      # [Import]
    funcs: list = field(default_factory=list)        # type index of each defined function
    tables: list = field(default_factory=list)       # [TableType] defined here
    memories: list = field(default_factory=list)     # [MemoryType] defined here
    globals: list = field(default_factory=list)      # [Global] defined here
    exports: list = field(default_factory=list)      # [Export]
    start: int | None = None
    elems: list = field(default_factory=list)        # [ElemSegment]
    datas: list = field(default_factory=list)        # [DataSegment]
    data_count: int | None = None
    codes: list = field(default_factory=list)        # [FunctionBody], one per defined function
    customs: list = field(default_factory=list)      # [(name, bytes)] in order of appearance
    func_names: dict = field(default_factory=dict)   # function index -> name (name section)

    # Index spaces: imports come first, then definitions (spec 2.5.1).

    def imported(self, kind):
        return [imp for imp in self.imports if imp.kind == kind]

    @property
    def num_imported_funcs(self):
        return sum(1 for imp in self.imports if imp.kind == "func")

    def func_type_indices(self):
        """Type index of every function in the function index space."""
        return [imp.desc for imp in self.imports if imp.kind == "func"] + list(self.funcs)

    def func_type(self, func_index):
        return self.types[self.func_type_indices()[func_index]]

    def all_tables(self):
        return [imp.desc for imp in self.imports if imp.kind == "table"] + list(self.tables)

    def all_memories(self):
        return [imp.desc for imp in self.imports if imp.kind == "memory"] + list(self.memories)

    def all_global_types(self):
        return ([imp.desc for imp in self.imports if imp.kind == "global"]
                + [g.type for g in self.globals])

    def export_map(self):
        return {exp.name: exp for exp in self.exports}
