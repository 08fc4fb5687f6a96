"""The byte layout of the `.aot` container (docs/aot-format.md), shared by the compiler's
writer (compiler/aot_writer.py) and the loader's reader (loader/aot_file.py), which both
depend on the runtime and never on each other."""

import struct

MAGIC = b"\x00pyaot\r\n"
FORMAT_VERSION = 7

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

# Limits on what a reader accepts, so that a corrupt size cannot ask for absurd mappings.
MAX_OBJECT_SIZE = 1 << 30        # sum of the object sections' sizes in memory
MAX_ALIGNMENT = 4096             # a section's alignment: at most a page


def function_names_payload(func_names):
    """The contents of the one custom section the module section keeps, when the module
    has function names: a `name` section with only its function-name subsection (id 1), so
    that backtraces can name functions. `func_names` maps function index -> name."""
    names = sorted(func_names.items())
    subsection = leb_u32(len(names)) + b"".join(
        leb_u32(index) + wasm_name(name) for index, name in names)
    return b"\x01" + leb_u32(len(subsection)) + subsection


def wasm_name(text):
    """A name as the wasm binary format writes it: LEB128 length, UTF-8 bytes."""
    raw = text.encode("utf-8")
    return leb_u32(len(raw)) + raw


def leb_u32(value):
    """Unsigned LEB128, as the wasm binary format writes sizes and indices."""
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if not value:
            out.append(byte)
            return bytes(out)
        out.append(byte | 0x80)


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
        "tables: " + " ".join(t.elem_type for t in module.all_tables()),
        f"memories: {len(module.all_memories())}",
        "globals: " + "; ".join(("mut " if g.mutable else "") + g.valtype
                                for g in module.all_global_types()),
        "element segments: " + " ".join(s.elem_type for s in module.elems),
        f"data segments: {len(module.datas)}",
    ])
