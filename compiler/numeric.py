"""Lowering of the numeric instructions (spec 4.3): integer and float arithmetic, comparisons,
conversions.

Each lowering is a function of the FunctionEnv and the operand values that returns the result
value; `UNARY` and `BINARY` map opcode names to them. Most also work lane-wise on LLVM
vectors, and simd.py uses them so. The rules that are easy to get wrong:

- Division traps on a zero divisor and div_s on INT_MIN / -1; rem_s of INT_MIN by -1 is 0.
- Shift counts are taken modulo the width; rotates are funnel shifts.
- NaN bits: neg/abs/copysign are LLVM's sign-bit operations, which keep payloads exactly.
  Float arithmetic must quiet a signalling NaN, so it must not be folded to a plain copy or
  negation of an operand (x*1, x/-1, -0-x, x+-0 ...): when an operand is a constant that
  allows such a fold, the operation is a constrained intrinsic with 'may trap' exceptions,
  which LLVM does not fold that way. min/max quiet a NaN result explicitly for the same reason.
- Trapping float-to-int conversion checks NaN, then the exact range, before converting.
"""

from pywamr.runtime import aot_abi as abi

from . import ir_text as ir
from .signatures import F32, F64, I1, I32, I64

MD = ir.MetaDataType()


def type_suffix(typ):
    """The type's name in overloaded intrinsic names, e.g. llvm.ctlz.i32, or llvm.ctpop.v16i8
    for a vector."""
    if isinstance(typ, ir.VectorType):
        return f"v{typ.count}{type_suffix(typ.element)}"
    if isinstance(typ, ir.IntType):
        return f"i{typ.width}"
    return "f32" if typ == F32 else "f64"


def _const(typ, value):
    return ir.Constant(typ, value)


def _bool_to_i32(fx, condition):
    return fx.builder.zext(condition, I32)


# --- integer -----------------------------------------------------------------------------

def int_eqz(fx, a):
    return _bool_to_i32(fx, fx.builder.icmp_unsigned("==", a, _const(a.type, 0)))


def _int_compare(op, signed):
    def lower(fx, a, b):
        compare = fx.builder.icmp_signed if signed else fx.builder.icmp_unsigned
        return _bool_to_i32(fx, compare(op, a, b))
    return lower


def int_clz(fx, a):
    return fx.call_intrinsic(f"llvm.ctlz.{type_suffix(a.type)}", a.type, [a, _const(I1, 0)])


def int_ctz(fx, a):
    return fx.call_intrinsic(f"llvm.cttz.{type_suffix(a.type)}", a.type, [a, _const(I1, 0)])


def int_popcnt(fx, a):
    return fx.call_intrinsic(f"llvm.ctpop.{type_suffix(a.type)}", a.type, [a])


def int_add(fx, a, b):
    return fx.builder.add(a, b)


def int_sub(fx, a, b):
    return fx.builder.sub(a, b)


def int_mul(fx, a, b):
    return fx.builder.mul(a, b)


def _is_constant(value, *candidates):
    """Is `value` a literal constant (one of `candidates`, if given)?"""
    if not isinstance(value, ir.Constant) or isinstance(value, ir.FormattedConstant):
        return False
    return not candidates or value.constant in candidates


def _trap_if_zero(fx, divisor):
    if not _is_constant(divisor) or divisor.constant == 0:
        is_zero = fx.builder.icmp_unsigned("==", divisor, _const(divisor.type, 0))
        fx.trap_if(is_zero, abi.TRAP_INTEGER_DIVIDE_BY_ZERO)


def int_div_s(fx, a, b):
    _trap_if_zero(fx, b)
    if not _is_constant(b) or b.constant == -1:
        b_is_minus_one = fx.builder.icmp_signed("==", b, _const(b.type, -1))
        a_is_min = fx.builder.icmp_signed("==", a, _const(a.type, -(1 << (a.type.width - 1))))
        fx.trap_if(fx.builder.and_(a_is_min, b_is_minus_one), abi.TRAP_INTEGER_OVERFLOW)
    return fx.builder.sdiv(a, b)


