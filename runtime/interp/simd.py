"""SIMD (v128) semantics that need more than an expression.

Generated code calls these by name (see `simd_operators.py`). A v128 is a non-negative Python
int of 128 bits, lane 0 in the low bits, as everywhere in pywamr (runtime/values.py). Bitwise
instructions work on the int directly, and so do additions, shifts, comparisons, min/max and
saturating arithmetic, done on all lanes at once with what crosses between lanes masked off
(SWAR, "SIMD within a register"). Other lane arithmetic views the int as a tuple of lanes
(`lanes_s16(v)`: eight signed ints, through struct), computes on them, and joins the results
back (`join_s16(values)`); every value joined must be in the range of its lane type.

Float lanes: an f64 lane unpacks to the float with its exact bits. An f32 lane goes through
C's float->double conversion, which makes a signalling NaN quiet: harmless where the lane is
computed (the spec then allows any arithmetic NaN, and a canonical NaN stays canonical), so
the instructions that must move bits unchanged (abs, neg, pmin, pmax, lane moves) select or
mask bits instead. f32 results are computed in double precision and rounded once by
array('f'), as scalar f32 arithmetic is (see numeric.py).
"""

import math
import operator
import struct
from array import array
from functools import partial

from .numeric import fdiv_by_zero

__all__ = [   # the helpers generated code calls (bound into every instance namespace, with
              # LANE_HELPERS)
    "operator", "M128", "SPLAT8", "SPLAT16", "SPLAT32", "SPLAT64", "TOP8", "TOP16", "TOP32",
    "TOP64", "LOW8", "LOW16", "LOW32", "LOW64",
    "lanes_s8", "lanes_u8", "lanes_s16", "lanes_u16", "lanes_s32", "lanes_u32", "lanes_s64",
    "lanes_u64", "lanes_f32", "lanes_f64", "join_s8", "join_u8", "join_s16", "join_u16",
    "join_s32", "join_u32", "join_s64", "join_u64", "join_f32", "join_f64",
    "ld_v128", "st_v128", "ld_s8x8", "ld_u8x8", "ld_s16x4", "ld_u16x4", "ld_s32x2", "ld_u32x2",
    "saturate_s8", "saturate_u8", "saturate_s16", "saturate_u16", "pairwise_sums",
    "i32x4_dot_i16x8_s", "i16x8_q15mulr_sat_s", "bitmask", "i8x16_popcnt", "i8x16_shuffle",
    "i8x16_swizzle", "fdiv", "f32x4_pmin", "f32x4_pmax", "f64x2_pmin", "f64x2_pmax",
    "fma_f32", "fma_f64", "widen_u8", "widen_u16", "widen_u32", "widen_u8_u32",
    "i16x8_narrow_i32x4_u", "i8x16_narrow_i16x8_u", "widen_s8", "widen_s16",
    "widen_s32", "i16x8_relaxed_dot_i8x16_i7x16_s",
    "i32x4_relaxed_dot_i8x16_i7x16_add_s",
]

M128 = (1 << 128) - 1


def every_lane(pattern, width):
    """The v128 holding `pattern` in every `width`-bit lane."""
    return sum(pattern << shift for shift in range(0, 128, width))


# Multiplying a lane value by SPLATw repeats it in every w-bit lane; TOPw is the top bit of
# every lane and LOWw the bits below it (the masks of SWAR addition).
SPLAT8, SPLAT16, SPLAT32, SPLAT64 = (every_lane(1, w) for w in (8, 16, 32, 64))
TOP8, TOP16, TOP32, TOP64 = (every_lane(1 << (w - 1), w) for w in (8, 16, 32, 64))
LOW8, LOW16, LOW32, LOW64 = (every_lane((1 << (w - 1)) - 1, w) for w in (8, 16, 32, 64))


# Lane views

def _lane_view(fmt):
    """(lanes, join) for the struct format of 16 bytes `fmt`."""
    layout = struct.Struct("<" + fmt)
    unpack, pack = layout.unpack, layout.pack

    def lanes(v):
        return unpack(v.to_bytes(16, "little"))

    def join(values):
        return int.from_bytes(pack(*values), "little")

    return lanes, join


