"""Write the `.aot` file: target description, the module's metadata, object image, checksum.

The layout is docs/aot-format.md and runtime/aot_layout.py; the reader is pywamr.loader.aot_file.
Standard library only, like the loader.
"""

import struct
import zlib

from pywamr.runtime.aot_abi import func_symbol
from pywamr.runtime.aot_layout import (
    CHECKSUM_OFFSET, CHECKSUMMED_FROM, CONSTANT_ARITHMETIC, CONSTANT_RECORD, COUNT, DATA_MODES,
    ELEM_MODES, EXTERN_KINDS, F32_CONST, F64_CONST, FLAG_EXECUTABLE, FLAG_WRITABLE, FORMAT_VERSION,
    GLOBAL_GET, HEADER, HEAP_TYPES, TYPE_GROUP_RECORD, I32_CONST, I64_CONST, LIMITS_64,
    LIMITS_HAS_MAX, LIMITS_RECORD, MAGIC, NO_SECTION,
    NO_START, REF_CODE, REF_FUNC, REF_NULL, REF_NULL_CODE, RELOCATION_RECORD, SECTION_HEADER,
    SECTION_MODULE, SECTION_OBJECT, SECTION_RELOCATIONS, SECTION_RECORD, SECTION_SYMBOLS,
    SECTION_TARGET, SYMBOL_RECORD, V128_CONST, module_interface)
from pywamr.runtime.types import VALTYPE_CODES, heap_type, is_nullable

_VALTYPE_CODES = {name: code for code, name in VALTYPE_CODES.items()}
_U64 = (1 << 64) - 1


def write_aot(module, image, target: dict) -> bytes:
    """Serialise a compiled module.

    `module` is the decoded and validated Module, `image` a compiler.object_image.ObjectImage
    (sections referred to by index), `target` the dict TargetSpec.as_dict() makes.
    """
    defined = {symbol.name for symbol in image.symbols if symbol.section is not None}
    first_defined = module.num_imported_funcs
    for func_index in range(first_defined, first_defined + len(module.funcs)):
        if func_symbol(func_index) not in defined:
            raise ValueError(f"the object image has no {func_symbol(func_index)}")

    payload = b"".join([
        _section(SECTION_TARGET, _target(target) + _string(module_interface(module))),
        _section(SECTION_MODULE, module_metadata(module)),
        _section(SECTION_OBJECT, _object_sections(image.sections)),
        _section(SECTION_SYMBOLS, _symbols(image.symbols)),
        _section(SECTION_RELOCATIONS, _relocations(image.relocations)),
    ])
    header = bytearray(HEADER.pack(MAGIC, FORMAT_VERSION, 0, len(payload)))
    checksum = zlib.crc32(payload, zlib.crc32(header[CHECKSUMMED_FROM:]))
    struct.pack_into("<I", header, CHECKSUM_OFFSET, checksum)
    return bytes(header) + payload


def module_metadata(module):
    """The module section: everything the loader instantiates the module from, and the
    function names of backtraces; no code (docs/aot-format.md, "Module")."""
    out = [COUNT.pack(len(module.types))]
    for functype in module.types:
        out += [_valtypes(functype.params), _valtypes(functype.results), _group(functype.group)]
    out.append(COUNT.pack(len(module.imports)))
    for imp in module.imports:
        out += [_string(imp.module), _string(imp.name), bytes([EXTERN_KINDS.index(imp.kind)])]
        if imp.kind == "func":
            out.append(COUNT.pack(imp.desc))
        elif imp.kind == "table":
            out.append(_table_type(imp.desc))
        elif imp.kind == "memory":
            out.append(_limits(imp.desc))
        elif imp.kind == "tag":
            out.append(COUNT.pack(imp.desc))
        else:
            out.append(_global_type(imp.desc))
    out.append(COUNT.pack(len(module.funcs)))
    out.append(struct.pack(f"<{len(module.funcs)}I", *module.funcs))
    out.append(COUNT.pack(len(module.tables)))
    out += [_table_type(table) + _constant(init or [])
            for table, init in zip(module.tables, module.table_inits)]
    out.append(COUNT.pack(len(module.memories)))
    out += [_limits(memory) for memory in module.memories]
    out.append(COUNT.pack(len(module.tags)))
    out.append(struct.pack(f"<{len(module.tags)}I", *module.tags))
    out.append(COUNT.pack(len(module.globals)))
    out += [_global_type(glob.type) + _constant(glob.init) for glob in module.globals]
    out.append(COUNT.pack(len(module.exports)))
    for export in module.exports:
        out += [_string(export.name), bytes([EXTERN_KINDS.index(export.kind)]),
                COUNT.pack(export.index)]
    out.append(COUNT.pack(NO_START if module.start is None else module.start))
    out.append(COUNT.pack(len(module.elems)))
    for seg in module.elems:
        out += [bytes([ELEM_MODES.index(seg.mode)]), _valtype(seg.elem_type),
                COUNT.pack(seg.table)]
        if seg.mode == "active":
            out.append(_constant(seg.offset))
        out.append(COUNT.pack(len(seg.init)))
        out += [_constant(expr) for expr in seg.init]
    out.append(COUNT.pack(len(module.datas)))
    for seg in module.datas:
        out += [bytes([DATA_MODES.index(seg.mode)]), COUNT.pack(seg.memory)]
        if seg.mode == "active":
            out.append(_constant(seg.offset))
        out += [COUNT.pack(len(seg.data)), seg.data]
    names = sorted(module.func_names.items())
    out.append(COUNT.pack(len(names)))
    out += [COUNT.pack(index) + _string(name) for index, name in names]
    return b"".join(out)


