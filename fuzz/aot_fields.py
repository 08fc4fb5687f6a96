"""A byte-level map of an `.aot` file for the mutant run (aot_mutants.py): every field of
the container (docs/aot-format.md), and of the wasm module inside it, with its position,
width, encoding and a label such as `relocation[3].addend` or `module.export[0].index`.

The map is built by its own reading of the layout, not by the loader's reader: it must
describe the bytes the loader is about to refuse, and it is the fuzzer's idea of the format
that the loader is tested against.
"""

import struct
from collections import namedtuple

from pywamr.runtime.aot_layout import HEADER, RELOCATION_RECORD, SECTION_HEADER

# kind: 'u8' 'u32' 'u64' 'i64' (little-endian integers), 'uleb' 'sleb' (LEB128 in the wasm
# module, mutated in place at the same length), 'bytes' (opaque: names, strings, magic),
# 'code' (object section contents: never mutated). limit: for offsets and indices, the size
# of what they index (None when unknown); value: the integer the field holds.
Field = namedtuple("Field", "start size kind label value limit", defaults=(None, None))


class _Cursor:
    def __init__(self, data, pos, end, fields):
        self.data = data
        self.pos = pos
        self.end = end
        self.fields = fields

    def int(self, kind, label, limit=None):
        size = {"u8": 1, "u32": 4, "u64": 8, "i64": 8}[kind]
        if self.pos + size > self.end:
            raise ValueError(f"{label} runs past its section")
        value = int.from_bytes(self.data[self.pos:self.pos + size], "little",
                               signed=kind == "i64")
        self.fields.append(Field(self.pos, size, kind, label, value, limit))
        self.pos += size
        return value

    def blob(self, size, kind, label):
        if size > self.end - self.pos:
            raise ValueError(f"{label} runs past its section")
        self.fields.append(Field(self.pos, size, kind, label))
        self.pos += size
        return self.data[self.pos - size:self.pos]

    def string(self, label):
        length = self.int("u32", f"{label}.length")
        return bytes(self.blob(length, "bytes", label)).decode("utf-8", "replace")

    # The wasm module's encodings.

    def leb(self, label, signed=False, limit=None):
        start, value, shift = self.pos, 0, 0
        while True:
            if self.pos >= self.end:
                raise ValueError(f"{label} runs past its section")
            byte = self.data[self.pos]
            self.pos += 1
            value |= (byte & 0x7F) << shift
            shift += 7
            if not byte & 0x80:
                break
        if signed and byte & 0x40:
            value -= 1 << shift
        self.fields.append(Field(start, self.pos - start, "sleb" if signed else "uleb", label,
                                 value, limit))
        return value

    def byte(self, label):
        return self.int("u8", label)


def map_aot(data):
    """[Field] covering the file, in order. Parts the map cannot follow (a layout it does not
    know) are left out, and only byte flips reach them."""
    fields = []
    top = _Cursor(data, 0, len(data), fields)
    top.blob(8, "bytes", "header.magic")
    top.int("u32", "header.version")
    top.blob(4, "checksum", "header.checksum")
    top.int("u64", "header.payload_length")
    pos = HEADER.size
    bodies = {}
    for index in range(1, 6):
        if pos + SECTION_HEADER.size > len(data):
            return fields
        cursor = _Cursor(data, pos, len(data), fields)
        cursor.int("u8", f"section{index}.id")
        size = cursor.int("u64", f"section{index}.size")
        bodies[index] = _Cursor(data, cursor.pos, min(cursor.pos + size, len(data)), fields)
        pos = cursor.pos + size
    sections, symbol_count = [], None
    for index in range(1, 6):
        try:
            if index == 1:
                _target(bodies[1])
            elif index == 2:
                _module(bodies[2])
            elif index == 3:
                sections = _object_sections(bodies[3])
            elif index == 4:
                symbol_count = _symbols(bodies[4], sections)
            else:
                _relocations(bodies[5], sections, symbol_count)
        except ValueError:
            continue
    fields.sort(key=lambda field: field.start)
    return fields


