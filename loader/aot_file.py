"""The `.aot` container: its parsed form and the reader.

docs/aot-format.md has the byte-level tables (their constants: runtime/aot_layout.py);
compiler/aot_writer.py writes what this reads. The reader checks the container only (magic,
version, length, checksum, sizes, flags, internal indices); whether the module matches the
code is module_check.py's business, whether the relocations make sense image.py's, and
whether the code suits this machine host.py's.
"""

import zlib
from collections import namedtuple

from pywamr.runtime.aot_layout import (
    CHECKSUMMED_FROM, FLAG_EXECUTABLE, FLAG_WRITABLE, FORMAT_VERSION, HEADER, MAGIC,
    MAX_ALIGNMENT, MAX_OBJECT_SIZE, NO_SECTION, RELOCATION_RECORD, SECTION_HEADER,
    SECTION_MODULE, SECTION_OBJECT, SECTION_ORDER, SECTION_RECORD, SECTION_RELOCATIONS,
    SECTION_SYMBOLS, SECTION_TARGET, SYMBOL_RECORD)
from pywamr.runtime.errors import AotFormatError

# Plain namedtuples and classes, not typing.NamedTuple or dataclasses: `pyiwasm` reads an
# .aot on every start, and those modules cost more to import than this whole reader.

# What the code was compiled for. arch: 'x86_64' | 'aarch64'; features: LLVM feature string,
# e.g. "+avx2,+bmi2,-avx512f"; code_model: 'small' | 'kernel' | 'medium' | 'large' | 'tiny' |
# 'default'; bounds_checks: 'explicit' | 'guard-pages' (docs/aot-abi.md, "Guard pages");
# memory_limit: the most pages a memory may grow to under this code (docs/aot-abi.md,
# "Addresses"); fuel: whether the code charges fuel (runtime/fuel.py); interrupt_checks:
# whether it checks ExecEnv.interrupt (docs/aot-abi.md, "Interruption"); interface:
# aot_layout.module_interface() of the module the code was compiled for.
Target = namedtuple("Target", "arch triple cpu features code_model opt_level size_level "
                              "bounds_checks memory_limit fuel interrupt_checks interface",
                   defaults=(False, True, ""))

# data: the first len(data) bytes; the rest up to `size` is zero.
Section = namedtuple("Section", "name data size align executable writable")

# section: None for an external symbol, resolved by the loader.
Symbol = namedtuple("Symbol", "name section offset")

# The bytes at `offset` of `section` are patched; type: ELF r_type of the target architecture;
# symbol: index into the symbol list.
Relocation = namedtuple("Relocation", "section offset type symbol addend")


class AotFile:
    def __init__(self, target, module_bytes, sections, symbols, relocations):
        self.target = target
        self.module_bytes = module_bytes    # the wasm module with every function body emptied
        self.sections = sections            # [Section]
        self.symbols = symbols              # [Symbol]
        self.relocations = relocations      # [Relocation]


def corrupted(what):
    return AotFormatError(f"corrupted .aot file: {what}")


class _Reader:
    """Sequential little-endian reads that fail with a format error instead of IndexError."""

    def __init__(self, data, pos=0, end=None):
        self.data = data
        self.pos = pos
        self.end = len(data) if end is None else end

    def take(self, n, what):
        if n > self.end - self.pos:
            raise corrupted(f"{what} runs past its section")
        start = self.pos
        self.pos += n
        return self.data[start:self.pos]

    def unpack(self, record, what):
        return record.unpack(self.take(record.size, what))

    def u8(self, what):
        return self.take(1, what)[0]

    def u32(self, what):
        return int.from_bytes(self.take(4, what), "little")

    def string(self, what):
        raw = self.take(self.u32(what), what)
        try:
            return bytes(raw).decode("utf-8")
        except UnicodeDecodeError:
            raise corrupted(f"{what} is not UTF-8") from None


def check_header(data):
    """Check magic, version, length and checksum; return the payload's start offset."""
    if len(data) < len(MAGIC):
        if MAGIC.startswith(bytes(data)) and data:
            raise AotFormatError(f"truncated .aot file ({len(data)} bytes)")
        raise AotFormatError("not a .aot file (bad magic)")
    if bytes(data[:len(MAGIC)]) != MAGIC:
        raise AotFormatError("not a .aot file (bad magic)")
    if len(data) < HEADER.size:
        raise AotFormatError(f"truncated .aot file ({len(data)} bytes)")
    _, version, checksum, payload_length = HEADER.unpack_from(data)
    if version != FORMAT_VERSION:
        raise AotFormatError(f"unsupported .aot format version {version} "
                             f"(this loader reads version {FORMAT_VERSION})")
    expected = HEADER.size + payload_length
    if len(data) < expected:
        raise AotFormatError(f"truncated .aot file ({len(data)} of {expected} bytes)")
    if len(data) > expected:
        raise corrupted(f"{len(data) - expected} unexpected bytes after the end")
    if zlib.crc32(memoryview(data)[CHECKSUMMED_FROM:]) != checksum:
        raise corrupted("checksum mismatch")
    return HEADER.size


