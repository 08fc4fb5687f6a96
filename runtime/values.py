"""Conversions between the engines' value representation and friendly Python values.

Inside pywamr every numeric value is carried as its bit pattern, an unsigned Python int
(i32/f32: 32 bits, i64/f64: 64 bits, v128: 128 bits), so NaN payloads and signed zeros survive
every hop between engines, host functions and the spec-test runner. References are None (null)
or an engine object (funcref) / any Python object (externref).

Friendly values are what embedders use: signed ints for i32/i64, floats for f32/f64.
"""

import operator
import struct

from .types import is_defaultable

_BITS = {"i32": 32, "i64": 64, "v128": 128}
_MASK = {"i32": 0xFFFFFFFF, "i64": 0xFFFFFFFFFFFFFFFF, "f32": 0xFFFFFFFF,
         "f64": 0xFFFFFFFFFFFFFFFF, "v128": (1 << 128) - 1}


def to_bits(valtype, value):
    """Friendly Python value -> bit pattern, refusing what the type cannot hold: TypeError
    for a value of the wrong kind (a float for an integer, a string for anything), ValueError
    for an integer out of the type's range, signed or unsigned (i32: -2**31 to 2**32-1). A
    float beyond f32's range becomes an infinity, as C's conversion makes it. References
    pass through, the engine checking them, but for None where the type is not nullable."""
    if valtype == "i32" or valtype == "i64" or valtype == "v128":
        bits = _BITS[valtype]
        try:
            number = operator.index(value)
        except TypeError:
            raise TypeError(f"expected an integer for {valtype}, got "
                            f"{type(value).__name__}") from None
        if not -(1 << (bits - 1)) <= number < 1 << bits:
            raise ValueError(f"{number} is out of range for {valtype}")
        return number & _MASK[valtype]
    if valtype == "f32" or valtype == "f64":
        if not isinstance(value, (int, float)):
            raise TypeError(f"expected a number for {valtype}, got {type(value).__name__}")
        if valtype == "f64":
            return struct.unpack("<Q", struct.pack("<d", value))[0]
        try:
            return struct.unpack("<I", struct.pack("<f", value))[0]
        except OverflowError:        # finite, but beyond f32's largest
            return 0xFF800000 if value < 0 else 0x7F800000
    if value is None and not is_defaultable(valtype):
        raise TypeError(f"expected a non-null reference for {valtype}")
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