lanes_s8, join_s8 = _lane_view("16b")
lanes_s16, join_s16 = _lane_view("8h")
lanes_u16, join_u16 = _lane_view("8H")
lanes_s32, join_s32 = _lane_view("4i")
lanes_u32, join_u32 = _lane_view("4I")
lanes_s64, join_s64 = _lane_view("2q")
lanes_u64, join_u64 = _lane_view("2Q")
lanes_f32, _ = _lane_view("4f")
lanes_f64, join_f64 = _lane_view("2d")


def lanes_u8(v):
    return v.to_bytes(16, "little")          # bytes are a sequence of unsigned bytes


def join_u8(values):
    return int.from_bytes(bytes(values), "little")


def join_f32(values):
    """Doubles rounded to single precision (overflow to infinity, where struct would raise)."""
    return int.from_bytes(array("f", values).tobytes(), "little")


# Memory: struct raises struct.error past the end, the out-of-bounds trap (see operators.py).

ld_v128 = struct.Struct("16s").unpack_from
st_v128 = struct.Struct("16s").pack_into
ld_s8x8 = struct.Struct("<8b").unpack_from
ld_u8x8 = struct.Struct("<8B").unpack_from
ld_s16x4 = struct.Struct("<4h").unpack_from
ld_u16x4 = struct.Struct("<4H").unpack_from
ld_s32x2 = struct.Struct("<2i").unpack_from
ld_u32x2 = struct.Struct("<2I").unpack_from


# Shifts: the count is taken modulo the lane width; all lanes shift at once, and a mask drops
# the bits that crossed into a neighbour lane.

def shl_mask(width, k):
    """The bits of every lane that `lane << k` keeps."""
    return every_lane(((1 << width) - 1) ^ ((1 << k) - 1), width)


def shr_mask(width, k):
    """The bits of every lane that `lane >> k` (logical) keeps."""
    return every_lane((1 << (width - k)) - 1, width)


def sign_fill(width, k):
    """The bits an arithmetic `lane >> k` sets in a negative lane."""
    return ((1 << k) - 1) << (width - k)


def _shifts(width):
    """shl, shr_s and shr_u of `width`-bit lanes by a count known at run time only."""
    low_bits = every_lane(1, width)
    keep_left = [shl_mask(width, k) for k in range(width)]
    keep_right = [shr_mask(width, k) for k in range(width)]
    fill = [sign_fill(width, k) for k in range(width)]

    def shl(v, count):
        k = count & (width - 1)
        return (v << k) & keep_left[k]

    def shr_u(v, count):
        k = count & (width - 1)
        return (v >> k) & keep_right[k]

    def shr_s(v, count):
        k = count & (width - 1)
        negative = (v >> (width - 1)) & low_bits          # 1 in each negative lane
        return ((v >> k) & keep_right[k]) | negative * fill[k]

    return {"shl": shl, "shr_s": shr_s, "shr_u": shr_u}


# Comparisons, min, max, abs, rounding average and saturating add/sub, all lanes at once
# (SWAR): each works out one bit per lane (a lane's borrow, carry, overflow or sign) in the
# lane's top bit, then widens it into a mask of the whole lane by a multiplication. Two to
# four times faster than unpacking lanes (docs/interpreter.md).

