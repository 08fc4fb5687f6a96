"""A byte-level map of an `.aot` file for the mutant run (aot_mutants.py): every field of
the container (docs/aot-format.md), the module's metadata included, with its position,
width, encoding and a label such as `relocation[3].addend` or `module.export[0].index`.

The map is built by its own reading of the layout, not by the loader's reader: it must
describe the bytes the loader is about to refuse, and it is the fuzzer's idea of the format
that the loader is tested against.
"""

import struct
from collections import namedtuple

from pywamr.runtime.aot_layout import (HEADER, REF_CODE, REF_NULL_CODE, RELOCATION_RECORD,
                                       SECTION_HEADER)

# kind: 'u8' 'u16' 'u32' 'u64' 'i64' (little-endian integers), 'bytes' (opaque: names,
# strings, magic), 'code' (object section contents: never mutated). limit: for offsets and
# indices, the size of what they index (None when unknown); value: the integer the field
# holds.
Field = namedtuple("Field", "start size kind label value limit", defaults=(None, None))


class _Cursor:
    def __init__(self, data, pos, end, fields):
        self.data = data
        self.pos = pos
        self.end = end
        self.fields = fields

    def int(self, kind, label, limit=None):
        size = {"u8": 1, "u16": 2, "u32": 4, "u64": 8, "i64": 8}[kind]
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
    c.int("u8", "target.fuel")
    c.int("u8", "target.interrupt_checks")
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


# The module's metadata (docs/aot-format.md, "Module"): every field, the index spaces' sizes
# as the limits of the indices into them.

def _module(c):
    types = _vec(c, "module.type", _functype)
    imports = _vec(c, "module.import", lambda c, label: _import(c, label, len(types)))
    counts = {kind: imports.count(kind) for kind in range(5)}
    count = c.int("u32", "module.function.count")
    for i in range(count):
        c.int("u32", f"module.function[{i}].type", len(types))
    funcs = counts[0] + count
    tables = counts[1] + len(_vec(c, "module.table", _defined_table))
    memories = counts[2] + len(_vec(c, "module.memory",
                                    lambda c, label: _limits(c, f"{label}.limits")))
    tags = counts[4] + len(_vec(c, "module.tag",
                                lambda c, label: c.int("u32", f"{label}.type", len(types))))
    globals_ = counts[3] + len(_vec(c, "module.global", _global))
    spaces = [funcs, tables, memories, globals_, tags]

    def export(c, label):
        c.string(f"{label}.name")
        kind = c.int("u8", f"{label}.kind", 5)
        c.int("u32", f"{label}.index", spaces[kind] if kind < 5 else None)
    _vec(c, "module.export", export)
    c.int("u32", "module.start", funcs)

    def element(c, label):
        mode = c.int("u8", f"{label}.mode", 3)
        _valtype(c, f"{label}.reftype")
        c.int("u32", f"{label}.table", tables)
        if mode == 0:
            _constant(c, f"{label}.offset")
        for i in range(c.int("u32", f"{label}.init.count")):
            _constant(c, f"{label}.init[{i}]", funcs)
    _vec(c, "module.element", element)

    def data(c, label):
        mode = c.int("u8", f"{label}.mode", 2)
        c.int("u32", f"{label}.memory", memories)
        if mode == 0:
            _constant(c, f"{label}.offset")
        c.blob(c.int("u32", f"{label}.length"), "bytes", f"{label}.bytes")
    _vec(c, "module.data", data)

    def name(c, label):
        c.int("u32", f"{label}.function", funcs)
        c.string(f"{label}.name")
    _vec(c, "module.name", name)


def _vec(c, label, item):
    """Read a u32 count and that many items; the items' return values, in order."""
    return [item(c, f"{label}[{i}]") for i in range(c.int("u32", f"{label}.count"))]


def _functype(c, label):
    for part in ("params", "results"):
        for i in range(c.int("u32", f"{label}.{part}.count")):
            _valtype(c, f"{label}.{part}[{i}]")
    if c.int("u8", f"{label}.has_group", 2):
        c.int("u32", f"{label}.group.first")
        c.int("u32", f"{label}.group.size")
        c.int("u8", f"{label}.group.final", 2)
        for i in range(c.int("u32", f"{label}.supertypes.count")):
            c.int("u32", f"{label}.supertypes[{i}]")


def _valtype(c, label):
    """A value type's code, and after that of a (ref ...) type its heap type."""
    if c.int("u8", label) in (REF_NULL_CODE, REF_CODE):
        c.int("u32", f"{label}.heap")


def _limits(c, label):
    c.int("u8", f"{label}.flags")
    c.int("u64", f"{label}.min")
    c.int("u64", f"{label}.max")


def _table(c, label):
    _valtype(c, f"{label}.reftype")
    _limits(c, f"{label}.limits")


def _defined_table(c, label):
    _table(c, label)
    _constant(c, f"{label}.init")


def _global(c, label):
    _valtype(c, f"{label}.valtype")
    c.int("u8", f"{label}.mutable")
    _constant(c, f"{label}.init")


def _import(c, label, types):
    c.string(f"{label}.module")
    c.string(f"{label}.name")
    kind = c.int("u8", f"{label}.kind")
    if kind == 0:
        c.int("u32", f"{label}.type", types)
    elif kind == 1:
        _table(c, label)
    elif kind == 2:
        _limits(c, f"{label}.limits")
    elif kind == 3:
        _valtype(c, f"{label}.valtype")
        c.int("u8", f"{label}.mutable")
    elif kind == 4:
        c.int("u32", f"{label}.type", types)
    else:
        raise ValueError("unknown import kind")
    return kind


def _constant(c, label, limit=None):
    """A constant expression: a count, then each instruction (`{label}[k]`)."""
    for k in range(c.int("u32", f"{label}.count")):
        c.int("u16", f"{label}[{k}].op")
        c.int("u64", f"{label}[{k}].value", limit)
        c.int("u64", f"{label}[{k}].high")


def pack_int(kind, value, size):
    """`value` encoded as a field of `kind` and `size` bytes, or None if it does not fit."""
    if kind in ("u8", "u16", "u32", "u64"):
        if not 0 <= value < 1 << (8 * size):
            return None
        return value.to_bytes(size, "little")
    if kind == "i64":
        if not -(1 << 63) <= value < 1 << 63:
            return None
        return struct.pack("<q", value)
    return None
