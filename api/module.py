"""A module ready to instantiate, on the engine chosen for it, and what it imports and exports.

Module takes what a user has: a binary module (.wasm), the text format (.wat, through
wasm-tools), or a file pyaotc compiled (.aot). The kind is told by the content, not the
file name, as pyiwasm tells it.
"""

import os

from pywamr.runtime.aot_layout import MAGIC as AOT_MAGIC
from pywamr.runtime.types import Record, TagType

from .engine import AOT, Engine

WASM_MAGIC = b"\0asm"


class ImportType(Record):
    """An import of a module: `type` is a FuncType, TableType, MemoryType, GlobalType or
    TagType."""
    __slots__ = ("module", "name", "type")

    def __init__(self, module, name, type):
        self.module = module
        self.name = name
        self.type = type


class ExportType(Record):
    """An export of a module: `type` is a FuncType, TableType, MemoryType, GlobalType or
    TagType."""
    __slots__ = ("name", "type")

    def __init__(self, name, type):
        self.name = name
        self.type = type


class Module:
    """A validated module, loaded (and, for the AOT engine, compiled) once; instantiate it
    with a Linker as often as needed.

    `data` is the module's bytes (.wasm, .aot, or .wat text) or a str of .wat text.
    MalformedModule or InvalidModule for a bad module, AotFormatError for a bad .aot file,
    CompileError for a module the compiler cannot compile."""

    def __init__(self, engine: Engine, data: "bytes | str"):
        self.engine = engine
        from pywamr.runtime.text_format import is_text, text_to_binary
        if isinstance(data, str):
            data = data.encode()
            if not is_text(data):
                raise ValueError("a str is read as the text format, and this is not a text "
                                 "module: for a file, use Module.from_file(engine, path)")
        data = bytes(data)
        if data[:1] != b"\0" and is_text(data):     # neither binary begins otherwise
            data = text_to_binary(data)
        self._aot = None
        if data[:len(AOT_MAGIC)] == AOT_MAGIC:
            if engine.kind != AOT:
                raise ValueError("a .aot file runs on the aot engine only, not on "
                                 f"{engine.kind}")
            self._aot = data
        elif engine.kind == AOT:
            self._aot = engine.compile(data)
        if self._aot is not None:
            from pywamr.loader.aot_module import AotModule
            self.loaded = AotModule(self._aot)
            self.described = self.loaded.module
        else:
            from pywamr.runtime.interp import Module as InterpModule
            self.loaded = InterpModule(data, fuel=engine.fuel)
            self.described = self.loaded.decoded

    @classmethod
    def from_file(cls, engine: Engine, path: "str | os.PathLike") -> "Module":
        """The module in the file at `path` (.wasm, .wat or .aot)."""
        with open(os.fspath(path), "rb") as file:
            return cls(engine, file.read())

    @classmethod
    def deserialize(cls, engine: Engine, aot: bytes) -> "Module":
        """The module of `serialize()`'s bytes: a .aot file."""
        if bytes(aot[:len(AOT_MAGIC)]) != AOT_MAGIC:
            raise ValueError("not a .aot file")
        return cls(engine, aot)

    def serialize(self) -> bytes:
        """The compiled module as a .aot file, for pyiwasm or `deserialize` (AOT engine)."""
        if self._aot is None:
            raise ValueError("an interpreted module has no compiled form")
        return self._aot

    @property
    def imports(self) -> list[ImportType]:
        """The module's imports, in order."""
        module = self.described
        return [ImportType(imp.module, imp.name, _import_type(module, imp))
                for imp in module.imports]

    @property
    def exports(self) -> list[ExportType]:
        """The module's exports, in order."""
        module = self.described
        kinds = {"func": [module.types[t] for t in module.func_type_indices()],
                 "table": module.all_tables(), "memory": module.all_memories(),
                 "global": module.all_global_types(),
                 "tag": [TagType(module.types[t]) for t in module.tag_type_indices()]}
        return [ExportType(exp.name, kinds[exp.kind][exp.index]) for exp in module.exports]

    def __repr__(self):
        return f"<Module on {self.engine.kind}: {len(self.imports)} imports, " \
               f"{len(self.exports)} exports>"


def _import_type(module, imp):
    if imp.kind == "tag":
        return TagType(module.types[imp.desc])
    return module.types[imp.desc] if imp.kind == "func" else imp.desc