def _lanewise(width):
    top = every_lane(1 << (width - 1), width)
    low = every_lane((1 << (width - 1)) - 1, width)
    ones = (1 << width) - 1
    halve = shr_mask(width, 1)
    splat = every_lane(1, width)
    alternate = every_lane(ones, 2 * width)            # lanes 0, 2, 4, ...

    def widen(bits):
        """All ones in the lanes whose top bit `bits` has, zeros elsewhere."""
        return (bits >> (width - 1)) * ones

    def add(a, b):                                        # as the add template
        return ((a & low) + (b & low)) ^ ((a ^ b) & top)

    def sub(a, b):                                        # as the sub template
        return ((a | top) - (b & low)) ^ ((a ^ ~b) & top)

    def borrows(a, b, difference):
        """The top bit of each lane where `difference` = a - b borrowed: a < b unsigned."""
        return ((~a & b) | (~(a ^ b) & difference)) & top

    def lt_u(a, b):
        return widen(borrows(a, b, sub(a, b)))

    def lt_s(a, b):
        return lt_u(a ^ top, b ^ top)

    def eq(a, b):
        x = a ^ b
        nonzero = ((x & low) + low) | x                   # top bit: some bit of the lane set
        return widen((nonzero & top) ^ top)

    def select(mask, a, b):
        return (a & mask) | (b & ~mask)

    def min_u(a, b):
        return select(lt_u(a, b), a, b)

    def min_s(a, b):
        return select(lt_s(a, b), a, b)

    def max_u(a, b):
        return select(lt_u(a, b), b, a)

    def max_s(a, b):
        return select(lt_s(a, b), b, a)

    def abs_(a):
        return select(widen(a & top), sub(0, a), a)

    def avgr_u(a, b):
        # (a + b + 1) >> 1 is (a | b) - ((a ^ b) >> 1), which never borrows from a neighbour.
        return (a | b) - (((a ^ b) >> 1) & halve)

    def add_sat_u(a, b):
        total = add(a, b)
        carry = (a & b) | ((a | b) & ~total)
        return total | widen(carry & top)

    def sub_sat_u(a, b):
        difference = sub(a, b)
        return difference & ~widen(borrows(a, b, difference))

    def saturated(a, result, overflow):
        """`result`, with the lanes that overflowed replaced by the limit on a's side."""
        limit = low ^ widen(a & top)                      # 0x7F.. for a >= 0, 0x80.. below
        return select(widen(overflow & top), limit, result)

    def add_sat_s(a, b):
        total = add(a, b)
        return saturated(a, total, ~(a ^ b) & (a ^ total))

    def sub_sat_s(a, b):
        difference = sub(a, b)
        return saturated(a, difference, (a ^ b) & (a ^ difference))

    def mul(a, b, shifts=range(0, 128, width)):
        lane = b & ones
        if b == lane * splat:
            # By a splat (clang's multiply by a constant): every other lane at once, each
            # product in a slot twice the lane's width.
            even = ((a & alternate) * lane) & alternate
            odd = (((a >> width) & alternate) * lane) & alternate
            return even | (odd << width)
        # Lane by lane on the int: half the time of unpacking and joining lanes.
        product = 0
        for shift in shifts:
            product |= (((a >> shift) & ones) * ((b >> shift) & ones) & ones) << shift
        return product

    return {"mul": mul, "lt_u": lt_u, "lt_s": lt_s, "eq": eq, "min_u": min_u, "min_s": min_s,
            "max_u": max_u, "max_s": max_s, "abs": abs_, "avgr_u": avgr_u,
            "add_sat_u": add_sat_u, "add_sat_s": add_sat_s, "sub_sat_u": sub_sat_u,
            "sub_sat_s": sub_sat_s}


# extend_{low,high}: the lanes of a 64-bit half moved into lanes twice as wide, chunks into
# slots twice their width, halving the chunk each step (32-bit chunks into 64-bit slots, then
# 16 into 32, then 8 into 16); signed, the sign bit of each lane then repeated over its upper
# half by one multiplication. Half the time of unpacking and joining lanes.
SPREAD32, SPREAD16, SPREAD8 = (every_lane((1 << w) - 1, 2 * w) for w in (32, 16, 8))


def widen_u32(x):
    return (x | (x << 32)) & SPREAD32


def widen_u16(x):
    x = (x | (x << 32)) & SPREAD32
    return (x | (x << 16)) & SPREAD16


def widen_u8(x):
    x = (x | (x << 32)) & SPREAD32
    x = (x | (x << 16)) & SPREAD16
    return (x | (x << 8)) & SPREAD8


# Two unsigned extends in a row (i16x8.extend_*_i8x16_u, then i32x4.extend_*_i16x8_u: clang's
# bytes-to-int widening) take four bytes straight into 32-bit lanes: the two 16-bit halves
# into 64-bit slots, then the bytes into 32-bit ones. Two steps and one call for five and two.
_HALVES64 = every_lane(0xFFFF, 64)
_BYTES32 = every_lane(0xFF, 32)


def widen_u8_u32(x):
    """The low four bytes of x as four u32 lanes."""
    x &= 0xFFFFFFFF
    x = (x | (x << 48)) & _HALVES64
    return (x | (x << 24)) & _BYTES32


