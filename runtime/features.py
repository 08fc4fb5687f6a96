"""WebAssembly features pywamr does not support yet, by the encodings that introduce them.

Decoding stops at the first byte it does not know, with the spec's wording ("illegal
opcode", "malformed value type", ...), which makes a module that uses a newer feature look
like a broken file. Where that byte is one of a feature's, the decoder names the feature
after the wording (`unsupported`), so that the message still starts as the spec tests
expect: "illegal opcode: uses GC (ref.eq), not supported".
"""

_GC = "GC"

# One-byte opcodes.
OPCODES = {
    0xD3: (_GC, "ref.eq"),
    0xFB: (_GC, "struct, array and i31 instructions"),
    0xFE: ("threads", "atomic instructions"),
}

# Prefixed opcodes, numbered as opcodes.py numbers them (0xFD00 + the sub-opcode): none
# left since relaxed SIMD (0xFD 0x100-0x113) is supported.
PREFIXED_OPCODES = {}

# Value types, and the heap types of (ref ...) and ref.null: the reference types beyond
# funcref, externref, exnref and typed function references.
VALUE_TYPES = {
    0x73: (_GC, "nullfuncref"),
    0x72: (_GC, "nullexternref"), 0x71: (_GC, "nullref"), 0x6E: (_GC, "anyref"),
    0x6D: (_GC, "eqref"), 0x6C: (_GC, "i31ref"), 0x6B: (_GC, "structref"),
    0x6A: (_GC, "arrayref"),
}

# Composite types other than a function type (0x60); `rec` and `sub` may wrap these.
TYPE_FORMS = {0x5F: (_GC, "struct"), 0x5E: (_GC, "array")}

SECTIONS = {}

# Limits flags the decoder does not know (it knows bit 0, a maximum, and bit 2, 64-bit):
# bit 1 shares a memory. No feature gives a table's limits other flags.
MEMORY_LIMIT_FLAGS = {flag: ("threads", "shared memory") for flag in (2, 3, 6, 7)}
TABLE_LIMIT_FLAGS = {}

# The version field of a component's preamble: version 0x0d, layer 1.
COMPONENT_VERSION = b"\x0d\x00\x01\x00"
COMPONENT = "a WebAssembly component, not a core module"


def unsupported(wording, table, code):
    """The spec's `wording`, followed by the feature `code` belongs to in `table`, if any."""
    known = table.get(code)
    if known is None:
        return wording
    return named(wording, *known)


def named(wording, feature, construct):
    return f"{wording}: uses {feature} ({construct}), not supported"

