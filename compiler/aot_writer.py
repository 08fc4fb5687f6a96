"""Write the `.aot` file: target description, stripped wasm module, object image, checksum.

The layout is docs/aot-format.md and runtime/aot_layout.py; the reader is pywamr.loader.aot_file.
Standard library only, like the loader.
"""

import struct
import zlib

from pywamr.runtime.aot_abi import func_symbol
from pywamr.runtime.aot_layout import (
    CHECKSUM_OFFSET, CHECKSUMMED_FROM, FLAG_EXECUTABLE, FLAG_WRITABLE, FORMAT_VERSION, HEADER,
    MAGIC, NO_SECTION, RELOCATION_RECORD, SECTION_HEADER, SECTION_MODULE, SECTION_OBJECT,
    SECTION_RELOCATIONS, SECTION_RECORD, SECTION_SYMBOLS, SECTION_TARGET, SYMBOL_RECORD,
    function_names_payload, leb_u32, module_interface, wasm_name)
from pywamr.runtime.decoder import Reader, parse_function_names

WASM_CODE_SECTION = 10
WASM_CUSTOM_SECTION = 0
EMPTY_BODY = b"\x02\x00\x0b"   # body size 2: no locals, `end`


def write_aot(module_bytes: bytes, module, image, target: dict) -> bytes:
    """Serialise a compiled module.

    `module` is the decoded Module (used to check that every defined function has its code),
    `image` a compiler.object_image.ObjectImage (sections referred to by index), `target` the
    dict TargetSpec.as_dict() makes.
    """
    defined = {symbol.name for symbol in image.symbols if symbol.section is not None}
    first_defined = module.num_imported_funcs
    for func_index in range(first_defined, first_defined + len(module.funcs)):
        if func_symbol(func_index) not in defined:
            raise ValueError(f"the object image has no {func_symbol(func_index)}")

    payload = b"".join([
        _section(SECTION_TARGET, _target(target) + _string(module_interface(module))),
        _section(SECTION_MODULE, strip_function_bodies(module_bytes)),
        _section(SECTION_OBJECT, _object_sections(image.sections)),
        _section(SECTION_SYMBOLS, _symbols(image.symbols)),
        _section(SECTION_RELOCATIONS, _relocations(image.relocations)),
    ])
    header = bytearray(HEADER.pack(MAGIC, FORMAT_VERSION, 0, len(payload)))
    checksum = zlib.crc32(payload, zlib.crc32(header[CHECKSUMMED_FROM:]))
    struct.pack_into("<I", header, CHECKSUM_OFFSET, checksum)
    return bytes(header) + payload


def strip_function_bodies(module_bytes):
    """The module with every function body replaced by an empty one and custom sections
    dropped but for the function names of the name section, which it keeps at the end: the
    loader decodes it for the metadata and the names of backtraces, and never needs the
    code."""
    out = [module_bytes[:8]]
    func_names = {}
    pos = 8
    while pos < len(module_bytes):
        section_id = module_bytes[pos]
        reader = Reader(module_bytes, pos + 1)
        size = reader.u32()
        end = reader.pos + size
        if section_id == WASM_CODE_SECTION:
            count = reader.u32()
            content = leb_u32(count) + EMPTY_BODY * count
            out.append(bytes([section_id]) + leb_u32(len(content)) + content)
        elif section_id != WASM_CUSTOM_SECTION:
            out.append(module_bytes[pos:end])
        elif reader.name() == "name":
            func_names = parse_function_names(module_bytes[reader.pos:end])
        pos = end
    if func_names:
        content = wasm_name("name") + function_names_payload(func_names)
        out.append(bytes([WASM_CUSTOM_SECTION]) + leb_u32(len(content)) + content)
    return b"".join(out)


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