# Unsigned saturating narrowing (i16x8.narrow_i32x4_u, i8x16.narrow_i16x8_u) when no lane
# needs saturating, i.e. the upper half of every lane is clear (clang narrows values it has
# masked): the low halves of the lanes packed together, the inverse of widening.
_UPPER16 = every_lane(0xFFFF0000, 32)
_UPPER8 = every_lane(0xFF00, 16)
_PAIRS32 = every_lane(0xFFFFFFFF, 64)
_PAIRS16 = every_lane(0xFFFF, 32)
_LOW64 = (1 << 64) - 1


def _packed32(x):
    """The 16-bit values in x's four 32-bit lanes, packed into 64 bits."""
    x = (x | (x >> 16)) & _PAIRS32
    return (x | (x >> 32)) & _LOW64


def _packed16(x):
    """The bytes in x's eight 16-bit lanes, packed into 64 bits."""
    x = (x | (x >> 8)) & _PAIRS16
    x = (x | (x >> 16)) & _PAIRS32
    return (x | (x >> 32)) & _LOW64


def i16x8_narrow_i32x4_u(a, b):
    if (a | b) & _UPPER16:
        return join_u16(map(saturate_u16, lanes_s32(a) + lanes_s32(b)))
    return _packed32(a) | _packed32(b) << 64


def i8x16_narrow_i16x8_u(a, b):
    if (a | b) & _UPPER8:
        return join_u8(map(saturate_u8, lanes_s16(a) + lanes_s16(b)))
    return _packed16(a) | _packed16(b) << 64


def _sign_extended(widen_u, width):
    signs = every_lane(1 << (width - 1), 2 * width)
    fill = (1 << (width + 1)) - 2                   # sign bit * fill: bits width..2*width-1

    def widen_s(x):
        x = widen_u(x)
        return x | (x & signs) * fill
    return widen_s


widen_s32 = _sign_extended(widen_u32, 32)
widen_s16 = _sign_extended(widen_u16, 16)
widen_s8 = _sign_extended(widen_u8, 8)


# The functions above by the names generated code calls them: i8x16_shl, i32x4_lt_s, ...
LANE_HELPERS = {f"{shape}_{name}": function
                for shape, width in (("i8x16", 8), ("i16x8", 16), ("i32x4", 32), ("i64x2", 64))
                for name, function in {**_shifts(width), **_lanewise(width)}.items()}


# Integer arithmetic on unpacked lanes

def saturate_s8(x):
    return -128 if x < -128 else 127 if x > 127 else x


def saturate_u8(x):
    return 0 if x < 0 else 255 if x > 255 else x


def saturate_s16(x):
    return -32768 if x < -32768 else 32767 if x > 32767 else x


def saturate_u16(x):
    return 0 if x < 0 else 65535 if x > 65535 else x


def pairwise_sums(values):
    """The sums of lanes 0 and 1, 2 and 3, ..."""
    return map(operator.add, values[0::2], values[1::2])


def i32x4_dot_i16x8_s(a, b):
    products = tuple(map(operator.mul, lanes_s16(a), lanes_s16(b)))
    # Only -32768 * -32768 twice overflows, to 0x80000000: wrap.
    return join_u32([x & 0xFFFFFFFF for x in pairwise_sums(products)])


def i16x8_q15mulr_sat_s(a, b):
    # The rounded product is at least -32768; only -32768 * -32768 exceeds 32767.
    return join_s16([min((x * y + 0x4000) >> 15, 32767)
                     for x, y in zip(lanes_s16(a), lanes_s16(b))])


def i16x8_relaxed_dot_i8x16_i7x16_s(a, b):
    """Signed bytes times signed bytes (pywamr's choice, docs/compiler.md), pairs summed;
    only -128 * -128 twice overflows 16 bits, and wraps."""
    products = tuple(map(operator.mul, lanes_s8(a), lanes_s8(b)))
    return join_u16([x & 0xFFFF for x in pairwise_sums(products)])


def i32x4_relaxed_dot_i8x16_i7x16_add_s(a, b, c):
    """Signed bytes times signed bytes, four products summed (exact in 32 bits), plus c."""
    pairs = tuple(pairwise_sums(tuple(map(operator.mul, lanes_s8(a), lanes_s8(b)))))
    return join_u32([(x + y) & 0xFFFFFFFF
                     for x, y in zip(pairwise_sums(pairs), lanes_s32(c))])


