"""Lowering of the SIMD instructions (v128) to LLVM vector IR: constants, shuffles, lanes,
and the lane-wise integer and float operations. SIMD loads and stores are simd_memory.py.

A v128 is a `<2 x i64>` at rest (signatures.V128). Each operation bitcasts its operands to
its lane shape, e.g. `<16 x i8>` for i8x16 or `<4 x float>` for f32x4, and its result back;
LLVM folds the casts. The lowering is generic IR and target-independent intrinsics
(llvm.sadd.sat, llvm.smin, llvm.abs, llvm.ctpop, llvm.vector.reduce.and, ...), which LLVM
legalises to SSE2 (or better, with --cpu-features) on x86_64 and NEON on AArch64.

The operations with lanes in one shape reuse numeric.py's lowerings, which work lane-wise on
vectors, including the NaN rules for float arithmetic and min/max. The rest:

- Shift counts are taken modulo the lane width; comparisons give all-ones/all-zeros lanes.
- Narrowing saturates signed input lanes to the narrow range, then truncates.
- pmin/pmax are selects (`b < a ? b : a`), so they keep NaN bits exactly as the spec wants.

Relaxed SIMD gives one result everywhere (docs/compiler.md, "Relaxed SIMD"): most relaxed
instructions are lowered as the 2.0 instruction whose result was chosen; madd/nmadd are
llvm.fma, the dot products are signed.

Two instructions are lowered per architecture, where the generic form would be slow:
- swizzle: on AArch64 the TBL intrinsic, which is exactly swizzle. On x86_64 per-lane
  dynamic extracts and a select zeroing the lanes whose index is 16 or more; LLVM turns the
  extracts into one pshufb when the CPU has SSSE3 (with SSE2 only they stay scalar).
- trunc_sat: on AArch64 llvm.fptosi.sat/fptoui.sat, one FCVTZS/FCVTZU. x86 has no
  saturating conversion and LLVM would convert one lane at a time, so there the lanes are
  clamped with vector selects and converted with a plain fptosi/fptoui.
"""

from pywamr.runtime.relaxed_simd import SAME_AS

from . import ir_text as ir
from . import numeric
from .signatures import F32, F64, I1, I8, I16, I32, I64, V128

SHAPES = {
    "i8x16": ir.VectorType(I8, 16), "i16x8": ir.VectorType(I16, 8),
    "i32x4": ir.VectorType(I32, 4), "i64x2": ir.VectorType(I64, 2),
    "f32x4": ir.VectorType(F32, 4), "f64x2": ir.VectorType(F64, 2),
}
INT_SHAPES = ("i8x16", "i16x8", "i32x4", "i64x2")
FLOAT_SHAPES = ("f32x4", "f64x2")

# The shape whose lanes are twice as wide, for the widening and narrowing operations.
WIDER = {"i8x16": "i16x8", "i16x8": "i32x4", "i32x4": "i64x2"}


def _vector(element, values):
    return ir.Constant(ir.VectorType(element, len(values)), list(values))


def _mask(indices):
    """A shufflevector mask picking these lanes."""
    return _vector(I32, indices)


def _signed(value, bits):
    return value - (1 << bits) if value >> (bits - 1) else value


def lanes(fx, value, shape):
    """A v128 viewed as the lanes of `shape`."""
    return fx.builder.bitcast(value, SHAPES[shape])


def as_v128(fx, value):
    return fx.builder.bitcast(value, V128)


def broadcast(fx, scalar, typ):
    """A vector of type `typ` with `scalar` in every lane."""
    single = fx.builder.insert_element(ir.Constant(typ, ir.Undefined), scalar,
                                       ir.Constant(I32, 0))
    return fx.builder.shuffle_vector(single, ir.Constant(typ, ir.Undefined),
                                     _mask([0] * typ.count))


def _half(fx, vector, high):
    """The low or the high half of a vector's lanes."""
    count = vector.type.count // 2
    start = count if high else 0
    return fx.builder.shuffle_vector(vector, ir.Constant(vector.type, ir.Undefined),
                                     _mask(range(start, start + count)))


def _with_zero_high_half(fx, vector):
    """A vector twice as long: `vector`'s lanes, then zeros."""
    count = vector.type.count
    return fx.builder.shuffle_vector(vector, ir.Constant(vector.type, None),
                                     _mask(range(2 * count)))