def _target(c):
    for name in ("arch", "triple", "cpu", "features", "code_model"):
        c.string(f"target.{name}")
    c.int("u8", "target.opt_level")
    c.int("u8", "target.size_level")
    c.string("target.bounds_checks")
    c.int("u32", "target.memory_limit")
    c.string("target.interface")


def _object_sections(c):
    sections = []
    count = c.int("u32", "object.count")
    for i in range(count):
        c.string(f"object[{i}].name")
        c.int("u8", f"object[{i}].flags")
        c.int("u32", f"object[{i}].align")
        size = c.int("u64", f"object[{i}].size")
        stored = c.int("u64", f"object[{i}].stored")
        c.blob(stored, "code", f"object[{i}].data")
        sections.append(size)
    return sections


def _symbols(c, sections):
    count = c.int("u32", "symbol.count")
    for i in range(count):
        c.string(f"symbol[{i}].name")
        section = c.int("u32", f"symbol[{i}].section", len(sections))
        limit = sections[section] if section < len(sections) else None
        c.int("u64", f"symbol[{i}].offset", limit)
    return count


def _relocations(c, sections, symbols):
    count = c.int("u32", "relocation.count")
    for i in range(count):
        start = c.pos
        section = c.int("u32", f"relocation[{i}].section", len(sections))
        c.int("u32", f"relocation[{i}].type")
        limit = sections[section] if section < len(sections) else None
        c.int("u64", f"relocation[{i}].offset", limit)
        c.int("u32", f"relocation[{i}].symbol", symbols)
        c.int("u32", f"relocation[{i}].reserved")
        c.int("i64", f"relocation[{i}].addend")
        assert c.pos - start == RELOCATION_RECORD.size


# The wasm module: sections by id, and inside them the fields the loader's checks are about
# (indices, counts, kinds, types, limits, initialisers).

def _module(c):
    c.blob(8, "bytes", "module.header")
    k = 0
    while c.pos < c.end:
        section_id = c.byte(f"module.section[{k}].id")
        size = c.leb(f"module.section[{k}].size")
        body = _Cursor(c.data, c.pos, min(c.pos + size, c.end), c.fields)
        c.pos = body.end
        walker = _WASM_SECTIONS.get(section_id)
        if walker is not None:
            try:
                walker(body, _WASM_NAMES[section_id])
            except (ValueError, IndexError):
                pass
        k += 1


def _vec(c, label, item):
    for i in range(c.leb(f"{label}.count")):
        item(c, f"{label}[{i}]")


def _name(c, label):
    length = c.leb(f"{label}.length")
    c.blob(length, "bytes", label)


def _limits(c, label):
    flags = c.byte(f"{label}.flags")
    c.leb(f"{label}.min")
    if flags & 1:
        c.leb(f"{label}.max")


def _const_expr(c, label):
    while True:
        end = c.pos < c.end and c.data[c.pos] == 0x0B
        op = c.byte(f"{label}.end" if end else f"{label}.op")
        if end:
            return
        if op in (0x41, 0x42):
            c.leb(f"{label}.value", signed=True)
        elif op == 0x43:
            c.blob(4, "bytes", f"{label}.value")
        elif op == 0x44:
            c.blob(8, "bytes", f"{label}.value")
        elif op in (0x23, 0xD2):
            c.leb(f"{label}.index")
        elif op == 0xD0:
            c.byte(f"{label}.reftype")
        elif op == 0xFD:
            c.leb(f"{label}.simd_op")
            c.blob(16, "bytes", f"{label}.value")
        else:
            raise ValueError("unknown constant instruction")


def _types(c, label):
    def functype(c, label):
        c.byte(f"{label}.form")
        for part in ("params", "results"):
            for i in range(c.leb(f"{label}.{part}.count")):
                c.byte(f"{label}.{part}[{i}]")
    _vec(c, label, functype)