def bitmask(values):
    """The sign bits of signed lanes, lane 0 in bit 0."""
    return sum(1 << i for i, x in enumerate(values) if x < 0)


_POPCOUNTS = bytes(i.bit_count() for i in range(256))


def i8x16_popcnt(v):
    return int.from_bytes(v.to_bytes(16, "little").translate(_POPCOUNTS), "little")


def i8x16_shuffle(a, b, indices):
    """Bytes of a (0-15) and b (16-31) picked by the instruction's 16 lane indices."""
    both = a.to_bytes(16, "little") + b.to_bytes(16, "little")
    return int.from_bytes(bytes(map(both.__getitem__, indices)), "little")


_PAST_THE_END = bytes(240)


def i8x16_swizzle(a, indices):
    """Bytes of a picked by the bytes of `indices`; an index of 16 or more picks 0."""
    padded = a.to_bytes(16, "little") + _PAST_THE_END       # every byte value is an index
    return int.from_bytes(bytes(map(padded.__getitem__, indices.to_bytes(16, "little"))),
                          "little")


# Float lane arithmetic

def fdiv(a, b):
    """IEEE division (Python raises ZeroDivisionError for b = +-0)."""
    return a / b if b else fdiv_by_zero(a, b)


def _pseudo_min_max(lanes_bits, lanes_float, join):
    """pmin (`b < a ? b : a`) and pmax (`a < b ? b : a`) lane by lane; the chosen lane's
    bits pass unchanged, NaNs included."""
    def pmin(a, b):
        return join([y if q < p else x for x, y, p, q in
                     zip(lanes_bits(a), lanes_bits(b), lanes_float(a), lanes_float(b))])

    def pmax(a, b):
        return join([y if p < q else x for x, y, p, q in
                     zip(lanes_bits(a), lanes_bits(b), lanes_float(a), lanes_float(b))])

    return pmin, pmax


f32x4_pmin, f32x4_pmax = _pseudo_min_max(lanes_u32, lanes_f32, join_u32)
f64x2_pmin, f64x2_pmax = _pseudo_min_max(lanes_u64, lanes_f64, join_u64)


def fma(a, b, c, precision, smallest_exponent):
    """a * b + c rounded once to the float format of `precision` significand bits whose
    smallest normal number is 2**smallest_exponent (relaxed_madd: pywamr fuses). Python 3.11
    has no math.fma, and a * b + c in doubles rounds twice, so the finite case is exact."""
    if not (math.isfinite(a) and math.isfinite(b) and math.isfinite(c)):
        # A finite product cannot cancel an infinite c (the product might overflow in floats).
        return c if math.isfinite(a) and math.isfinite(b) else a * b + c
    from fractions import Fraction     # only here: relaxed SIMD is rare, the import not free
    exact = Fraction(a) * Fraction(b) + Fraction(c)
    if not exact:
        # Exact zeros: the product is representable, so floats give IEEE's sign of the sum.
        return a * b + c
    numerator, denominator = abs(exact.numerator), exact.denominator
    exponent = numerator.bit_length() - denominator.bit_length()    # of the leading bit,
    if (numerator << max(-exponent, 0)) < (denominator << max(exponent, 0)):    # or one less
        exponent -= 1
    ulp = max(exponent, smallest_exponent) - (precision - 1)       # subnormals: fixed ulp
    quotient, remainder = divmod(numerator << max(-ulp, 0), denominator << max(ulp, 0))
    if 2 * remainder > (denominator << max(ulp, 0)) or (
            2 * remainder == (denominator << max(ulp, 0)) and quotient & 1):
        quotient += 1                                              # to nearest, ties to even
    try:
        magnitude = math.ldexp(quotient, ulp)
    except OverflowError:
        magnitude = math.inf
    return -magnitude if exact < 0 else magnitude


# An f32 result is exact in a double (or 2**128, which join_f32 makes infinity).
fma_f32 = partial(fma, precision=24, smallest_exponent=-126)
fma_f64 = partial(fma, precision=53, smallest_exponent=-1022)