def _every_other(fx, vector, start):
    """Lanes start, start + 2, start + 4, ... of `vector`."""
    return fx.builder.shuffle_vector(vector, ir.Constant(vector.type, ir.Undefined),
                                     _mask(range(start, vector.type.count, 2)))


def _extend(fx, vector, signed, typ):
    return fx.builder.sext(vector, typ) if signed else fx.builder.zext(vector, typ)


def _call(fx, name, *args):
    """An overloaded intrinsic on vectors of the first argument's type, e.g. llvm.smin."""
    typ = args[0].type
    return fx.call_intrinsic(f"{name}.{numeric.type_suffix(typ)}", typ, list(args))


# --- constants, shuffles, lanes ------------------------------------------------------------

def v128_const(bits):
    low, high = bits & (1 << 64) - 1, bits >> 64
    return ir.Constant(V128, [_signed(low, 64), _signed(high, 64)])


def shuffle(fx, a, b, indices):
    result = fx.builder.shuffle_vector(lanes(fx, a, "i8x16"), lanes(fx, b, "i8x16"),
                                       _mask(indices))
    return as_v128(fx, result)


def swizzle(fx, a, indices):
    table = lanes(fx, a, "i8x16")
    indices = lanes(fx, indices, "i8x16")
    if fx.menv.triple.startswith("aarch64"):
        # TBL is swizzle exactly; LLVM does not make it from the generic form below.
        return as_v128(fx, fx.call_intrinsic("llvm.aarch64.neon.tbl1.v16i8", table.type,
                                             [table, indices]))
    # Lanes with an index of 16 or more are poison here, and zeroed by the select.
    b = fx.builder
    picked = ir.Constant(table.type, ir.Undefined)
    for i in range(16):
        lane = ir.Constant(I32, i)
        index = b.extract_element(indices, lane)
        picked = b.insert_element(picked, b.extract_element(table, index), lane)
    in_range = b.icmp_unsigned("<", indices, ir.Constant(indices.type, 16))
    return as_v128(fx, b.select(in_range, picked, ir.Constant(table.type, None)))


def _splat(shape):
    typ = SHAPES[shape]

    def lower(fx, scalar):
        if isinstance(typ.element, ir.IntType) and typ.element.width < 32:
            scalar = fx.builder.trunc(scalar, typ.element)
        return as_v128(fx, broadcast(fx, scalar, typ))
    return lower


def _extract_lane(shape, signed=None):
    """`signed` is None for lanes of 32 bits or more, else whether to sign-extend to i32."""
    def lower(fx, a, lane):
        value = fx.builder.extract_element(lanes(fx, a, shape), ir.Constant(I32, lane))
        if signed is None:
            return value
        return _extend(fx, value, signed, I32)
    return lower


def _replace_lane(shape):
    typ = SHAPES[shape]

    def lower(fx, a, scalar, lane):
        if isinstance(typ.element, ir.IntType) and typ.element.width < 32:
            scalar = fx.builder.trunc(scalar, typ.element)
        return as_v128(fx, fx.builder.insert_element(lanes(fx, a, shape), scalar,
                                                     ir.Constant(I32, lane)))
    return lower


# --- lane-wise in one shape ----------------------------------------------------------------

def _in_lanes(shape, lower):
    """A lowering on vectors (e.g. numeric.int_add) applied to v128 operands as `shape`."""
    def lowered(fx, *operands):
        return as_v128(fx, lower(fx, *[lanes(fx, x, shape) for x in operands]))
    return lowered


def _intrinsic(name):
    """A lowering calling an intrinsic overloaded on the operands' vector type."""
    def lower(fx, *operands):
        return _call(fx, name, *operands)
    return lower


def int_neg(fx, a):
    return fx.builder.sub(ir.Constant(a.type, None), a)


def int_abs(fx, a):
    # The i1 false: abs(INT_MIN) is INT_MIN, not poison.
    return _call(fx, "llvm.abs", a, ir.Constant(I1, 0))


