"""The object's sections mapped into memory, relocated and protected: the code of one module,
shared by all its instances.

Layout of the one mapping (each part starts on a page, so each gets its own protection):

    code sections, PLT stubs      read + execute
    GOT, read-only sections       read
    writable sections, bss        read + write

The stubs and the GOT sit next to the code, so a 32-bit PC-relative reference from the code
reaches them wherever the C library is; the whole mapping goes below 2 GB when the code
holds 32-bit absolute addresses (x86_64 kernel code model, R_X86_64_32/32S).

Nothing is mapped before every relocation is checked (check_relocations): its type is one this
loader applies, its field lies within its section where the compiler left it blank, it
overlaps no other, and it refers to its symbol's section (a branch to a symbol). Within
those bounds the relocations are trusted as the code is (docs/aot-format.md, "Trust").
"""

import struct

from pywamr.runtime.aot_abi import UNWIND_TABLES_SECTION
from pywamr.runtime.errors import AotFormatError

from . import reloc_x86_64
from .aot_file import corrupted
from .externals import resolve_external
from .mapping import PAGE_SIZE, PROT_EXEC, PROT_READ, PROT_WRITE, Mapping, round_up

GOT_SLOT_SIZE = 8
GOT_SYMBOL = "_GLOBAL_OFFSET_TABLE_"
# Sections are placed at least this aligned, whatever they ask for: a cache line, enough for
# any constant a vector instruction loads, so an alignment corrupted downwards is harmless.
MIN_SECTION_ALIGNMENT = 64
# How far before or after its symbol's section a relocation may point: a PC-relative field
# is biased by the bytes between it and the end of its instruction (x86_64: -4 to -8), and
# GOTPC64 addends are the distance from the instruction's label (x86_64: +9). An entry of a
# jump table in data, S + A - P, is an offset from the table's start, not from itself, so
# its addend also holds its distance from the start: at most its offset in its section.
TARGET_SLACK = 16


def relocation_module(arch):
    """The relocation table of `arch` (reloc_<arch>.py, same interface for every arch)."""
    if arch == "x86_64":
        return reloc_x86_64
    if arch == "aarch64":
        from . import reloc_aarch64
        return reloc_aarch64
    raise AotFormatError(f"no relocations for architecture {arch!r}")


def check_relocations(aot, relocs):
    """Refuse, with one line, any relocation that does not fit the object (module docstring);
    `relocs` is the architecture's relocation table."""
    starts = {}        # section index -> the offsets its symbols are at
    for symbol in aot.symbols:
        if symbol.section is not None:
            starts.setdefault(symbol.section, set()).add(symbol.offset)
    spans = []
    for r in aot.relocations:
        section = aot.sections[r.section]
        where = f"{relocs.RELOCATION_NAMES.get(r.type, r.type)} at {section.name!r}+{r.offset:#x}"
        size = _check_place(r, section, relocs, where)
        _check_target(r, section, aot.symbols[r.symbol], aot.sections, starts, relocs, where)
        spans.append((r.section, r.offset, r.offset + size, where))
    spans.sort()
    for (section, _, end, where), (next_section, start, _, other) in zip(spans, spans[1:]):
        if section == next_section and start < end:
            raise corrupted(f"{where} overlaps {other}")


def _check_place(r, section, relocs, where):
    """The bytes `r` patches: inside its section, blank, in an instruction of its kind.
    Returns how many bytes they are."""
    size, mask, alignment = relocs.field(r.type)
    if r.offset + size > section.size or r.offset % alignment:
        raise corrupted(f"{where} does not fit its section")
    if int.from_bytes(section.data[r.offset:r.offset + size], "little") & mask:
        raise corrupted(f"{where} patches code, not a field left blank for it")
    mismatch = relocs.instruction_mismatch(r.type, section.data, r.offset, section.executable)
    if mismatch:
        raise corrupted(f"{where} {mismatch}")
    return size


def _check_target(r, section, symbol, sections, starts, relocs, where):
    """What `r` refers to: a symbol its type can refer to, and near it."""
    external = symbol.section is None
    if (symbol.name == GOT_SYMBOL and external) != (r.type in relocs.GOT_TYPES):
        raise corrupted(f"{where} refers to {symbol.name!r}")
    if external and r.type in relocs.DEFINED_ONLY_TYPES:
        raise corrupted(f"{where} refers to {symbol.name!r}, which is not in the object")
    addends = relocs.ADDEND_RANGES.get(r.type)
    if addends is not None:
        # A GOT reference: the addend is no place in a section but a fixed bias.
        if not addends[0] <= r.addend <= addends[1]:
            raise corrupted(f"{where} has addend {r.addend}, not "
                            + (f"{addends[0]}" if addends[0] == addends[1]
                               else f"in {addends[0]}..{addends[1]}"))
        target = r.addend
    else:
        if external:
            target, end = r.addend, 0
        else:
            target, end = symbol.offset + r.addend, sections[symbol.section].size
        if r.type in relocs.PC_RELATIVE_DATA and not section.executable:
            end += r.offset
        if not -TARGET_SLACK <= target <= end + TARGET_SLACK:
            raise corrupted(f"{where} points too far from {symbol.name!r} "
                            f"(addend {r.addend:#x})")
    bias = relocs.BRANCH_BIAS.get(r.type)
    if bias is not None and not _lands_on_symbol(symbol, target + bias, sections, starts):
        raise corrupted(f"{where} branches to {symbol.name!r}{r.addend:+#x}, "
                        f"which is not a function")


def _lands_on_symbol(symbol, landing, sections, starts):
    """Whether a branch to `landing` (relative to `symbol`'s section, or 0 = the external
    symbol itself) reaches the start of a symbol in executable code."""
    if symbol.section is None:
        return landing == 0
    return sections[symbol.section].executable and landing in starts[symbol.section]


