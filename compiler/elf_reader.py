"""Read LLVM's ELF relocatable object (with lief) into an `ObjectImage`.

Kept: the sections that occupy memory at run time (SHF_ALLOC) except notes, the symbols
defined in them or undefined (libc/libm functions LLVM calls), and the RELA relocations that
patch them. The unwind tables (.eh_frame), which a trap's backtrace is read with
(traps.py), get the zero word that ends the list of their entries, which a linker would add.
"""

import lief

from pywamr.runtime import aot_abi as abi

from . import CompileError
from .object_image import ObjectImage, ObjRelocation, ObjSection, ObjSymbol

_DROPPED_PREFIXES = (".note", ".comment", ".debug")
END_OF_UNWIND_TABLES = bytes(4)
_SHN_UNDEF = 0
_SHN_LORESERVE = 0xFF00


def read_elf_object(data: bytes, arch: str) -> ObjectImage:
    lief.logging.disable()
    elf = lief.ELF.parse(list(data))
    if elf is None:
        raise CompileError("LLVM produced an object that is not ELF")
    image = ObjectImage(arch=arch)

    kept = {}   # ELF section index -> image section index
    for elf_index, sec in enumerate(elf.sections):
        if not _is_kept(sec):
            continue
        kept[elf_index] = len(image.sections)
        nobits = sec.type == lief.ELF.Section.TYPE.NOBITS
        data = b"" if nobits else bytes(sec.content)
        if sec.name == abi.UNWIND_TABLES_SECTION:
            data += END_OF_UNWIND_TABLES
        image.sections.append(ObjSection(
            name=sec.name,
            data=data,
            size=len(data) if sec.name == abi.UNWIND_TABLES_SECTION else sec.size,
            align=max(1, sec.alignment),
            executable=sec.has(lief.ELF.Section.FLAGS.EXECINSTR),
            writable=sec.has(lief.ELF.Section.FLAGS.WRITE)))

    symbols = {}   # ELF symbol index -> image symbol index
    for elf_index, sym in enumerate(elf.symtab_symbols):
        if elf_index == 0 or sym.type == lief.ELF.Symbol.TYPE.FILE:
            continue
        if sym.shndx == _SHN_UNDEF:
            section = None
        elif sym.shndx in kept:
            section = kept[sym.shndx]
        elif sym.shndx >= _SHN_LORESERVE:
            raise CompileError(f"unsupported special symbol {sym.name!r} in LLVM's object")
        else:
            continue    # defined in a dropped section
        name = sym.name
        if sym.type == lief.ELF.Symbol.TYPE.SECTION:
            name = image.sections[section].name
        symbols[elf_index] = len(image.symbols)
        image.symbols.append(ObjSymbol(name=name, section=section, offset=sym.value,
                                       is_global=sym.binding != lief.ELF.Symbol.BINDING.LOCAL))

    # lief hands out a new wrapper per access, so sections are matched by name and offset.
    section_index = {(sec.name, sec.offset): i for i, sec in enumerate(elf.sections)}
    for rel in elf.relocations:
        if not rel.has_section:
            continue
        target = kept.get(section_index[(rel.section.name, rel.section.offset)])
        if target is None:
            continue    # patches a dropped section
        if not rel.is_rela:
            raise CompileError("LLVM produced REL relocations; only RELA is supported")
        if rel.info not in symbols:
            raise CompileError(f"relocation in {image.sections[target].name} refers to a "
                               f"symbol outside the loaded sections")
        image.relocations.append(ObjRelocation(
            section=target, offset=rel.address,
            type=rel.r_info(lief.ELF.Header.CLASS.ELF64) & 0xFFFFFFFF,
            symbol=symbols[rel.info], addend=rel.addend))
    return image


def _is_kept(sec):
    return (sec.has(lief.ELF.Section.FLAGS.ALLOC) and sec.size > 0
            and not sec.name.startswith(_DROPPED_PREFIXES))