def _avgr_u(fx, a, b):
    """(a + b + 1) / 2 without overflow, computed in lanes twice as wide."""
    wide = ir.VectorType(ir.IntType(2 * a.type.element.width), a.type.count)
    builder = fx.builder
    total = builder.add(builder.add(builder.zext(a, wide), builder.zext(b, wide)),
                        ir.Constant(wide, 1))
    return builder.trunc(builder.lshr(total, ir.Constant(wide, 1)), a.type)


def _q15mulr_sat_s(fx, a, b):
    """(a * b + 2^14) >> 15, saturated: only -32768 * -32768 overflows."""
    wide = ir.VectorType(I32, 8)
    builder = fx.builder
    product = builder.mul(builder.sext(a, wide), builder.sext(b, wide))
    rounded = builder.ashr(builder.add(product, ir.Constant(wide, 0x4000)),
                           ir.Constant(wide, 15))
    return builder.trunc(_call(fx, "llvm.smin", rounded, ir.Constant(wide, 0x7FFF)), a.type)


def _shift(shape, opname):
    typ = SHAPES[shape]

    def lower(fx, a, count):
        builder = fx.builder
        count = builder.and_(count, ir.Constant(I32, typ.element.width - 1))
        if typ.element.width < 32:
            count = builder.trunc(count, typ.element)
        elif typ.element.width > 32:
            count = builder.zext(count, typ.element)
        shifted = getattr(builder, opname)(lanes(fx, a, shape), broadcast(fx, count, typ))
        return as_v128(fx, shifted)
    return lower


def _int_compare(shape, op, signed):
    def lower(fx, a, b):
        compare = fx.builder.icmp_signed if signed else fx.builder.icmp_unsigned
        return _all_ones_where(fx, compare(op, lanes(fx, a, shape), lanes(fx, b, shape)))
    return lower


def _float_compare(shape, op):
    def lower(fx, a, b):
        # ne is true for NaN operands (unordered); the others are false (ordered).
        compare = fx.builder.fcmp_unordered if op == "!=" else fx.builder.fcmp_ordered
        return _all_ones_where(fx, compare(op, lanes(fx, a, shape), lanes(fx, b, shape)))
    return lower