def int_div_u(fx, a, b):
    _trap_if_zero(fx, b)
    return fx.builder.udiv(a, b)


def int_rem_s(fx, a, b):
    _trap_if_zero(fx, b)
    # x rem -1 is 0 for every x, but LLVM's srem INT_MIN, -1 is undefined: divide by 1 instead.
    b_is_minus_one = fx.builder.icmp_signed("==", b, _const(b.type, -1))
    return fx.builder.srem(a, fx.builder.select(b_is_minus_one, _const(b.type, 1), b))


def int_rem_u(fx, a, b):
    _trap_if_zero(fx, b)
    return fx.builder.urem(a, b)


def int_and(fx, a, b):
    return fx.builder.and_(a, b)


def int_or(fx, a, b):
    return fx.builder.or_(a, b)


def int_xor(fx, a, b):
    return fx.builder.xor(a, b)


def _shift_count(fx, b):
    return fx.builder.and_(b, _const(b.type, b.type.width - 1))


def int_shl(fx, a, b):
    return fx.builder.shl(a, _shift_count(fx, b))


def int_shr_s(fx, a, b):
    return fx.builder.ashr(a, _shift_count(fx, b))


def int_shr_u(fx, a, b):
    return fx.builder.lshr(a, _shift_count(fx, b))


def int_rotl(fx, a, b):
    return fx.call_intrinsic(f"llvm.fshl.{type_suffix(a.type)}", a.type, [a, a, b])


def int_rotr(fx, a, b):
    return fx.call_intrinsic(f"llvm.fshr.{type_suffix(a.type)}", a.type, [a, a, b])


# --- float -------------------------------------------------------------------------------

def _float_intrinsic(name):
    def lower(fx, a):
        return fx.call_intrinsic(f"llvm.{name}.{type_suffix(a.type)}", a.type, [a])
    return lower


float_abs = _float_intrinsic("fabs")
float_ceil = _float_intrinsic("ceil")
float_floor = _float_intrinsic("floor")
float_trunc = _float_intrinsic("trunc")
float_nearest = _float_intrinsic("nearbyint")   # the default rounding mode is to-nearest-even
float_sqrt = _float_intrinsic("sqrt")


def float_neg(fx, a):
    return fx.builder.fneg(a)


def may_fold_to_operand(value):
    """Can an operation with this operand fold into a copy or negation of the other? A scalar
    constant 0, 1 or -1 can (0.0 == -0.0 here: both signed zeros are covered); any vector
    constant is taken to have such a lane (seen through simd.py's bitcast from v128)."""
    if isinstance(value.type, ir.VectorType):
        if getattr(value, "opname", None) == "bitcast":
            value = value.operands[0]
        return isinstance(value, ir.Constant)
    return _is_constant(value, 0.0, 1.0, -1.0)


def _float_arithmetic(opname):
    def lower(fx, a, b):
        if may_fold_to_operand(a) or may_fold_to_operand(b):
            name = f"llvm.experimental.constrained.{opname}.{type_suffix(a.type)}"
            return fx.call_intrinsic(name, a.type, [a, b] + fx.menv.constrained_args(),
                                     arg_types=[a.type, a.type, MD, MD])
        return getattr(fx.builder, opname)(a, b)
    return lower


float_add = _float_arithmetic("fadd")
float_sub = _float_arithmetic("fsub")
float_mul = _float_arithmetic("fmul")
float_div = _float_arithmetic("fdiv")


def _float_min_max(name):
    def lower(fx, a, b):
        # llvm.minimum/maximum have the spec's NaN and signed-zero rules but may return a
        # signalling NaN operand as it is; a NaN result must be quiet, and a + b is one.
        either_nan = fx.builder.fcmp_unordered("uno", a, b)
        result = fx.call_intrinsic(f"llvm.{name}.{type_suffix(a.type)}", a.type, [a, b])
        return fx.builder.select(either_nan, fx.builder.fadd(a, b), result)
    return lower