def read_aot(data) -> AotFile:
    """Parse a whole `.aot` file, raising AotFormatError with a one-line reason."""
    data = memoryview(data).cast("B") if not isinstance(data, bytes) else data
    pos = check_header(data)
    bodies = {}
    outer = _Reader(data, pos)
    for section_id in SECTION_ORDER:
        found, size = outer.unpack(SECTION_HEADER, "section header")
        if found != section_id:
            raise corrupted(f"expected section {section_id}, found {found}")
        start = outer.pos
        outer.take(size, f"section {section_id}")
        bodies[section_id] = _Reader(data, start, start + size)
    if outer.pos != outer.end:
        raise corrupted("bytes after the last section")

    target = _read_target(bodies[SECTION_TARGET])
    module_reader = bodies[SECTION_MODULE]
    module_bytes = bytes(module_reader.take(module_reader.end - module_reader.pos, "module"))
    sections = _read_sections(bodies[SECTION_OBJECT])
    symbols = _read_symbols(bodies[SECTION_SYMBOLS], sections)
    relocations = _read_relocations(bodies[SECTION_RELOCATIONS], sections, symbols)
    for section_id, reader in bodies.items():
        if reader.pos != reader.end:
            raise corrupted(f"section {section_id} is longer than its contents")
    return AotFile(target, module_bytes, sections, symbols, relocations)


def _read_target(r):
    arch = r.string("architecture")
    triple = r.string("triple")
    cpu = r.string("cpu")
    features = r.string("cpu features")
    code_model = r.string("code model")
    opt_level = r.u8("opt level")
    size_level = r.u8("size level")
    bounds_checks = r.string("bounds-check mode")
    memory_limit = r.u32("memory limit")
    fuel = r.u8("fuel")
    interrupt_checks = r.u8("interrupt checks")
    interface = r.string("module interface")
    return Target(arch, triple, cpu, features, code_model, opt_level, size_level, bounds_checks,
                  memory_limit, fuel, interrupt_checks, interface)


def _read_sections(r):
    sections = []
    total = 0
    for _ in range(r.u32("section count")):
        name = r.string("section name")
        flags, align, size, stored = r.unpack(SECTION_RECORD, "section record")
        if stored > size:
            raise corrupted(f"section {name!r} stores more bytes than its size")
        total += size
        if total > MAX_OBJECT_SIZE:
            raise corrupted(f"section {name!r} makes the object bigger than "
                            f"{MAX_OBJECT_SIZE >> 20} MiB")
        if align == 0 or align & (align - 1) or align > MAX_ALIGNMENT:
            raise corrupted(f"section {name!r} has alignment {align}")
        if flags & ~(FLAG_EXECUTABLE | FLAG_WRITABLE):
            raise corrupted(f"section {name!r} has unknown flags {flags:#x}")
        if flags == FLAG_EXECUTABLE | FLAG_WRITABLE:
            raise corrupted(f"section {name!r} is both writable and executable")
        data = bytes(r.take(stored, f"section {name!r}"))
        sections.append(Section(name, data, size, align, bool(flags & FLAG_EXECUTABLE),
                                bool(flags & FLAG_WRITABLE)))
    return sections


def _read_symbols(r, sections):
    symbols = []
    for _ in range(r.u32("symbol count")):
        name = r.string("symbol name")
        section, offset = r.unpack(SYMBOL_RECORD, "symbol record")
        if section == NO_SECTION:
            if offset:
                raise corrupted(f"external symbol {name!r} has offset {offset:#x}")
            section = None
        elif section >= len(sections) or offset > sections[section].size:
            raise corrupted(f"symbol {name!r} lies outside the object's sections")
        symbols.append(Symbol(name, section, offset))
    return symbols


def _read_relocations(r, sections, symbols):
    count = r.u32("relocation count")
    records = r.take(count * RELOCATION_RECORD.size, "relocations")
    relocations = []
    for section, r_type, offset, symbol, reserved, addend in \
            RELOCATION_RECORD.iter_unpack(records):
        if section >= len(sections) or offset >= sections[section].size:
            raise corrupted(f"relocation at {offset:#x} lies outside its section")
        if symbol >= len(symbols):
            raise corrupted(f"relocation at {offset:#x} names symbol {symbol} of {len(symbols)}")
        if reserved:
            raise corrupted(f"relocation at {offset:#x} has a reserved field of {reserved:#x}")
        relocations.append(Relocation(section, offset, r_type, symbol, addend))
    return relocations
