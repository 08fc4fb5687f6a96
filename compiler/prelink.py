"""Prelinking: the relocations that do not depend on where the loader maps the image are
applied here, once, instead of by the loader at every start.

LLVM gives x86-64 code's floating-point and vector constants (.rodata.cst8, .cst16, .cst32)
and its jump tables (.rodata) sections of their own, and reaches them through PC-relative
relocations: 40,000 of the 46,000 relocations of a 1 MB C program, which took most of the
loader's 0.45 s on it. Appended to the code section, they sit at a distance from the code
that is known here, so every PC-relative relocation whose place and target are both in the
code is resolved as a static linker resolves it, S + A - P (psABI 4.4.1: S the target, A
the addend, P the place, all offsets in the one section), and leaves the file with the
labels only it named (.LCPI...). The loader is left what depends on the mapping or on
the process: the C library and the runtime's state, the GOT, absolute addresses, and the
unwind tables' pointers into the code (docs/aot-format.md, "Prelinked references").

Only x86_64 for now. AArch64's references are fields spread over instruction bits (ADRP's
page, 12-bit offsets, 26-bit branches) whose encoders are the loader's (reloc_aarch64.py),
and the page-relative ones would also need the code to start a page.
"""

from .object_image import ObjectImage, ObjSymbol

CODE_SECTION = ".text"
# x86_64 relocation types whose value is S + A - P, and the size of their signed field.
_X86_64_PC_RELATIVE = {2: 4, 4: 4, 24: 8}      # R_X86_64_PC32, PLT32, PC64


def prelink(image: ObjectImage) -> ObjectImage:
    """`image` with its read-only data moved into the code and the references within the
    code resolved (module docstring); unchanged for other architectures or without code."""
    if image.arch != "x86_64":
        return image
    code = next((i for i, s in enumerate(image.sections)
                 if s.name == CODE_SECTION and s.executable), None)
    if code is None:
        return image
    moved = _movable_data(image, code)
    labels = _append_to_code(image, code, moved) if moved else set()
    _resolve_within_code(image, code)
    _drop(image, moved, labels)
    return image


def _movable_data(image, code):
    """The read-only data sections that can join the code: those every relocation in which
    resolves here. (One the loader would still patch, say an absolute address, would be
    refused in code: the loader checks that a field in code is an instruction's.)"""
    movable = {i for i, s in enumerate(image.sections) if _is_read_only_data(s)}
    while True:
        staying = {r.section for r in image.relocations if r.section in movable
                   and (r.type not in _X86_64_PC_RELATIVE
                        or image.symbols[r.symbol].section not in movable | {code})}
        if not staying:
            return movable
        movable -= staying


def _append_to_code(image, code, moved):
    """Append the `moved` sections to the code, each at its alignment, and move their
    symbols and relocations with them. Returns the moved non-global symbols: labels that
    nothing outside the image names."""
    text = image.sections[code]
    data = bytearray(text.data)
    shifts = {}
    for i in sorted(moved):
        section = image.sections[i]
        shifts[i] = -(-len(data) // section.align) * section.align
        data += bytes(shifts[i] - len(data)) + section.data
        text.align = max(text.align, section.align)
    text.data, text.size = bytes(data), len(data)
    labels = set()
    for i, symbol in enumerate(image.symbols):
        if symbol.section in shifts:
            if not symbol.is_global:
                labels.add(i)
            symbol.section, symbol.offset = code, shifts[symbol.section] + symbol.offset
    for r in image.relocations:
        if r.section in shifts:
            r.section, r.offset = code, shifts[r.section] + r.offset
    return labels


def _resolve_within_code(image, code):
    """Write S + A - P into the code for each PC-relative relocation whose place and symbol
    are both in it, and drop the relocation. (One whose value does not fit its field, in
    code of gigabytes, stays for the loader, which reports it.)"""
    data = bytearray(image.sections[code].data)
    kept = []
    for r in image.relocations:
        size = _X86_64_PC_RELATIVE.get(r.type)
        target = image.symbols[r.symbol]
        value = target.offset + r.addend - r.offset                 # S + A - P
        if (size is None or r.section != code or target.section != code
                or not -(1 << (8 * size - 1)) <= value < 1 << (8 * size - 1)):
            kept.append(r)
            continue
        data[r.offset:r.offset + size] = value.to_bytes(size, "little", signed=True)
    image.sections[code].data = bytes(data)
    image.relocations = kept


def _is_read_only_data(section):
    """LLVM's constants and jump tables: read-only, and near the code in every code model
    (the large model's .lrodata stays apart)."""
    return (section.name.startswith(".rodata") and not section.executable
            and not section.writable and len(section.data) == section.size)


def _drop(image, sections, labels):
    """Remove the `sections` emptied into the code, and the symbols of `labels` that no
    relocation names any more; renumber what refers to the rest."""
    named = {r.symbol for r in image.relocations}
    new_section = {}
    for i in range(len(image.sections)):
        if i not in sections:
            new_section[i] = len(new_section)
    image.sections = [s for i, s in enumerate(image.sections) if i not in sections]
    new_symbol, symbols = {}, []
    for i, symbol in enumerate(image.symbols):
        if i in labels and i not in named:
            continue
        new_symbol[i] = len(symbols)
        section = None if symbol.section is None else new_section[symbol.section]
        symbols.append(ObjSymbol(symbol.name, section, symbol.offset, symbol.is_global))
    image.symbols = symbols
    for r in image.relocations:
        r.section, r.symbol = new_section[r.section], new_symbol[r.symbol]