def _needs_low_2gb(aot):
    if aot.target.arch != "x86_64":
        return False
    absolute_32 = (reloc_x86_64.R.X86_64_32, reloc_x86_64.R.X86_64_32S)
    return aot.target.code_model == "kernel" or any(
        r.type in absolute_32 for r in aot.relocations)


class Stubs:
    """GOT slots and PLT stubs, handed out as relocations ask for them.

    got_slot(value): address of a slot holding `value`; plt_stub(target): address of a stub
    jumping to `target`; got_base: the GOT's own address (for GOT-relative relocations).
    """

    def __init__(self, view, arch_relocs, base_address, got_offset, got_capacity, plt_offset,
                 plt_capacity):
        self.view = view
        self.relocs = arch_relocs
        self.got_base = base_address + got_offset
        self._base_address = base_address
        self._got_offset = got_offset
        self._plt_offset = plt_offset
        self._capacity = {"GOT": got_capacity, "PLT": plt_capacity}
        self._got = {}
        self._plt = {}

    def got_slot(self, value):
        if value not in self._got:
            self._check_room(self._got, "GOT")
            offset = self._got_offset + GOT_SLOT_SIZE * len(self._got)
            struct.pack_into("<Q", self.view, offset, value & 0xFFFF_FFFF_FFFF_FFFF)
            self._got[value] = self._base_address + offset
        return self._got[value]

    def plt_stub(self, target):
        if target not in self._plt:
            self._check_room(self._plt, "PLT")
            offset = self._plt_offset + self.relocs.PLT_STUB_SIZE * len(self._plt)
            address = self._base_address + offset
            self.relocs.write_plt_stub(self.view, offset, address, target)
            self._plt[target] = address
        return self._plt[target]

    def _check_room(self, table, name):
        if len(table) >= self._capacity[name]:
            raise AotFormatError(f"more {name} entries needed than the loader reserved "
                                 f"({self._capacity[name]})")


class LoadedImage:
    """Map, relocate and protect the sections of an AotFile (aot_file.py)."""

    def __init__(self, aot):
        relocs = relocation_module(aot.target.arch)
        check_relocations(aot, relocs)
        externals = [None if symbol.section is not None or symbol.name == GOT_SYMBOL
                     else resolve_external(symbol.name) for symbol in aot.symbols]
        sections = aot.sections
        # A relocation asks for at most one GOT slot, and for a stub only when it branches
        # to a symbol out of reach: one outside the image.
        targets = {(r.symbol, r.addend) for r in aot.relocations}
        got_capacity = len(targets)
        plt_capacity = sum(1 for symbol, _ in targets if aot.symbols[symbol].section is None)

        offsets = [0] * len(sections)
        end = 0

        def place(indices):
            nonlocal end
            for i in indices:
                end = round_up(end, max(sections[i].align, MIN_SECTION_ALIGNMENT))
                offsets[i] = end
                end += sections[i].size

        code = [i for i, s in enumerate(sections) if s.executable]
        readonly = [i for i, s in enumerate(sections) if not s.executable and not s.writable]
        writable = [i for i, s in enumerate(sections) if s.writable and not s.executable]
        place(code)
        plt_offset = round_up(end, 16)
        code_end = plt_offset + plt_capacity * relocs.PLT_STUB_SIZE
        got_offset = round_up(code_end, PAGE_SIZE)
        end = got_offset + got_capacity * GOT_SLOT_SIZE
        place(readonly)
        readonly_end = end
        end = round_up(end, PAGE_SIZE)
        writable_start = end
        place(writable)

        self.mapping = Mapping(end, low_2gb=_needs_low_2gb(aot))
        try:
            base = self.mapping.address
            view = self.mapping.view()
            for section, offset in zip(sections, offsets):
                view[offset:offset + len(section.data)] = section.data
            stubs = Stubs(view, relocs, base, got_offset, got_capacity, plt_offset,
                          plt_capacity)
            addresses = [base + offsets[symbol.section] + symbol.offset
                         if symbol.section is not None
                         else stubs.got_base if external is None else external
                         for symbol, external in zip(aot.symbols, externals)]
            for r in aot.relocations:
                offset = offsets[r.section] + r.offset
                relocs.apply_relocation(r.type, view, offset, base + offset,
                                        addresses[r.symbol], r.addend, stubs)
            view.release()
            if aot.target.arch != "x86_64":   # whose caches are coherent: icache.py
                from .icache import flush_icache
                flush_icache(base, code_end)
            self.mapping.protect(0, code_end, PROT_READ | PROT_EXEC)
            self.mapping.protect(got_offset, readonly_end - got_offset, PROT_READ)
            self.mapping.protect(writable_start, self.mapping.size - writable_start,
                                 PROT_READ | PROT_WRITE)
        except BaseException:
            self.mapping.close()
            raise
        self.address = base
        self.code_end = base + code_end
        self.unwind_tables = next((base + offset for section, offset in zip(sections, offsets)
                                   if section.name == UNWIND_TABLES_SECTION), None)
        self.symbols = {symbol.name: address for symbol, address in zip(aot.symbols, addresses)
                        if symbol.section is not None}
        self._code_symbols = [(symbol.name, address)
                              for symbol, address in zip(aot.symbols, addresses)
                              if symbol.section is not None and sections[symbol.section].executable]

    def code_symbols(self):
        """(name, address) of each symbol in executable code."""
        return self._code_symbols

    def in_code(self, address):
        return self.address <= address < self.code_end

    def address_of(self, name):
        """Address of a symbol the object defines, e.g. `aot_func_3`."""
        try:
            return self.symbols[name]
        except KeyError:
            raise AotFormatError(f"the object does not define {name}") from None
