"""WebAssembly numeric semantics that do not fit in one Python expression.

Generated code calls these by name (see `operators.py`). Inside the interpreter i32/i64 values
are unsigned Python ints and f32/f64 values are Python floats. An f32 is a float holding an
exactly representable single-precision value; an f32 NaN is the double NaN with the same sign
and its 23-bit payload in the top mantissa bits, which is what C's float->double conversion
gives, except that a signalling f32 NaN stays signalling here (C would quieten it). That is why
f32 bit patterns go through `f32_from_bits`/`f32_to_bits` instead of struct's 'f' format.
"""

import math
import struct

from ..errors import Trap, TrapCode

__all__ = [   # the helpers generated code calls (bound into every instance namespace)
    "INF", "copysign", "f32_from_bits", "f32_to_bits", "f64_from_bits", "f64_to_bits", "load_f32",
    "store_f32", "i32_div_s", "i64_div_s", "i32_rem_s", "i64_rem_s", "i32_rotl", "i32_rotr",
    "i64_rotl", "i64_rotr", "i32_ctz", "i64_ctz", "fdiv_by_zero", "fmin", "fmax", "fsqrt",
    "fceil", "ffloor", "ftrunc", "fnearest", "f32_from_int", "i32_trunc_s", "i32_trunc_u",
    "i64_trunc_s", "i64_trunc_u", "i32_trunc_sat_s", "i32_trunc_sat_u", "i64_trunc_sat_s",
    "i64_trunc_sat_u",
]

M32 = 0xFFFFFFFF
M64 = 0xFFFFFFFFFFFFFFFF

_F32 = struct.Struct("<f")
_U32 = struct.Struct("<I")
_F64 = struct.Struct("<d")
_U64 = struct.Struct("<Q")

INF = math.inf
CANONICAL_NAN = _F64.unpack(_U64.pack(0x7FF8000000000000))[0]
copysign = math.copysign


# Bit patterns <-> floats

def f32_from_bits(bits):
    if bits & 0x7F800000 == 0x7F800000 and bits & 0x7FFFFF:
        double = (((bits & 0x80000000) << 32) | 0x7FF0000000000000
                  | ((bits & 0x7FFFFF) << 29))
        return _F64.unpack(_U64.pack(double))[0]
    return _F32.unpack(_U32.pack(bits))[0]


def f32_to_bits(x):
    if x != x:
        double = _U64.unpack(_F64.pack(x))[0]
        return ((double >> 32) & 0x80000000) | 0x7F800000 | ((double >> 29) & 0x7FFFFF)
    return _U32.unpack(_F32.pack(x))[0]


def f64_from_bits(bits):
    return _F64.unpack(_U64.pack(bits))[0]


def f64_to_bits(x):
    return _U64.unpack(_F64.pack(x))[0]


def load_f32(mem, addr):
    x = _F32.unpack_from(mem, addr)[0]
    if x != x:
        return f32_from_bits(_U32.unpack_from(mem, addr)[0])
    return x


def store_f32(mem, addr, x):
    _U32.pack_into(mem, addr, f32_to_bits(x))


# Integer arithmetic

def i32_div_s(a, b):
    if b == 0:
        raise Trap(TrapCode.INTEGER_DIVIDE_BY_ZERO)
    if a == 0x80000000 and b == M32:
        raise Trap(TrapCode.INTEGER_OVERFLOW)
    a = (a ^ 0x80000000) - 0x80000000
    b = (b ^ 0x80000000) - 0x80000000
    q = abs(a) // abs(b)
    return (-q if (a < 0) != (b < 0) else q) & M32


def i64_div_s(a, b):
    if b == 0:
        raise Trap(TrapCode.INTEGER_DIVIDE_BY_ZERO)
    if a == 0x8000000000000000 and b == M64:
        raise Trap(TrapCode.INTEGER_OVERFLOW)
    a = (a ^ 0x8000000000000000) - 0x8000000000000000
    b = (b ^ 0x8000000000000000) - 0x8000000000000000
    q = abs(a) // abs(b)
    return (-q if (a < 0) != (b < 0) else q) & M64


def i32_rem_s(a, b):
    if b == 0:
        raise Trap(TrapCode.INTEGER_DIVIDE_BY_ZERO)
    a = (a ^ 0x80000000) - 0x80000000
    r = abs(a) % abs((b ^ 0x80000000) - 0x80000000)
    return (-r if a < 0 else r) & M32


def i64_rem_s(a, b):
    if b == 0:
        raise Trap(TrapCode.INTEGER_DIVIDE_BY_ZERO)
    a = (a ^ 0x8000000000000000) - 0x8000000000000000
    r = abs(a) % abs((b ^ 0x8000000000000000) - 0x8000000000000000)
    return (-r if a < 0 else r) & M64