def _all_ones_where(fx, condition):
    """A v128 whose lanes are all ones where the i1 lanes of `condition` are true."""
    count = condition.type.count
    return as_v128(fx, fx.builder.sext(condition, ir.VectorType(ir.IntType(128 // count),
                                                                count)))


def _pmin(fx, a, b):
    return fx.builder.select(fx.builder.fcmp_ordered("<", b, a), b, a)


def _pmax(fx, a, b):
    return fx.builder.select(fx.builder.fcmp_ordered("<", a, b), b, a)


# --- bitwise and reductions ----------------------------------------------------------------

def v128_not(fx, a):
    return fx.builder.not_(a)


def v128_andnot(fx, a, b):
    return fx.builder.and_(a, fx.builder.not_(b))


def v128_bitselect(fx, a, b, mask):
    builder = fx.builder
    return builder.or_(builder.and_(a, mask), builder.and_(b, builder.not_(mask)))


def v128_any_true(fx, a):
    is_nonzero = fx.builder.icmp_unsigned("!=", fx.builder.bitcast(a, ir.IntType(128)),
                                          ir.Constant(ir.IntType(128), 0))
    return fx.builder.zext(is_nonzero, I32)


def _all_true(shape):
    def lower(fx, a):
        a = lanes(fx, a, shape)
        nonzero = fx.builder.icmp_unsigned("!=", a, ir.Constant(a.type, None))
        every = fx.call_intrinsic(
            f"llvm.vector.reduce.and.{numeric.type_suffix(nonzero.type)}", I1, [nonzero])
        return fx.builder.zext(every, I32)
    return lower


def _bitmask(shape):
    def lower(fx, a):
        a = lanes(fx, a, shape)
        negative = fx.builder.icmp_signed("<", a, ir.Constant(a.type, None))
        bits = fx.builder.bitcast(negative, ir.IntType(a.type.count))
        return fx.builder.zext(bits, I32)
    return lower


# --- widening and narrowing ----------------------------------------------------------------

def _narrow(shape, signed):
    """Narrow two vectors of `shape` lanes into one of lanes half as wide, saturating."""
    def lower(fx, a, b):
        typ = SHAPES[shape]
        width = typ.element.width // 2
        both = fx.builder.shuffle_vector(lanes(fx, a, shape), lanes(fx, b, shape),
                                         _mask(range(2 * typ.count)))
        low, high = (-(1 << width - 1), (1 << width - 1) - 1) if signed else (0, (1 << width) - 1)
        clamped = _call(fx, "llvm.smax", _call(fx, "llvm.smin", both,
                                               ir.Constant(both.type, high)),
                        ir.Constant(both.type, low))
        narrow = ir.VectorType(ir.IntType(width), 2 * typ.count)
        return as_v128(fx, fx.builder.trunc(clamped, narrow))
    return lower


def _extend_half(shape, high, signed):
    """The low or high half of `shape`'s lanes, extended to the wider shape."""
    def lower(fx, a):
        half = _half(fx, lanes(fx, a, shape), high)
        return as_v128(fx, _extend(fx, half, signed, SHAPES[WIDER[shape]]))
    return lower


def _extmul(shape, high, signed):
    """The low or high halves of two `shape` vectors, extended and multiplied."""
    def lower(fx, a, b):
        wide = SHAPES[WIDER[shape]]
        x = _extend(fx, _half(fx, lanes(fx, a, shape), high), signed, wide)
        y = _extend(fx, _half(fx, lanes(fx, b, shape), high), signed, wide)
        return as_v128(fx, fx.builder.mul(x, y))
    return lower


def _extadd_pairwise(shape, signed):
    """Adjacent pairs of `shape` lanes, extended and added."""
    def lower(fx, a):
        a = lanes(fx, a, shape)
        wide = SHAPES[WIDER[shape]]
        even = _extend(fx, _every_other(fx, a, 0), signed, wide)
        odd = _extend(fx, _every_other(fx, a, 1), signed, wide)
        return as_v128(fx, fx.builder.add(even, odd))
    return lower


def _signed_products(fx, a, b, shape, wide):
    """The products of `shape`'s lanes of a and b, sign-extended to `wide` lanes first."""
    typ = ir.VectorType(wide, SHAPES[shape].count)
    return fx.builder.mul(fx.builder.sext(lanes(fx, a, shape), typ),
                          fx.builder.sext(lanes(fx, b, shape), typ))


def _pairwise_add(fx, vector):
    """Lanes 0 + 1, 2 + 3, ... of `vector`."""
    return fx.builder.add(_every_other(fx, vector, 0), _every_other(fx, vector, 1))


def i32x4_dot_i16x8_s(fx, a, b):
    return as_v128(fx, _pairwise_add(fx, _signed_products(fx, a, b, "i16x8", I32)))


def i16x8_relaxed_dot_i8x16_i7x16_s(fx, a, b):
    """Both operands' bytes signed (pywamr's choice); the products are exact in 16 bits and
    only -128 * -128 twice overflows their sum, which wraps."""
    return as_v128(fx, _pairwise_add(fx, _signed_products(fx, a, b, "i8x16", I16)))


def i32x4_relaxed_dot_i8x16_i7x16_add_s(fx, a, b, c):
    """Both operands' bytes signed; four products summed (exact in 32 bits), plus c."""
    products = _signed_products(fx, a, b, "i8x16", I32)
    sums = _pairwise_add(fx, _pairwise_add(fx, products))
    return as_v128(fx, fx.builder.add(sums, lanes(fx, c, "i32x4")))


def _relaxed_madd(negate):
    """a * b + c (or -(a * b) + c) rounded once: pywamr fuses relaxed_madd everywhere. x86
    without FMA calls libm's fma/fmaf per lane. Constrained when an operand is a constant, as
    numeric.py's arithmetic is: LLVM would fold fma(x, 1, -0) into x, unquieted."""
    def lower(fx, a, b, c):
        constrained = any(map(numeric.may_fold_to_operand, (a, b, c)))
        if negate:
            a = numeric.float_neg(fx, a)
        suffix = numeric.type_suffix(a.type)
        if constrained:
            return fx.call_intrinsic(f"llvm.experimental.constrained.fma.{suffix}", a.type,
                                     [a, b, c] + fx.menv.constrained_args(),
                                     arg_types=[a.type] * 3 + [numeric.MD, numeric.MD])
        return fx.call_intrinsic(f"llvm.fma.{suffix}", a.type, [a, b, c])
    return lower


# --- conversions ---------------------------------------------------------------------------

# The largest float of each lane type that converts to i32 (signed) or u32 (unsigned).
_LARGEST_CONVERTIBLE = {(F32, True): 2147483520.0, (F32, False): 4294967040.0,
                        (F64, True): 2147483647.0, (F64, False): 4294967295.0}


def _trunc_sat(from_shape, signed, zero_high):
    """Float lanes to i32 lanes, saturating (NaN -> 0). f64x2 has two lanes: with
    `zero_high`, the two upper i32 lanes are zero."""
    def lower(fx, a):
        a = lanes(fx, a, from_shape)
        to_type = ir.VectorType(I32, a.type.count)
        if fx.menv.triple.startswith("aarch64"):
            name = (f"llvm.fpto{'s' if signed else 'u'}i.sat.{numeric.type_suffix(to_type)}."
                    f"{numeric.type_suffix(a.type)}")
            result = fx.call_intrinsic(name, to_type, [a])
        else:
            result = _clamped_trunc(fx, a, to_type, signed)
        if zero_high:
            result = _with_zero_high_half(fx, result)
        return as_v128(fx, result)
    return lower


def _clamped_trunc(fx, a, to_type, signed):
    """Saturating conversion for x86: NaN lanes to 0, clamp to the convertible range, convert.
    For f32 lanes the top of that range is below 2^31 (2^32), so lanes at or above it become
    the integer maximum afterwards."""
    b = fx.builder
    element = a.type.element
    lowest = -2147483648.0 if signed else 0.0
    largest = _LARGEST_CONVERTIBLE[(element, signed)]
    x = b.select(b.fcmp_ordered("ord", a, a), a, ir.Constant(a.type, 0.0))
    x = b.select(b.fcmp_ordered("<", x, ir.Constant(a.type, lowest)),
                 ir.Constant(a.type, lowest), x)
    x = b.select(b.fcmp_ordered(">", x, ir.Constant(a.type, largest)),
                 ir.Constant(a.type, largest), x)
    result = b.fptosi(x, to_type) if signed else b.fptoui(x, to_type)
    if element == F32:
        limit = 2147483648.0 if signed else 4294967296.0
        maximum = ir.Constant(to_type, 0x7FFFFFFF if signed else -1)
        result = b.select(b.fcmp_ordered(">=", a, ir.Constant(a.type, limit)), maximum, result)
    return result


def _convert(to_shape, signed, low_half):
    """i32 lanes to float lanes; to f64x2, from the low two i32 lanes."""
    def lower(fx, a):
        a = lanes(fx, a, "i32x4")
        if low_half:
            a = _half(fx, a, high=False)
        typ = SHAPES[to_shape]
        return as_v128(fx, fx.builder.sitofp(a, typ) if signed else fx.builder.uitofp(a, typ))
    return lower


def f32x4_demote_f64x2_zero(fx, a):
    # Constrained: LLVM folds demote(promote(x)) to x otherwise, and a signalling NaN x must
    # come out quiet (numeric.f32_demote_f64 does the same when it sees the promote).
    narrow_type = ir.VectorType(F32, 2)
    narrow = fx.call_intrinsic("llvm.experimental.constrained.fptrunc.v2f32.v2f64", narrow_type,
                               [lanes(fx, a, "f64x2")] + fx.menv.constrained_args(),
                               arg_types=[SHAPES["f64x2"], numeric.MD, numeric.MD])
    return as_v128(fx, _with_zero_high_half(fx, narrow))


def f64x2_promote_low_f32x4(fx, a):
    low = _half(fx, lanes(fx, a, "f32x4"), high=False)
    return as_v128(fx, fx.builder.fpext(low, SHAPES["f64x2"]))


# --- the tables the translator dispatches on -------------------------------------------------

def _widening(op, make):
    """`{wide}.{op}_{low|high}_{narrow}_{s|u}` -> make(narrow shape, high half?, signed?) for
    every pair of shapes in WIDER."""
    return {f"{wide}.{op}_{half}_{narrow}_{sign}": make(narrow, half == "high", sign == "s")
            for narrow, wide in WIDER.items() for half in ("low", "high") for sign in ("s", "u")}


# name -> lower(fx, operand)
UNARY = {
    "v128.not": v128_not, "v128.any_true": v128_any_true,
    "f32x4.demote_f64x2_zero": f32x4_demote_f64x2_zero,
    "f64x2.promote_low_f32x4": f64x2_promote_low_f32x4,
    "i8x16.popcnt": _in_lanes("i8x16", numeric.int_popcnt),
    "i16x8.extadd_pairwise_i8x16_s": _extadd_pairwise("i8x16", True),
    "i16x8.extadd_pairwise_i8x16_u": _extadd_pairwise("i8x16", False),
    "i32x4.extadd_pairwise_i16x8_s": _extadd_pairwise("i16x8", True),
    "i32x4.extadd_pairwise_i16x8_u": _extadd_pairwise("i16x8", False),
    "i32x4.trunc_sat_f32x4_s": _trunc_sat("f32x4", True, False),
    "i32x4.trunc_sat_f32x4_u": _trunc_sat("f32x4", False, False),
    "i32x4.trunc_sat_f64x2_s_zero": _trunc_sat("f64x2", True, True),
    "i32x4.trunc_sat_f64x2_u_zero": _trunc_sat("f64x2", False, True),
    "f32x4.convert_i32x4_s": _convert("f32x4", True, False),
    "f32x4.convert_i32x4_u": _convert("f32x4", False, False),
    "f64x2.convert_low_i32x4_s": _convert("f64x2", True, True),
    "f64x2.convert_low_i32x4_u": _convert("f64x2", False, True),
}
for _shape in SHAPES:
    UNARY[f"{_shape}.splat"] = _splat(_shape)
for _shape in INT_SHAPES:
    UNARY.update({
        f"{_shape}.abs": _in_lanes(_shape, int_abs), f"{_shape}.neg": _in_lanes(_shape, int_neg),
        f"{_shape}.all_true": _all_true(_shape), f"{_shape}.bitmask": _bitmask(_shape),
    })
UNARY.update(_widening("extend", _extend_half))
for _shape in FLOAT_SHAPES:
    UNARY.update({
        f"{_shape}.abs": _in_lanes(_shape, numeric.float_abs),
        f"{_shape}.neg": _in_lanes(_shape, numeric.float_neg),
        f"{_shape}.sqrt": _in_lanes(_shape, numeric.float_sqrt),
        f"{_shape}.ceil": _in_lanes(_shape, numeric.float_ceil),
        f"{_shape}.floor": _in_lanes(_shape, numeric.float_floor),
        f"{_shape}.trunc": _in_lanes(_shape, numeric.float_trunc),
        f"{_shape}.nearest": _in_lanes(_shape, numeric.float_nearest),
    })

# name -> lower(fx, a, b); the shifts' b is the i32 count
BINARY = {
    "v128.and": numeric.int_and, "v128.or": numeric.int_or, "v128.xor": numeric.int_xor,
    "v128.andnot": v128_andnot, "i8x16.swizzle": swizzle,
    "i8x16.narrow_i16x8_s": _narrow("i16x8", True),
    "i8x16.narrow_i16x8_u": _narrow("i16x8", False),
    "i16x8.narrow_i32x4_s": _narrow("i32x4", True),
    "i16x8.narrow_i32x4_u": _narrow("i32x4", False),
    "i16x8.q15mulr_sat_s": _in_lanes("i16x8", _q15mulr_sat_s),
    "i32x4.dot_i16x8_s": i32x4_dot_i16x8_s,
}
for _shape in INT_SHAPES:
    BINARY.update({
        f"{_shape}.add": _in_lanes(_shape, numeric.int_add),
        f"{_shape}.sub": _in_lanes(_shape, numeric.int_sub),
        f"{_shape}.shl": _shift(_shape, "shl"), f"{_shape}.shr_s": _shift(_shape, "ashr"),
        f"{_shape}.shr_u": _shift(_shape, "lshr"),
        f"{_shape}.eq": _int_compare(_shape, "==", False),
        f"{_shape}.ne": _int_compare(_shape, "!=", False),
    })
    for _op, _cmp in (("lt", "<"), ("gt", ">"), ("le", "<="), ("ge", ">=")):
        BINARY[f"{_shape}.{_op}_s"] = _int_compare(_shape, _cmp, True)
        if _shape != "i64x2":
            BINARY[f"{_shape}.{_op}_u"] = _int_compare(_shape, _cmp, False)
for _shape in ("i16x8", "i32x4", "i64x2"):
    BINARY[f"{_shape}.mul"] = _in_lanes(_shape, numeric.int_mul)
for _shape in ("i8x16", "i16x8"):
    BINARY.update({
        f"{_shape}.add_sat_s": _in_lanes(_shape, _intrinsic("llvm.sadd.sat")),
        f"{_shape}.add_sat_u": _in_lanes(_shape, _intrinsic("llvm.uadd.sat")),
        f"{_shape}.sub_sat_s": _in_lanes(_shape, _intrinsic("llvm.ssub.sat")),
        f"{_shape}.sub_sat_u": _in_lanes(_shape, _intrinsic("llvm.usub.sat")),
        f"{_shape}.avgr_u": _in_lanes(_shape, _avgr_u),
    })
for _shape in ("i8x16", "i16x8", "i32x4"):
    BINARY.update({
        f"{_shape}.min_s": _in_lanes(_shape, _intrinsic("llvm.smin")),
        f"{_shape}.min_u": _in_lanes(_shape, _intrinsic("llvm.umin")),
        f"{_shape}.max_s": _in_lanes(_shape, _intrinsic("llvm.smax")),
        f"{_shape}.max_u": _in_lanes(_shape, _intrinsic("llvm.umax")),
    })
BINARY.update(_widening("extmul", _extmul))
for _shape in FLOAT_SHAPES:
    BINARY.update({
        f"{_shape}.add": _in_lanes(_shape, numeric.float_add),
        f"{_shape}.sub": _in_lanes(_shape, numeric.float_sub),
        f"{_shape}.mul": _in_lanes(_shape, numeric.float_mul),
        f"{_shape}.div": _in_lanes(_shape, numeric.float_div),
        f"{_shape}.min": _in_lanes(_shape, numeric.float_min),
        f"{_shape}.max": _in_lanes(_shape, numeric.float_max),
        f"{_shape}.pmin": _in_lanes(_shape, _pmin), f"{_shape}.pmax": _in_lanes(_shape, _pmax),
    })
    for _op, _cmp in (("eq", "=="), ("ne", "!="), ("lt", "<"), ("gt", ">"), ("le", "<="),
                      ("ge", ">=")):
        BINARY[f"{_shape}.{_op}"] = _float_compare(_shape, _cmp)

# name -> lower(fx, a, b, c)
TERNARY = {
    "v128.bitselect": v128_bitselect,
    "i32x4.relaxed_dot_i8x16_i7x16_add_s": i32x4_relaxed_dot_i8x16_i7x16_add_s,
}
BINARY["i16x8.relaxed_dot_i8x16_i7x16_s"] = i16x8_relaxed_dot_i8x16_i7x16_s
for _shape in FLOAT_SHAPES:
    TERNARY[f"{_shape}.relaxed_madd"] = _in_lanes(_shape, _relaxed_madd(negate=False))
    TERNARY[f"{_shape}.relaxed_nmadd"] = _in_lanes(_shape, _relaxed_madd(negate=True))

# The other relaxed instructions are a 2.0 instruction (runtime/relaxed_simd.py).
for _relaxed, _same in SAME_AS.items():
    for _table in (UNARY, BINARY, TERNARY):
        if _same in _table:
            _table[_relaxed] = _table[_same]

# name -> lower(fx, a, lane) / lower(fx, a, scalar, lane)
EXTRACT_LANE = {
    "i8x16.extract_lane_s": _extract_lane("i8x16", True),
    "i8x16.extract_lane_u": _extract_lane("i8x16", False),
    "i16x8.extract_lane_s": _extract_lane("i16x8", True),
    "i16x8.extract_lane_u": _extract_lane("i16x8", False),
    "i32x4.extract_lane": _extract_lane("i32x4"), "i64x2.extract_lane": _extract_lane("i64x2"),
    "f32x4.extract_lane": _extract_lane("f32x4"), "f64x2.extract_lane": _extract_lane("f64x2"),
}
REPLACE_LANE = {f"{shape}.replace_lane": _replace_lane(shape) for shape in SHAPES}

del _shape, _op, _cmp, _relaxed, _same, _table
