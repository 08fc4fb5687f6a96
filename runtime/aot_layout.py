"""The byte layout of the `.aot` container (docs/aot-format.md), shared by the compiler's
writer (compiler/aot_writer.py) and the loader's reader (loader/aot_file.py), which both
depend on the runtime and never on each other."""

import struct

MAGIC = b"\x00pyaot\r\n"
FORMAT_VERSION = 2

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
