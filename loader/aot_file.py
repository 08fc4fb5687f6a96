"""The `.aot` container: its parsed form and the reader.

docs/aot-format.md has the byte-level tables (their constants: runtime/aot_layout.py);
compiler/aot_writer.py writes what this reads. The reader checks the container only (magic,
version, length, checksum, sizes, flags, codes, internal indices); whether the module is
valid and matches the code is module_check.py's business, whether the relocations make sense
image.py's, and whether the code suits this machine host.py's.

The module's metadata is fixed-size records read with struct, so that loading does not
decode (or import a decoder for) the wasm binary format.
"""

import struct
import zlib

from pywamr.runtime.aot_layout import (
    CHECKSUMMED_FROM, CONSTANT_ARITHMETIC, CONSTANT_RECORD, DATA_MODES, ELEM_MODES,
    EXTERN_KINDS, F32_CONST, F64_CONST, FLAG_EXECUTABLE, FLAG_WRITABLE, FORMAT_VERSION,
    GLOBAL_GET, HEADER, HEAP_TYPES, I32_CONST, I64_CONST, LIMITS_64, LIMITS_HAS_MAX,
    LIMITS_RECORD, MAGIC, MAX_ALIGNMENT, MAX_OBJECT_SIZE, NO_SECTION, NO_START, REF_CODE,
    REF_FUNC, REF_NULL, REF_NULL_CODE,
    RELOCATION_RECORD, SECTION_HEADER, SECTION_MODULE, SECTION_OBJECT, SECTION_ORDER,
    SECTION_RECORD, SECTION_RELOCATIONS, SECTION_SYMBOLS, SECTION_TARGET, SYMBOL_RECORD,
    TYPE_GROUP_RECORD, V128_CONST)
from pywamr.runtime.errors import AotFormatError
from pywamr.runtime.module import (DataSegment, ElemSegment, Export, Global, Import, Instr,
                                   Module)
from pywamr.runtime.types import (REFTYPE_CODES, VALTYPE_CODES, FuncType, GlobalType, Limits,
                                  MemoryType, Record, TableType, TypeGroup, ref_type)

_HEAP_NAMES = {code: name for name, code in HEAP_TYPES.items()}


class Target(Record):
    """What the code was compiled for. arch: 'x86_64' | 'aarch64'; features: LLVM feature
    string, e.g. "+avx2,+bmi2,-avx512f"; code_model: 'small' | 'kernel' | 'medium' | 'large'
    | 'tiny' | 'default'; bounds_checks: 'explicit' | 'guard-pages' (docs/aot-abi.md, "Guard
    pages"); memory_limit: the most pages a memory may grow to under this code
    (docs/aot-abi.md, "Addresses"); fuel: whether the code charges fuel (runtime/fuel.py);
    interrupt_checks: whether it checks ExecEnv.interrupt (docs/aot-abi.md, "Interruption");
    interface: aot_layout.module_interface() of the module the code was compiled for."""
    __slots__ = ("arch", "triple", "cpu", "features", "code_model", "opt_level", "size_level",
                 "bounds_checks", "memory_limit", "fuel", "interrupt_checks", "interface")

    def __init__(self, arch, triple, cpu, features, code_model, opt_level, size_level,
                 bounds_checks, memory_limit, fuel=False, interrupt_checks=True, interface=""):
        self.arch = arch
        self.triple = triple
        self.cpu = cpu
        self.features = features
        self.code_model = code_model
        self.opt_level = opt_level
        self.size_level = size_level
        self.bounds_checks = bounds_checks
        self.memory_limit = memory_limit
        self.fuel = fuel
        self.interrupt_checks = interrupt_checks
        self.interface = interface


class Section(Record):
    """data: the first len(data) bytes; the rest up to `size` is zero."""
    __slots__ = ("name", "data", "size", "align", "executable", "writable")

    def __init__(self, name, data, size, align, executable, writable):
        self.name = name
        self.data = data
        self.size = size
        self.align = align
        self.executable = executable
        self.writable = writable