float_min = _float_min_max("minimum")
float_max = _float_min_max("maximum")


def float_copysign(fx, a, b):
    return fx.call_intrinsic(f"llvm.copysign.{type_suffix(a.type)}", a.type, [a, b])


def _float_compare(op):
    def lower(fx, a, b):
        if op == "!=":
            return _bool_to_i32(fx, fx.builder.fcmp_unordered(op, a, b))
        return _bool_to_i32(fx, fx.builder.fcmp_ordered(op, a, b))
    return lower


# --- conversions -------------------------------------------------------------------------

# Trapping float -> int conversion is defined when lower < x < upper (both exclusive): the
# first float below the integer minimum (or -1 for unsigned) and 2^width.
_TRUNC_BOUNDS = {
    (I32, True, F32): (-2147483904.0, 2147483648.0),
    (I32, True, F64): (-2147483649.0, 2147483648.0),
    (I32, False, F32): (-1.0, 4294967296.0),
    (I32, False, F64): (-1.0, 4294967296.0),
    (I64, True, F32): (-9223373136366403584.0, 9223372036854775808.0),
    (I64, True, F64): (-9223372036854777856.0, 9223372036854775808.0),
    (I64, False, F32): (-1.0, 18446744073709551616.0),
    (I64, False, F64): (-1.0, 18446744073709551616.0),
}


def _trunc(to_type, signed):
    def lower(fx, a):
        b = fx.builder
        fx.trap_if(b.fcmp_unordered("uno", a, a), abi.TRAP_INVALID_CONVERSION)
        lower_bound, upper_bound = _TRUNC_BOUNDS[(to_type, signed, a.type)]
        out_of_range = b.or_(b.fcmp_ordered("<=", a, _const(a.type, lower_bound)),
                             b.fcmp_ordered(">=", a, _const(a.type, upper_bound)))
        fx.trap_if(out_of_range, abi.TRAP_INTEGER_OVERFLOW)
        return b.fptosi(a, to_type) if signed else b.fptoui(a, to_type)
    return lower


def _trunc_sat(to_type, signed):
    def lower(fx, a):
        name = (f"llvm.fpto{'s' if signed else 'u'}i.sat.{type_suffix(to_type)}."
                f"{type_suffix(a.type)}")
        return fx.call_intrinsic(name, to_type, [a])
    return lower


def _convert(to_type, signed):
    def lower(fx, a):
        if signed:
            return fx.builder.sitofp(a, to_type)
        if a.type == I32:
            # The same value: an i32 read as unsigned is a non-negative i64. LLVM's fast
            # instruction selector (-O0) has no uitofp on x86_64 without AVX-512, and would
            # send the block up to it through the slow one; -O1 and up fold this back
            # into `uitofp i32`.
            return fx.builder.sitofp(fx.builder.zext(a, I64), to_type)
        return fx.builder.uitofp(a, to_type)
    return lower


def i32_wrap_i64(fx, a):
    return fx.builder.trunc(a, I32)


def i64_extend_i32_s(fx, a):
    return fx.builder.sext(a, I64)


def i64_extend_i32_u(fx, a):
    return fx.builder.zext(a, I64)


def f32_demote_f64(fx, a):
    if getattr(a, "opname", None) == "fpext":
        # demote(promote(x)) must quiet a signalling x, so it must not fold to x.
        return fx.call_intrinsic("llvm.experimental.constrained.fptrunc.f32.f64", F32,
                                 [a] + fx.menv.constrained_args(), arg_types=[F64, MD, MD])
    return fx.builder.fptrunc(a, F32)


def f64_promote_f32(fx, a):
    return fx.builder.fpext(a, F64)


def _reinterpret(to_type):
    def lower(fx, a):
        return fx.builder.bitcast(a, to_type)
    return lower


def _extend_low(bits):
    narrow = ir.IntType(bits)

    def lower(fx, a):
        return fx.builder.sext(fx.builder.trunc(a, narrow), a.type)
    return lower


