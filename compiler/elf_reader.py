"""Read LLVM's ELF relocatable object (64-bit, little-endian: x86_64 and AArch64) into an
`ObjectImage`.

Kept: the sections that occupy memory at run time (SHF_ALLOC) except notes, the symbols
defined in them or undefined (libc/libm functions LLVM calls), and the RELA relocations that
patch them. The unwind tables (.eh_frame), which a trap's backtrace is read with
(traps.py), get the zero word that ends the list of their entries, which a linker would add.

The format is read with `struct`: the headers are a few fixed records, and a library for it
(lief, used before) cost 50 MB of memory in every compile for reading them.
"""

import struct

from pywamr.runtime import aot_abi as abi

from . import CompileError
from .object_image import ObjectImage, ObjRelocation, ObjSection, ObjSymbol

_DROPPED_PREFIXES = (".note", ".comment", ".debug")
END_OF_UNWIND_TABLES = bytes(4)

_HEADER = struct.Struct("<16sHHIQQQIHHHHHH")
_SECTION = struct.Struct("<IIQQQQIIQQ")   # name, type, flags, addr, offset, size, link, info,
                                          # alignment, entry size
_SYMBOL = struct.Struct("<IBBHQQ")        # name, info, other, section index, value, size
_RELA = struct.Struct("<QQq")             # offset, info, addend

_ELF64_LITTLE_ENDIAN = b"\x7fELF\x02\x01"
_SHT_SYMTAB, _SHT_RELA, _SHT_NOBITS, _SHT_REL = 2, 4, 8, 9
_SHF_WRITE, _SHF_ALLOC, _SHF_EXECINSTR = 1, 2, 4
_STT_SECTION, _STT_FILE = 3, 4
_STB_LOCAL = 0
_SHN_UNDEF = 0
_SHN_LORESERVE = 0xFF00


def read_elf_object(data: bytes, arch: str) -> ObjectImage:
    if not data.startswith(_ELF64_LITTLE_ENDIAN):
        raise CompileError("LLVM produced an object that is not 64-bit little-endian ELF")
    header = _HEADER.unpack_from(data)
    section_offset, count, names_index = header[6], header[12], header[13]
    sections = [_SECTION.unpack_from(data, section_offset + i * _SECTION.size)
                for i in range(count)]
    names = sections[names_index]
    section_names = [_string(data, names[4] + s[0]) for s in sections]
    image = ObjectImage(arch=arch)

    kept = {}   # ELF section index -> image section index
    for elf_index, (name, (_, kind, flags, _, offset, size, _, _, alignment, _)) in \
            enumerate(zip(section_names, sections)):
        if not (flags & _SHF_ALLOC and size > 0 and not name.startswith(_DROPPED_PREFIXES)):
            continue
        kept[elf_index] = len(image.sections)
        content = b"" if kind == _SHT_NOBITS else data[offset:offset + size]
        if name == abi.UNWIND_TABLES_SECTION:
            content += END_OF_UNWIND_TABLES
            size = len(content)
        image.sections.append(ObjSection(name=name, data=content, size=size,
                                         align=max(1, alignment),
                                         executable=bool(flags & _SHF_EXECINSTR),
                                         writable=bool(flags & _SHF_WRITE)))

    symbols = {}   # ELF symbol index -> image symbol index
    symtab = next((s for s in sections if s[1] == _SHT_SYMTAB), None)
    if symtab is not None:
        strings = sections[symtab[6]][4]
        for elf_index in range(1, symtab[5] // _SYMBOL.size):
            name, info, _, shndx, value, _ = _SYMBOL.unpack_from(
                data, symtab[4] + elf_index * _SYMBOL.size)
            if info & 0xF == _STT_FILE:
                continue
            if shndx == _SHN_UNDEF:
                section = None
            elif shndx in kept:
                section = kept[shndx]
            elif shndx >= _SHN_LORESERVE:
                raise CompileError(f"unsupported special symbol {_string(data, strings + name)!r}"
                                   f" in LLVM's object")
            else:
                continue    # defined in a dropped section
            if info & 0xF == _STT_SECTION:
                name = image.sections[section].name
            else:
                name = _string(data, strings + name)
            symbols[elf_index] = len(image.symbols)
            image.symbols.append(ObjSymbol(name=name, section=section, offset=value,
                                           is_global=info >> 4 != _STB_LOCAL))

    for _, kind, _, _, offset, size, _, target, _, _ in sections:
        if kind == _SHT_REL:
            raise CompileError("LLVM produced REL relocations; only RELA is supported")
        if kind != _SHT_RELA or target not in kept:
            continue    # patches a dropped section
        for entry in range(offset, offset + size, _RELA.size):
            where, info, addend = _RELA.unpack_from(data, entry)
            if info >> 32 not in symbols:
                raise CompileError(f"relocation in {image.sections[kept[target]].name} refers "
                                   f"to a symbol outside the loaded sections")
            image.relocations.append(ObjRelocation(
                section=kept[target], offset=where, type=info & 0xFFFFFFFF,
                symbol=symbols[info >> 32], addend=addend))
    return image


def _string(data, offset):
    """The NUL-terminated string at `offset`."""
    return data[offset:data.index(b"\0", offset)].decode()