class Symbol(Record):
    """section: None for an external symbol, resolved by the loader."""
    __slots__ = ("name", "section", "offset")

    def __init__(self, name, section, offset):
        self.name = name
        self.section = section
        self.offset = offset


class Relocation(Record):
    """The bytes at `offset` of `section` are patched; type: ELF r_type of the target
    architecture; symbol: index into the symbol list."""
    __slots__ = ("section", "offset", "type", "symbol", "addend")

    def __init__(self, section, offset, type, symbol, addend):
        self.section = section
        self.offset = offset
        self.type = type
        self.symbol = symbol
        self.addend = addend


class AotFile:
    def __init__(self, target, module, sections, symbols, relocations):
        self.target = target
        self.module = module                # runtime.module.Module without function bodies
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

    def count(self, what):
        """A u32 count of items of at least a byte each: checked against the bytes left, so
        that a corrupt count cannot make a reader loop for long."""
        n = self.u32(what)
        if n > self.end - self.pos:
            raise corrupted(f"{what} {n} runs past its section")
        return n

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
    module = _read_module(bodies[SECTION_MODULE])
    sections = _read_sections(bodies[SECTION_OBJECT])
    symbols = _read_symbols(bodies[SECTION_SYMBOLS], sections)
    relocations = _read_relocations(bodies[SECTION_RELOCATIONS], sections, symbols)
    for section_id, reader in bodies.items():
        if reader.pos != reader.end:
            raise corrupted(f"section {section_id} is longer than its contents")
    return AotFile(target, module, sections, symbols, relocations)


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


def _read_module(r):
    """Section 2, the wasm module's metadata (docs/aot-format.md, "Module")."""
    module = Module()
    for _ in range(r.count("type count")):
        module.types.append(FuncType(_valtypes(r, "parameter types"),
                                     _valtypes(r, "result types"), _group(r)))
    for _ in range(r.count("import count")):
        module_name = r.string("import module name")
        name = r.string("import name")
        kind = _mode(r, EXTERN_KINDS, "import kind")
        if kind == "func":
            desc = r.u32("import type index")
        elif kind == "table":
            desc = _table_type(r)
        elif kind == "memory":
            desc = MemoryType(*_limits(r))
        elif kind == "tag":
            desc = r.u32("import tag type")
        else:
            desc = _global_type(r)
        module.imports.append(Import(module_name, name, kind, desc))
    count = r.count("function count")
    module.funcs = list(struct.unpack(f"<{count}I", r.take(4 * count, "function types")))
    for _ in range(r.count("table count")):
        module.tables.append(_table_type(r))
        module.table_inits.append(_constant(r, "table initialiser") or None)
    module.memories = [MemoryType(*_limits(r)) for _ in range(r.count("memory count"))]
    count = r.count("tag count")
    module.tags = list(struct.unpack(f"<{count}I", r.take(4 * count, "tag types")))
    for _ in range(r.count("global count")):
        module.globals.append(Global(_global_type(r), _constant(r, "global initialiser")))
    for _ in range(r.count("export count")):
        name = r.string("export name")
        module.exports.append(Export(name, _mode(r, EXTERN_KINDS, "export kind"),
                                     r.u32("export index")))
    start = r.u32("start function")
    module.start = None if start == NO_START else start
    for _ in range(r.count("element segment count")):
        mode = _mode(r, ELEM_MODES, "element segment mode")
        elem_type = _valtype(r, REFTYPE_CODES, "element type")
        table = r.u32("element segment table")
        offset = _constant(r, "element segment offset") if mode == "active" else None
        init = [_constant(r, "element") for _ in range(r.count("element count"))]
        module.elems.append(ElemSegment(mode, elem_type, init, table, offset))
    for _ in range(r.count("data segment count")):
        mode = _mode(r, DATA_MODES, "data segment mode")
        memory = r.u32("data segment memory")
        offset = _constant(r, "data segment offset") if mode == "active" else None
        data = bytes(r.take(r.u32("data segment length"), "data segment"))
        module.datas.append(DataSegment(mode, data, memory, offset))
    previous = -1
    for _ in range(r.count("function name count")):
        index = r.u32("named function")
        if index <= previous:
            raise corrupted(f"function names out of order at function {index}")
        module.func_names[index] = r.string("function name")
        previous = index
    return module