UNARY = {
    "i32.eqz": int_eqz, "i64.eqz": int_eqz,
    "i32.clz": int_clz, "i32.ctz": int_ctz, "i32.popcnt": int_popcnt,
    "i64.clz": int_clz, "i64.ctz": int_ctz, "i64.popcnt": int_popcnt,
    "i32.extend8_s": _extend_low(8), "i32.extend16_s": _extend_low(16),
    "i64.extend8_s": _extend_low(8), "i64.extend16_s": _extend_low(16),
    "i64.extend32_s": _extend_low(32),
    "i32.wrap_i64": i32_wrap_i64,
    "i64.extend_i32_s": i64_extend_i32_s, "i64.extend_i32_u": i64_extend_i32_u,
    "f32.demote_f64": f32_demote_f64, "f64.promote_f32": f64_promote_f32,
    "i32.reinterpret_f32": _reinterpret(I32), "i64.reinterpret_f64": _reinterpret(I64),
    "f32.reinterpret_i32": _reinterpret(F32), "f64.reinterpret_i64": _reinterpret(F64),
}
for _t in ("f32", "f64"):
    UNARY.update({
        f"{_t}.abs": float_abs, f"{_t}.neg": float_neg, f"{_t}.ceil": float_ceil,
        f"{_t}.floor": float_floor, f"{_t}.trunc": float_trunc,
        f"{_t}.nearest": float_nearest, f"{_t}.sqrt": float_sqrt,
    })
for _int, _int_type in (("i32", I32), ("i64", I64)):
    for _float, _float_type in (("f32", F32), ("f64", F64)):
        for _sign in ("s", "u"):
            UNARY[f"{_int}.trunc_{_float}_{_sign}"] = _trunc(_int_type, _sign == "s")
            UNARY[f"{_int}.trunc_sat_{_float}_{_sign}"] = _trunc_sat(_int_type, _sign == "s")
            UNARY[f"{_float}.convert_{_int}_{_sign}"] = _convert(_float_type, _sign == "s")

BINARY = {}
for _t in ("i32", "i64"):
    BINARY.update({
        f"{_t}.eq": _int_compare("==", False), f"{_t}.ne": _int_compare("!=", False),
        f"{_t}.lt_s": _int_compare("<", True), f"{_t}.lt_u": _int_compare("<", False),
        f"{_t}.gt_s": _int_compare(">", True), f"{_t}.gt_u": _int_compare(">", False),
        f"{_t}.le_s": _int_compare("<=", True), f"{_t}.le_u": _int_compare("<=", False),
        f"{_t}.ge_s": _int_compare(">=", True), f"{_t}.ge_u": _int_compare(">=", False),
        f"{_t}.add": int_add, f"{_t}.sub": int_sub, f"{_t}.mul": int_mul,
        f"{_t}.div_s": int_div_s, f"{_t}.div_u": int_div_u,
        f"{_t}.rem_s": int_rem_s, f"{_t}.rem_u": int_rem_u,
        f"{_t}.and": int_and, f"{_t}.or": int_or, f"{_t}.xor": int_xor,
        f"{_t}.shl": int_shl, f"{_t}.shr_s": int_shr_s, f"{_t}.shr_u": int_shr_u,
        f"{_t}.rotl": int_rotl, f"{_t}.rotr": int_rotr,
    })
for _t in ("f32", "f64"):
    BINARY.update({
        f"{_t}.eq": _float_compare("=="), f"{_t}.ne": _float_compare("!="),
        f"{_t}.lt": _float_compare("<"), f"{_t}.gt": _float_compare(">"),
        f"{_t}.le": _float_compare("<="), f"{_t}.ge": _float_compare(">="),
        f"{_t}.add": float_add, f"{_t}.sub": float_sub, f"{_t}.mul": float_mul,
        f"{_t}.div": float_div, f"{_t}.min": float_min, f"{_t}.max": float_max,
        f"{_t}.copysign": float_copysign,
    })
del _t, _int, _int_type, _float, _float_type, _sign
