"""Conversions between the engines' value representation and friendly Python values.

Inside pywamr every numeric value is carried as its bit pattern, an unsigned Python int
(i32/f32: 32 bits, i64/f64: 64 bits, v128: 128 bits), so NaN payloads and signed zeros survive
every hop between engines, host functions and the spec-test runner. References are None (null)
or an engine object (funcref) / any Python object (externref).

Friendly values are what embedders use: signed ints for i32/i64, floats for f32/f64.
"""

import struct

_MASK = {"i32": 0xFFFFFFFF, "i64": 0xFFFFFFFFFFFFFFFF, "f32": 0xFFFFFFFF,
         "f64": 0xFFFFFFFFFFFFFFFF, "v128": (1 << 128) - 1}


def to_bits(valtype, value):
    """Friendly Python value -> bit pattern (refs pass through)."""
    if valtype == "i32" or valtype == "i64" or valtype == "v128":
        return int(value) & _MASK[valtype]
    if valtype == "f32":
        return struct.unpack("<I", struct.pack("<f", value))[0]
    if valtype == "f64":
        return struct.unpack("<Q", struct.pack("<d", value))[0]
    return value


def from_bits(valtype, bits):
    """Bit pattern -> friendly Python value (i32/i64 signed, floats as float)."""
    if valtype == "i32":
        return bits - (1 << 32) if bits & 0x80000000 else bits
    if valtype == "i64":
        return bits - (1 << 64) if bits & (1 << 63) else bits
    if valtype == "f32":
        return struct.unpack("<f", struct.pack("<I", bits))[0]
    if valtype == "f64":
        return struct.unpack("<d", struct.pack("<Q", bits))[0]
    return bits
