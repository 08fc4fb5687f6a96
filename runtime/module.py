"""The decoded form of a WebAssembly module, shared by the validator, interpreter and compiler.

A function body is kept as a flat list of `Instr` tuples exactly as the binary has them
(including `else` and `end`), each with its byte offset in the module, so that every consumer
can report errors at a byte offset and decide for itself how to rebuild structure. The list
of a body the decoder's fast pass checked is made on first use of `FunctionBody.body`.

Exception handling (3.0 and legacy), as decoded:
- Tags: `Module.tags` holds the type index of each defined tag (the function type whose
  params are the payload; its results are empty in a valid module); an imported tag is an
  Import of kind 'tag' whose desc is its type index; an exported one an Export of kind 'tag'.
  The tag index space is the imported tags, then the defined ones (`tag_type_indices`).
- Instructions (immediates as opcodes.py lists them): throw (0x08, imm: tag index),
  throw_ref (0x0A, None), try_table (0x1F, imm: (blocktype, catches), catches a tuple of
  (kind, tag index or None, label), kind opcodes.CATCH / CATCH_REF / CATCH_ALL /
  CATCH_ALL_REF), closed by `end`. Legacy: try (0x06, imm: blocktype), catch (0x07, tag
  index) and catch_all (0x19, None) as instructions of their own between the try's body and
  its `end`, as `else` is in an if; delegate (0x18, imm: label) closes a try instead of
  `end`; rethrow (0x09, imm: label).
- Types: 'exnref', 'nullexnref', '(ref exn)', '(ref noexn)' (types.py). A type in a `rec`
  group of several types, or declared with `sub`, is a FuncType with a TypeGroup.
"""

from collections import namedtuple

# One instruction. `op` is an opcode from `opcodes.py` (prefixed ones are 0xFC00+n and
# 0xFD00+n); `imm` is its immediate in the form `opcodes.py` documents; `offset` is the byte
# offset of the opcode in the module binary.
Instr = namedtuple("Instr", "op imm offset")


class Import:
    def __init__(self, module, name, kind, desc):
        self.module = module
        self.name = name
        self.kind = kind        # 'func' | 'table' | 'memory' | 'global' | 'tag'
        self.desc = desc        # type index (func, tag) | TableType | MemoryType | GlobalType


class Export:
    def __init__(self, name, kind, index):
        self.name = name
        self.kind = kind        # 'func' | 'table' | 'memory' | 'global' | 'tag'
        self.index = index


class Global:
    def __init__(self, type, init):
        self.type = type        # GlobalType
        self.init = init        # constant expression: list of Instr without the final `end`


class ElemSegment:
    def __init__(self, mode, elem_type, init, table=0, offset=None):
        self.mode = mode            # 'active' | 'passive' | 'declarative'
        self.elem_type = elem_type  # 'funcref' | 'externref'
        self.init = init            # one constant expression (list of Instr) per element
        self.table = table
        self.offset = offset        # constant expression, active segments only


class DataSegment:
    def __init__(self, mode, data, memory=0, offset=None):
        self.mode = mode            # 'active' | 'passive'
        self.data = data
        self.memory = memory
        self.offset = offset


class FunctionBody:
    """A function's locals and code. The decoder's fast pass (body_check.py) leaves the code
    of a body it found valid in the module's bytes, and `body` decodes it on first use;
    otherwise the decoder gives `body` whole. (A module of 10 MB has ~60000 bodies: this
    object is kept small.)"""

    __slots__ = ("locals", "offset", "size", "num_locals", "_body", "_source")

    def __init__(self, locals, body, offset, num_locals=0, source=None, size=0):
        self.locals = locals        # [(count, valtype)] as declared; params are not included
        self.offset = offset        # byte offset of the body (its size field) in the module
        self.size = size            # the body's size field: bytes of its locals and code
        self.num_locals = num_locals    # sum of the declared counts
        self._body = body
        self._source = source       # (module bytes, binary format version) of a body the
                                    # fast pass found valid in its module

    @property
    def known_valid(self):
        """Whether the decoder's fast pass found the body valid (the validator skips it)."""
        return self._source is not None

    @property
    def body(self):
        """The list of Instr, ending with the function's final `end`."""
        if self._body is None:
            self._body = self.instructions()
        return self._body

    def instructions(self):
        """`body` without keeping it: a scan of a body kept as bytes decodes it anew. The
        compiler looks into the bodies of callees in other parts this way, so that a
        worker's memory follows its part, not the module."""
        if self._body is not None:
            return self._body
        from .decoder import decode_code
        return decode_code(self._source[0], self.offset, self._source[1])

    def release(self):
        """Drop the decoded code of a body kept as bytes (the compiler, once a part is
        lowered); `body` decodes it again if asked."""
        if self._source is not None:
            self._body = None


class Module:
    def __init__(self):
        self.types = []         # [FuncType], one per type index (a `rec` group's types in order)
        self.imports = []       # [Import]
        self.funcs = []         # type index of each defined function
        self.tables = []        # [TableType] defined here
        self.table_inits = []   # per defined table: its initialiser (3.0), or None for null
        self.memories = []      # [MemoryType] defined here
        self.tags = []          # type index of each defined tag (its params: the payload)
        self.globals = []       # [Global] defined here
        self.exports = []       # [Export]
        self.start = None
        self.elems = []         # [ElemSegment]
        self.datas = []         # [DataSegment]
        self.data_count = None
        self.codes = []         # [FunctionBody], one per defined function
        self.customs = []       # [(name, bytes)] in order of appearance
        self.func_names = {}    # function index -> name (name section)

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

    def tag_type_indices(self):
        """Type index of every tag in the tag index space."""
        return [imp.desc for imp in self.imports if imp.kind == "tag"] + list(self.tags)

    def all_global_types(self):
        return ([imp.desc for imp in self.imports if imp.kind == "global"]
                + [g.type for g in self.globals])

    def export_map(self):
        return {exp.name: exp for exp in self.exports}