def _imports(c, label):
    def entry(c, label):
        _name(c, f"{label}.module")
        _name(c, f"{label}.name")
        kind = c.byte(f"{label}.kind")
        if kind == 0:
            c.leb(f"{label}.type")
        elif kind == 1:
            c.byte(f"{label}.reftype")
            _limits(c, f"{label}.limits")
        elif kind == 2:
            _limits(c, f"{label}.limits")
        else:
            c.byte(f"{label}.valtype")
            c.byte(f"{label}.mutable")
    _vec(c, label, entry)


def _functions(c, label):
    _vec(c, label, lambda c, label: c.leb(f"{label}.type"))


def _tables(c, label):
    def table(c, label):
        c.byte(f"{label}.reftype")
        _limits(c, f"{label}.limits")
    _vec(c, label, table)


def _memories(c, label):
    _vec(c, label, lambda c, label: _limits(c, f"{label}.limits"))


def _globals(c, label):
    def global_(c, label):
        c.byte(f"{label}.valtype")
        c.byte(f"{label}.mutable")
        _const_expr(c, f"{label}.init")
    _vec(c, label, global_)


def _exports(c, label):
    def export(c, label):
        _name(c, f"{label}.name")
        c.byte(f"{label}.kind")
        c.leb(f"{label}.index")
    _vec(c, label, export)


def _start(c, label):
    c.leb(f"{label}.function")


def _elements(c, label):
    def segment(c, label):
        flags = c.leb(f"{label}.flags")
        if flags & 1 == 0:                     # active
            if flags & 2:
                c.leb(f"{label}.table")
            _const_expr(c, f"{label}.offset")
        if flags & 3:                          # elemkind or reftype, unless flags 0 or 4
            c.byte(f"{label}.kind")
        count = c.leb(f"{label}.init.count")
        for i in range(count):
            if flags & 4:
                _const_expr(c, f"{label}.init[{i}]")
            else:
                c.leb(f"{label}.init[{i}].function")
    _vec(c, label, segment)


def _code(c, label):
    def body(c, label):
        size = c.leb(f"{label}.size")
        c.blob(size, "bytes", f"{label}.body")
    _vec(c, label, body)


def _data(c, label):
    def segment(c, label):
        flags = c.leb(f"{label}.flags")
        if flags == 2:
            c.leb(f"{label}.memory")
        if flags != 1:
            _const_expr(c, f"{label}.offset")
        _name(c, f"{label}.bytes")
    _vec(c, label, segment)


def _data_count(c, label):
    c.leb(f"{label}.count")


_WASM_SECTIONS = {1: _types, 2: _imports, 3: _functions, 4: _tables, 5: _memories,
                  6: _globals, 7: _exports, 8: _start, 9: _elements, 10: _code, 11: _data,
                  12: _data_count}
_WASM_NAMES = {1: "module.type", 2: "module.import", 3: "module.function", 4: "module.table",
               5: "module.memory", 6: "module.global", 7: "module.export", 8: "module.start",
               9: "module.element", 10: "module.code", 11: "module.data",
               12: "module.datacount"}


def pack_int(kind, value, size):
    """`value` encoded as a field of `kind` and `size` bytes, or None if it does not fit."""
    if kind in ("u8", "u32", "u64"):
        if not 0 <= value < 1 << (8 * size):
            return None
        return value.to_bytes(size, "little")
    if kind == "i64":
        if not -(1 << 63) <= value < 1 << 63:
            return None
        return struct.pack("<q", value)
    if kind == "uleb":
        if not 0 <= value < 1 << (7 * size):
            return None
        out = bytearray()
        for i in range(size):
            out.append((value >> (7 * i)) & 0x7F | (0x80 if i < size - 1 else 0))
        return bytes(out)
    if kind == "sleb":
        if not -(1 << (7 * size - 1)) <= value < 1 << (7 * size - 1):
            return None
        out = bytearray()
        for i in range(size):
            out.append((value >> (7 * i)) & 0x7F | (0x80 if i < size - 1 else 0))
        return bytes(out)
    return None