def _group(group):
    if group is None:
        return b"\0"
    return (b"\1" + TYPE_GROUP_RECORD.pack(group.first, group.size, group.final)
            + COUNT.pack(len(group.supertypes))
            + struct.pack(f"<{len(group.supertypes)}I", *group.supertypes))


def _valtypes(valtypes):
    return COUNT.pack(len(valtypes)) + b"".join(map(_valtype, valtypes))


def _valtype(valtype):
    code = _VALTYPE_CODES.get(valtype)
    if code is not None:
        return bytes([code])
    code = REF_NULL_CODE if is_nullable(valtype) else REF_CODE
    return bytes([code]) + COUNT.pack(_heap_type(valtype))


def _heap_type(reftype):
    heap = heap_type(reftype)
    return HEAP_TYPES.get(heap, heap)


def _limits(externtype):
    """The limits of a table or memory type, with its address type (memory64)."""
    limits = externtype.limits
    has_max = limits.max is not None
    flags = (LIMITS_HAS_MAX if has_max else 0) | (LIMITS_64 if externtype.address_type == "i64"
                                                  else 0)
    return LIMITS_RECORD.pack(flags, limits.min, limits.max if has_max else 0)


def _table_type(tabletype):
    return _valtype(tabletype.elem_type) + _limits(tabletype)


def _global_type(globaltype):
    return _valtype(globaltype.valtype) + bytes([globaltype.mutable])


def _constant(expr):
    """A constant expression of a valid module: its instructions' count, then each one."""
    return COUNT.pack(len(expr)) + b"".join(_constant_instr(instr) for instr in expr)


def _constant_instr(instr):
    op, imm = instr.op, instr.imm
    if op in CONSTANT_ARITHMETIC:
        return CONSTANT_RECORD.pack(op, 0, 0)
    if op in (I32_CONST, F32_CONST, REF_FUNC, GLOBAL_GET):
        return CONSTANT_RECORD.pack(op, imm & 0xFFFF_FFFF, 0)
    if op in (I64_CONST, F64_CONST):
        return CONSTANT_RECORD.pack(op, imm & _U64, 0)
    if op == V128_CONST:
        return CONSTANT_RECORD.pack(op, imm & _U64, imm >> 64)
    if op == REF_NULL:
        return CONSTANT_RECORD.pack(op, _heap_type(imm), 0)
    raise ValueError(f"opcode {op:#x} in a constant expression")


def _target(target):
    return b"".join([
        _string(target["arch"]), _string(target["triple"]), _string(target["cpu"]),
        _string(target["features"]), _string(target["code_model"]),
        bytes([target["opt_level"], target["size_level"]]), _string(target["bounds_checks"]),
        struct.pack("<I", target["memory_limit"]),
        bytes([target["fuel"], target["interrupt_checks"]]),
    ])


def _object_sections(sections):
    out = [struct.pack("<I", len(sections))]
    for section in sections:
        flags = (FLAG_EXECUTABLE if section.executable else 0) | \
                (FLAG_WRITABLE if section.writable else 0)
        data = bytes(section.data).rstrip(b"\0")   # the reader zero-fills up to `size`
        out.append(_string(section.name))
        out.append(SECTION_RECORD.pack(flags, section.align or 1, max(section.size, len(data)),
                                       len(data)))
        out.append(data)
    return b"".join(out)


def _symbols(symbols):
    out = [struct.pack("<I", len(symbols))]
    for symbol in symbols:
        section = NO_SECTION if symbol.section is None else symbol.section
        out.append(_string(symbol.name))
        out.append(SYMBOL_RECORD.pack(section, symbol.offset))
    return b"".join(out)


def _relocations(relocations):
    out = [struct.pack("<I", len(relocations))]
    for r in relocations:
        out.append(RELOCATION_RECORD.pack(r.section, r.type, r.offset, r.symbol, 0, r.addend))
    return b"".join(out)


def _section(section_id, body):
    return SECTION_HEADER.pack(section_id, len(body)) + body


def _string(text):
    raw = text.encode("utf-8")
    return struct.pack("<I", len(raw)) + raw
