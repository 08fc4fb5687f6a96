"""What the harness needs to know about a module: the signatures of its exports, its globals
and its start function, read straight from the binary.

The harness has its own small reader so that it depends neither on the decoder under test nor
on wasmtime-py, which aborts the process when it meets a v128 in an export's type.
"""

from dataclasses import dataclass, field

VALTYPES = {0x7F: "i32", 0x7E: "i64", 0x7D: "f32", 0x7C: "f64", 0x7B: "v128",
            0x70: "funcref", 0x6F: "externref"}
KINDS = {0: "func", 1: "table", 2: "memory", 3: "global"}
_CONSTANT_ARITHMETIC = {0x6A: "i32.add", 0x6B: "i32.sub", 0x6C: "i32.mul",
                        0x7C: "i64.add", 0x7D: "i64.sub", 0x7E: "i64.mul"}


@dataclass
class Export:
    name: str
    kind: str        # func | table | memory | global
    index: int


@dataclass
class ModuleInfo:
    types: list = field(default_factory=list)        # (params, results) tuples
    funcs: list = field(default_factory=list)        # type index of every function
    globals: list = field(default_factory=list)      # (valtype, mutable, init) per global
    exports: list = field(default_factory=list)
    start: int | None = None
    imports: list = field(default_factory=list)      # (module, name, kind) in order

    def func_type(self, index):
        return self.types[self.funcs[index]]

    def exported(self, kind):
        return [e for e in self.exports if e.kind == kind]


class Reader:
    def __init__(self, data, pos=0, end=None):
        self.data = data
        self.pos = pos
        self.end = len(data) if end is None else end

    def byte(self):
        b = self.data[self.pos]
        self.pos += 1
        return b

    def bytes(self, n):
        out = self.data[self.pos:self.pos + n]
        self.pos += n
        return out

    def _leb(self):
        """(value, bits read, last byte) of an LEB128."""
        result = shift = 0
        while True:
            b = self.byte()
            result |= (b & 0x7F) << shift
            shift += 7
            if not b & 0x80:
                return result, shift, b

    def uleb(self):
        return self._leb()[0]

    def sleb(self, bits):
        result, shift, last = self._leb()
        if last & 0x40:
            result -= 1 << shift
        return result & ((1 << bits) - 1)

    def name(self):
        return self.bytes(self.uleb()).decode("utf-8")

    def valtype(self):
        return VALTYPES[self.byte()]

    def vec(self, read):
        return [read() for _ in range(self.uleb())]

    def limits(self):
        flags = self.byte()
        minimum = self.uleb()
        maximum = self.uleb() if flags & 1 else None
        return minimum, maximum

    def const_expr(self):
        """The init expression's instruction as (opcode name, immediate); an extended
        constant expression of several as ("extended", (instruction, ...))."""
        instrs = []
        while (op := self.byte()) != 0x0B:
            instrs.append(self.const_instr(op))
        return instrs[0] if len(instrs) == 1 else ("extended", tuple(instrs))

    def const_instr(self, op):
        if op == 0x41:
            return ("i32.const", self.sleb(32))
        if op == 0x42:
            return ("i64.const", self.sleb(64))
        if op == 0x43:
            return ("f32.const", int.from_bytes(self.bytes(4), "little"))
        if op == 0x44:
            return ("f64.const", int.from_bytes(self.bytes(8), "little"))
        if op == 0xFD:
            self.uleb()
            return ("v128.const", int.from_bytes(self.bytes(16), "little"))
        if op == 0xD0:
            return ("ref.null", self.byte())
        if op == 0xD2:
            return ("ref.func", self.uleb())
        if op == 0x23:
            return ("global.get", self.uleb())
        if op in _CONSTANT_ARITHMETIC:
            return (_CONSTANT_ARITHMETIC[op], None)
        raise ValueError(f"unexpected constant expression opcode {op:#x}")


def read_module(wasm: bytes) -> ModuleInfo:
    """The signatures, globals and exports of a valid module of the features fuzzed."""
    if wasm[:8] != b"\0asm\1\0\0\0":
        raise ValueError("not a WebAssembly 1.0/2.0 module")
    info = ModuleInfo()
    r = Reader(wasm, 8)
    while r.pos < len(wasm):
        section, size = r.byte(), r.uleb()
        body = Reader(wasm, r.pos, r.pos + size)
        r.pos += size
        if section == 1:
            for _ in range(body.uleb()):
                if body.byte() != 0x60:
                    raise ValueError("only function types are expected")
                info.types.append((tuple(body.vec(body.valtype)), tuple(body.vec(body.valtype))))
        elif section == 2:
            for _ in range(body.uleb()):
                module, name = body.name(), body.name()
                kind = body.byte()
                info.imports.append((module, name, KINDS[kind]))
                if kind == 0:
                    info.funcs.append(body.uleb())
                elif kind == 1:
                    body.valtype(), body.limits()
                elif kind == 2:
                    body.limits()
                elif kind == 3:
                    info.globals.append((body.valtype(), bool(body.byte()), None))
        elif section == 3:
            info.funcs += body.vec(body.uleb)
        elif section == 6:
            for _ in range(body.uleb()):
                valtype, mutable = body.valtype(), bool(body.byte())
                info.globals.append((valtype, mutable, body.const_expr()))
        elif section == 7:
            for _ in range(body.uleb()):
                name = body.name()
                kind = KINDS[body.byte()]
                info.exports.append(Export(name, kind, body.uleb()))
        elif section == 8:
            info.start = body.uleb()
    return info