def i32_rotl(a, k):
    k &= 31
    return ((a << k) | (a >> (32 - k))) & M32


def i32_rotr(a, k):
    k &= 31
    return ((a >> k) | (a << (32 - k))) & M32


def i64_rotl(a, k):
    k &= 63
    return ((a << k) | (a >> (64 - k))) & M64


def i64_rotr(a, k):
    k &= 63
    return ((a >> k) | (a << (64 - k))) & M64


def i32_ctz(a):
    return (a & -a).bit_length() - 1 if a else 32


def i64_ctz(a):
    return (a & -a).bit_length() - 1 if a else 64


# Float arithmetic (the same functions serve f32 and f64: their results are exact or NaN)

def fdiv_by_zero(a, b):
    """a / b for b = +-0.0, which Python refuses to compute."""
    if a != a:
        return a * 1.0
    if a == 0.0:
        return CANONICAL_NAN
    return copysign(INF, a) * copysign(1.0, b)


def fmin(a, b):
    if a < b:
        return a
    if b < a:
        return b
    if a == b:                  # equal, or +0 and -0: -0 is the smaller
        return a if copysign(1.0, a) < 0 else b
    return a + b                # a NaN operand: an arithmetic NaN


def fmax(a, b):
    if a > b:
        return a
    if b > a:
        return b
    if a == b:
        return a if copysign(1.0, a) > 0 else b
    return a + b


def fsqrt(x):
    if x >= 0.0:
        return math.sqrt(x)
    return x * 1.0 if x != x else CANONICAL_NAN


# Rounding to an integral value keeps the sign (ceil(-0.5) is -0.0), hence the copysign.
# `x - x == 0.0` is false exactly for infinities and NaNs, which round to themselves (NaNs made
# quiet by the multiplication).

def fceil(x):
    if x - x == 0.0:
        return copysign(float(math.ceil(x)), x)
    return x * 1.0


def ffloor(x):
    if x - x == 0.0:
        return copysign(float(math.floor(x)), x)
    return x * 1.0


def ftrunc(x):
    if x - x == 0.0:
        return copysign(float(math.trunc(x)), x)
    return x * 1.0


def fnearest(x):
    if x - x == 0.0:
        return copysign(float(round(x)), x)     # round() rounds half to even
    return x * 1.0


# Conversions

def f32_from_int(v):
    """A signed Python int rounded to the nearest f32 (ties to even), as a float.

    float(v) would round to 53 bits first, and rounding twice can differ from rounding once."""
    m = abs(v)
    shift = m.bit_length() - 24
    if shift > 0:
        q, rest = m >> shift, m & ((1 << shift) - 1)
        half = 1 << (shift - 1)
        if rest > half or (rest == half and q & 1):
            q += 1
        m = q << shift
    return float(-m if v < 0 else m)


def _trunc(x, low, high, mask):
    """Trapping float->int truncation; the result is in range iff low < x < high."""
    if x != x:
        raise Trap(TrapCode.INVALID_CONVERSION_TO_INTEGER)
    if low < x < high:
        return int(x) & mask
    raise Trap(TrapCode.INTEGER_OVERFLOW)


def i32_trunc_s(x):
    return _trunc(x, -2147483649.0, 2147483648.0, M32)


def i32_trunc_u(x):
    return _trunc(x, -1.0, 4294967296.0, M32)


def i64_trunc_s(x):
    if x != x:
        raise Trap(TrapCode.INVALID_CONVERSION_TO_INTEGER)
    if -9223372036854775808.0 <= x < 9223372036854775808.0:
        return int(x) & M64
    raise Trap(TrapCode.INTEGER_OVERFLOW)


def i64_trunc_u(x):
    return _trunc(x, -1.0, 18446744073709551616.0, M64)


def _trunc_sat(x, low, high, mask):
    """Saturating truncation into [low, high] (signed bounds), NaN -> 0."""
    if x != x:
        return 0
    if x <= low:
        return low & mask
    if x >= high:
        return high & mask
    return int(x) & mask


def i32_trunc_sat_s(x):
    return _trunc_sat(x, -2147483648, 2147483647, M32)


def i32_trunc_sat_u(x):
    return _trunc_sat(x, 0, 4294967295, M32)


def i64_trunc_sat_s(x):
    return _trunc_sat(x, -9223372036854775808, 9223372036854775807, M64)


def i64_trunc_sat_u(x):
    return _trunc_sat(x, 0, 18446744073709551615, M64)
