"""Prelinking: the relocations that do not depend on where the loader maps the image are
applied here, once, instead of by the loader at every start.

LLVM gives the code's floating-point and vector constants (.rodata.cst8, .cst16, .cst32) and
its jump tables (.rodata) sections of their own, and reaches them, and the other functions,
through relocations: on x86_64, 41,800 of the 45,800 relocations of a 1 MB C program, which
took most of the loader's 0.45 s on it. Appended to the code section, those sections sit at
a distance from the code that is known here, so every relocation whose place and target
are both in the code, and whose value depends only on their distance, is applied here and
leaves the file with the labels only it named (.LCPI...). The loader is left what depends
on the mapping or on the process: the C library and the runtime's state, the GOT, absolute
addresses, and the unwind tables' pointers into the code (docs/aot-format.md, "Prelinked
references").

The formulas are the loader's own (loader/reloc_x86_64.py, reloc_aarch64.py: one table per
architecture, in one place), applied to the code as if it were mapped at address 0. That is
exact for a distance (S + A - P), and on AArch64 also for a page (ADRP: Page(S + A) -
Page(P)) and for the low 12 bits of an address (ADD, LDR, STR), because the code is made to
start a page: its alignment becomes 4 KiB, which the loader honours.
"""

from pywamr.loader import reloc_aarch64, reloc_x86_64
from pywamr.loader.errors import RelocationError
from pywamr.loader.reloc_aarch64 import Reloc
from pywamr.loader.reloc_x86_64 import R

from .object_image import ObjectImage, ObjSymbol
from .object_merge import round_up

CODE_SECTION = ".text"
PAGE_SIZE = 4096
RELOCATIONS = {"x86_64": reloc_x86_64, "aarch64": reloc_aarch64}
# Per architecture, the types whose value is the same wherever the code is mapped (at a page
# boundary): distances, and AArch64's pages and low 12 bits.
POSITION_FREE = {
    "x86_64": {R.X86_64_PC32, R.X86_64_PLT32, R.X86_64_PC64},
    "aarch64": {Reloc.CALL26, Reloc.JUMP26, Reloc.CONDBR19, Reloc.TSTBR14, Reloc.PREL32,
                Reloc.PREL64, Reloc.ADR_PREL_LO21, Reloc.LD_PREL_LO19,
                Reloc.ADR_PREL_PG_HI21, Reloc.ADR_PREL_PG_HI21_NC, Reloc.ADD_ABS_LO12_NC,
                Reloc.LDST8_ABS_LO12_NC, Reloc.LDST16_ABS_LO12_NC, Reloc.LDST32_ABS_LO12_NC,
                Reloc.LDST64_ABS_LO12_NC, Reloc.LDST128_ABS_LO12_NC},
}


def prelink(image: ObjectImage) -> ObjectImage:
    """`image` with its read-only data moved into the code and the references within the
    code resolved (module docstring); unchanged without a code section."""
    code = next((i for i, s in enumerate(image.sections)
                 if s.name == CODE_SECTION and s.executable), None)
    if code is None or image.arch not in RELOCATIONS:
        return image
    position_free = POSITION_FREE[image.arch]
    moved = _movable_data(image, code, position_free)
    labels = _append_to_code(image, code, moved) if moved else set()
    if image.arch == "aarch64":
        image.sections[code].align = max(image.sections[code].align, PAGE_SIZE)
    _resolve_within_code(image, code, RELOCATIONS[image.arch], position_free)
    _drop(image, moved, labels)
    return image


def _movable_data(image, code, position_free):
    """The read-only data sections that can join the code: those every relocation in which
    resolves here. (One the loader would still patch, say an absolute address, would be
    refused in code: the loader checks that a field in code is an instruction's.)"""
    movable = {i for i, s in enumerate(image.sections) if _is_read_only_data(s)}
    while True:
        reachable = movable | {code}
        staying = {r.section for r in image.relocations if r.section in movable
                   and (r.type not in position_free
                        or image.symbols[r.symbol].section not in reachable)}
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
        shifts[i] = round_up(len(data), section.align)
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


def _resolve_within_code(image, code, relocations, position_free):
    """Apply each relocation of a `position_free` type whose place and symbol are both in the
    code, with the loader's formula for it (`relocations`, its architecture's table) and the
    code at address 0; drop it. One that cannot be applied here (its value does not fit:
    code of gigabytes; a branch needing a veneer) stays for the loader."""
    data = bytearray(image.sections[code].data)
    kept = []
    for r in image.relocations:
        target = image.symbols[r.symbol]
        if r.type not in position_free or r.section != code or target.section != code:
            kept.append(r)
            continue
        try:
            relocations.apply_relocation(r.type, data, r.offset, r.offset, target.offset,
                                         r.addend, _NO_STUBS)
        except (RelocationError, _NeedsStub):
            kept.append(r)
    image.sections[code].data = bytes(data)
    image.relocations = kept


class _NeedsStub(Exception):
    pass


class _NoStubs:
    """The GOT and branch veneers are the loader's: a relocation that needs one stays."""

    def plt_stub(self, target):
        raise _NeedsStub

    def got_slot(self, value):
        raise _NeedsStub


_NO_STUBS = _NoStubs()


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
