"""The byte layout of the `.aot` container (docs/aot-format.md), shared by the compiler's
writer (compiler/aot_writer.py) and the loader's reader (loader/aot_file.py), which both
depend on the runtime and never on each other."""

import struct

MAGIC = b"\x00pyaot\r\n"
FORMAT_VERSION = 14

# magic, format version, CRC-32 of every byte after this field, payload length
HEADER = struct.Struct("<8sIIQ")
CHECKSUM_OFFSET = 12
CHECKSUMMED_FROM = 16

# Payload sections, each `u8 id, u64 size, body`, all present, in this order.
SECTION_TARGET = 1
SECTION_MODULE = 2
SECTION_OBJECT = 3
SECTION_SYMBOLS = 4
SECTION_RELOCATIONS = 5
SECTION_ORDER = (SECTION_TARGET, SECTION_MODULE, SECTION_OBJECT, SECTION_SYMBOLS,
                 SECTION_RELOCATIONS)
SECTION_HEADER = struct.Struct("<BQ")

# Flags of an object section.
FLAG_EXECUTABLE = 1
FLAG_WRITABLE = 2

NO_SECTION = 0xFFFFFFFF          # symbol section index of an undefined (external) symbol
SECTION_RECORD = struct.Struct("<BIQQ")     # flags, align, size, length of the stored data
SYMBOL_RECORD = struct.Struct("<IQ")        # section index, offset (after the name)
RELOCATION_RECORD = struct.Struct("<IIQIIq")  # section, type, offset, symbol, reserved, addend

# The module section: the wasm module's metadata as fixed-size records (docs/aot-format.md,
# "Module"); counts are u32, strings a u32 length and UTF-8, value types their wasm codes,
# and after the code of (ref null ...) or (ref ...) a u32 heap type: a type index or one of
# HEAP_TYPES.
COUNT = struct.Struct("<I")
# Limits of a table or memory: flags as in the wasm binary (bit 0: a maximum; bit 2: 64-bit,
# memory64), minimum, maximum or 0.
LIMITS_RECORD = struct.Struct("<BQQ")
LIMITS_HAS_MAX = 1
LIMITS_64 = 4
CONSTANT_RECORD = struct.Struct("<HQQ")     # opcode, value: low 64 bits, high 64 bits
NO_START = 0xFFFFFFFF
REF_NULL_CODE, REF_CODE = 0x63, 0x64
HEAP_TYPES = {"func": 0xFFFF_FF70, "extern": 0xFFFF_FF6F, "exn": 0xFFFF_FF69,
              "noexn": 0xFFFF_FF74}
# kinds of imports and exports by code
EXTERN_KINDS = ("func", "table", "memory", "global", "tag")
ELEM_MODES = ("active", "passive", "declarative")
DATA_MODES = ("active", "passive")

# The instructions of a constant expression, numbered as runtime/opcodes.py numbers them
# (v128.const is 0xFD prefix, sub-opcode 12): WebAssembly 2.0 allows exactly one of them.
I32_CONST, I64_CONST, F32_CONST, F64_CONST, V128_CONST = 0x41, 0x42, 0x43, 0x44, 0xFD0C
REF_NULL, REF_FUNC, GLOBAL_GET = 0xD0, 0xD2, 0x23
# The arithmetic of extended constant expressions (WebAssembly 3.0), and its operand type.
I32_ADD, I32_SUB, I32_MUL, I64_ADD, I64_SUB, I64_MUL = 0x6A, 0x6B, 0x6C, 0x7C, 0x7D, 0x7E
CONSTANT_ARITHMETIC = {I32_ADD: "i32", I32_SUB: "i32", I32_MUL: "i32",
                       I64_ADD: "i64", I64_SUB: "i64", I64_MUL: "i64"}

# A type's place in its recursion group (3.0's rec and sub, types.TypeGroup), after its
# params and results: u8 1 if it has one (then the record and a u32 count of supertypes,
# each a u32 type index), 0 for a plain function type.
TYPE_GROUP_RECORD = struct.Struct("<IIB")     # first type of the group, its size, final

# Limits on what a reader accepts, so that a corrupt size cannot ask for absurd mappings.
MAX_OBJECT_SIZE = 1 << 30        # sum of the object sections' sizes in memory
MAX_ALIGNMENT = 4096             # a section's alignment: at most a page


def module_interface(module):
    """What the compiled code assumes about its wasm module, as text recorded in the target
    section: the code indexes the VMContext's arrays and calls with native signatures
    fixed at compile time, so a module whose index spaces differ is not the code's module.
    One line per index space; names, limits, initialisers and segment contents are left
    out, the loader checks those at run time."""
    def signature(functype):
        return " ".join(functype.params) + " -> " + " ".join(functype.results)

    return "\n".join([
        "types: " + "; ".join(signature(t) for t in module.types),
        f"functions: {module.num_imported_funcs} imported; types "
        + " ".join(map(str, module.func_type_indices())),
        "tables: " + " ".join(_address(t) + t.elem_type for t in module.all_tables()),
        "memories: " + _memories(module.all_memories()),
        "tags: " + " ".join(map(str, module.tag_type_indices())),
        "globals: " + "; ".join(("mut " if g.mutable else "") + g.valtype
                                for g in module.all_global_types()),
        "element segments: " + " ".join(s.elem_type for s in module.elems),
        f"data segments: {len(module.datas)}",
    ])


def _address(externtype):
    """How an index space line marks a 64-bit table or memory (memory64): its code takes
    i64 addresses."""
    return "i64 " if externtype.address_type == "i64" else ""


def _memories(memtypes):
    """The count, and which are 64-bit if any: "2" or "2; i64 1"."""
    wide = [str(i) for i, t in enumerate(memtypes) if t.address_type == "i64"]
    return str(len(memtypes)) + ("; i64 " + " ".join(wide) if wide else "")
