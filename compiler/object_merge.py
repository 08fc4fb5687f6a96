"""Merge the object images of a module's parts (partition.py) into one, as a static linker
would: the sections of one name are concatenated, each part's piece at its own alignment,
and a symbol one part leaves undefined is resolved to the global symbol another part
defines. The result is an image like the one object of an unsplit module, so the `.aot`
format and the loader are unchanged (docs/aot-format.md, "Parts").

The unwind tables (.eh_frame) concatenate too: an entry's pointer to its CIE is relative
to itself, and its code addresses are relocations. Each part's image ends them with a zero
word (elf_reader.py); only the merged image's last one is kept.
"""

from pywamr.runtime.aot_abi import UNWIND_TABLES_SECTION

from . import CompileError
from .elf_reader import END_OF_UNWIND_TABLES
from .object_image import ObjectImage, ObjRelocation, ObjSection, ObjSymbol


def merge_images(images):
    """One ObjectImage of `images` (the parts' images, in part order)."""
    if len(images) == 1:
        return images[0]
    merged = ObjectImage(arch=images[0].arch)
    pieces = [place_sections(merged, image) for image in images]   # per image: (index, shift)
    defined, owners = define_symbols(merged, images, pieces)
    undefined = {}      # name -> index of the one undefined symbol of that name
    for image, placement, symbols in zip(images, pieces, defined):
        resolve_undefined(merged, image, symbols, owners, undefined)
        for r in image.relocations:
            section, shift = placement[r.section]
            merged.relocations.append(ObjRelocation(section, r.offset + shift, r.type,
                                                    symbols[r.symbol], r.addend))
    finish_sections(merged)
    return merged


def place_sections(merged, image):
    """Append `image`'s sections to the merged ones of the same name; returns, for each
    of its sections, (merged section index, offset of its piece there)."""
    by_name = {section.name: i for i, section in enumerate(merged.sections)}
    placement = []
    for section in image.sections:
        data, size = section.data, section.size
        if section.name == UNWIND_TABLES_SECTION:
            data = data[:len(data) - len(END_OF_UNWIND_TABLES)]
            size = len(data)
        index = by_name.get(section.name)
        if index is None:
            index = by_name[section.name] = len(merged.sections)
            merged.sections.append(ObjSection(section.name, bytearray(), 0, section.align,
                                              section.executable, section.writable))
        target = merged.sections[index]
        if (target.executable, target.writable) != (section.executable, section.writable):
            raise CompileError(f"parts disagree on the flags of section {section.name}")
        shift = round_up(target.size, section.align)
        if data:
            target.data += bytes(shift - len(target.data)) + data
        target.size = shift + size
        target.align = max(target.align, section.align)
        placement.append((index, shift))
    return placement


def define_symbols(merged, images, pieces):
    """Append every image's defined symbols, moved with their sections. Returns, per image,
    a list mapping its symbol indices to merged ones (None for undefined symbols yet), and
    the merged index of each global symbol by name."""
    owners = {}    # global name -> merged index
    defined = []
    for image, placement in zip(images, pieces):
        symbols = [None] * len(image.symbols)
        for i, symbol in enumerate(image.symbols):
            if symbol.section is None:
                continue
            section, shift = placement[symbol.section]
            if symbol.is_global:
                if symbol.name in owners:
                    raise CompileError(f"two parts define {symbol.name}")
                owners[symbol.name] = len(merged.symbols)
            symbols[i] = len(merged.symbols)
            merged.symbols.append(ObjSymbol(symbol.name, section, symbol.offset + shift,
                                            symbol.is_global))
        defined.append(symbols)
    return defined, owners


def resolve_undefined(merged, image, symbols, owners, undefined):
    """Map `image`'s undefined symbols to the global definition another part made, else to
    one undefined symbol per name (a C library function, the GOT)."""
    for i, symbol in enumerate(image.symbols):
        if symbol.section is not None:
            continue
        index = owners.get(symbol.name)
        if index is None:
            index = undefined.get(symbol.name)
        if index is None:
            index = undefined[symbol.name] = len(merged.symbols)
            merged.symbols.append(ObjSymbol(symbol.name, None, 0, symbol.is_global))
        symbols[i] = index


def finish_sections(merged):
    """Bytes for the concatenated data, zeros up to the size of a piece that had none
    (bss in one part, data in another), and the end of the unwind tables."""
    for section in merged.sections:
        if section.data and len(section.data) < section.size:
            section.data += bytes(section.size - len(section.data))
        if section.name == UNWIND_TABLES_SECTION:
            section.data += END_OF_UNWIND_TABLES
            section.size = len(section.data)
        section.data = bytes(section.data)


def round_up(offset, align):
    return (offset + align - 1) // align * align