def _group(r):
    """A type's TypeGroup, or None."""
    has_group = r.u8("type group flag")
    if has_group > 1:
        raise corrupted(f"type group flag {has_group}")
    if not has_group:
        return None
    first, size, final = r.unpack(TYPE_GROUP_RECORD, "type group")
    if final > 1:
        raise corrupted(f"type group finality {final}")
    count = r.count("supertype count")
    supertypes = struct.unpack(f"<{count}I", r.take(4 * count, "supertypes"))
    return TypeGroup(first, size, final == 1, supertypes)


def _mode(r, modes, what):
    code = r.u8(what)
    if code >= len(modes):
        raise corrupted(f"unknown {what} {code}")
    return modes[code]


def _valtypes(r, what):
    return tuple(_valtype(r, VALTYPE_CODES, "value type", f" in {what}")
                 for _ in range(r.count(what)))


def _valtype(r, codes, what, where=""):
    """A value type of `codes` or a (ref ...) type with its heap type."""
    code = r.u8(what + where)
    found = codes.get(code)
    if found is None and code in (REF_NULL_CODE, REF_CODE):
        found = _ref_type(r.u32(what + where), code == REF_NULL_CODE, what + where)
    if found is None:
        raise corrupted(f"unknown {what} {code:#x}{where}")
    return found


def _ref_type(heap, nullable, what):
    """The reference type to `heap`: a type index, or a code of HEAP_TYPES."""
    if heap >= 1 << 31:
        if heap not in _HEAP_NAMES:
            raise corrupted(f"unknown heap type {heap:#x} in {what}")
        heap = _HEAP_NAMES[heap]
    return ref_type(heap, nullable)


def _limits(r):
    """(Limits, address type) of a table or memory."""
    flags, minimum, maximum = r.unpack(LIMITS_RECORD, "limits")
    has_max = flags & LIMITS_HAS_MAX
    if flags & ~(LIMITS_HAS_MAX | LIMITS_64) or (not has_max and maximum):
        raise corrupted(f"limits with flags {flags} and maximum {maximum}")
    return Limits(minimum, maximum if has_max else None), "i64" if flags & LIMITS_64 else "i32"


def _table_type(r):
    return TableType(_valtype(r, REFTYPE_CODES, "table element type"), *_limits(r))


def _global_type(r):
    valtype = _valtype(r, VALTYPE_CODES, "global type")
    mutable = r.u8("global mutability")
    if mutable > 1:
        raise corrupted(f"global mutability {mutable}")
    return GlobalType(valtype, mutable == 1)


def _constant(r, what):
    """A constant expression: its instructions (as the decoder gives them, without the
    end)."""
    return [_constant_instr(r, what) for _ in range(r.count(what))]


def _constant_instr(r, what):
    op, low, high = r.unpack(CONSTANT_RECORD, what)
    if op == V128_CONST:
        return Instr(op, low | high << 64, None)
    if op in CONSTANT_ARITHMETIC:
        if low or high:
            raise corrupted(f"{what} has an operand for opcode {op:#x}, which takes none")
        return Instr(op, None, None)
    width = 32 if op in (I32_CONST, F32_CONST, REF_FUNC, GLOBAL_GET) else 64
    if high or low >> width:
        raise corrupted(f"{what} holds {low | high << 64:#x}, more than {width} bits")
    if op in (I32_CONST, I64_CONST):
        imm = low - (1 << width) if low >> (width - 1) else low     # signed, as decoded
    elif op in (F32_CONST, F64_CONST, REF_FUNC, GLOBAL_GET):
        imm = low
    elif op == REF_NULL:
        imm = _ref_type(low, True, what)
    else:
        raise corrupted(f"{what} has opcode {op:#x}, not a constant instruction")
    return Instr(op, imm, None)


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
