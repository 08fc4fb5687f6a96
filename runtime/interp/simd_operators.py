"""How each SIMD instruction becomes Python, with the conventions of `operators.py`.

  VECTOR_NUMERIC   opcode -> (kind, template) for the instructions without immediates, as
                   operators.NUMERIC: `{0}`, `{1}`, `{2}` are the operands; a shift's template
                   is a function of the constant operands, so a constant count (the usual
                   case) becomes two or three int operations in line
  LANE_OPERATORS   opcode -> function of the immediate (a lane index, the shuffle's indices)
                   -> template, for extract/replace lane and shuffle
  VECTOR_LOADS, VECTOR_STORES   opcode -> template with `{a}` the effective address and `{v}`
                   the value stored, as operators.LOADS/STORES
  LANE_LOADS, LANE_STORES       opcode -> function of the lane index -> such a template,
                   `{v}` being the vector a lane is loaded into or stored from

A v128 is a 128-bit unsigned int (see simd.py): bitwise instructions, splats, lane moves,
additions and constant shifts are int expressions in line; comparisons, min/max and
saturating arithmetic call the SWAR helpers of simd.py; the rest views the int as lanes and
joins the results back (`join_f32(map(operator.add, lanes_f32({0}), lanes_f32({1})))`).
Relaxed SIMD instructions give the result docs/compiler.md's table chooses, the same as
compiled code's: most are their 2.0 counterpart's template.
Every template is pure and cannot trap, except the memory accesses.
"""

from ..opcodes import NAMES
from ..relaxed_simd import SAME_AS
from .simd import M128, shl_mask, shr_mask, sign_fill

_INTEGER_SHAPES = [("i8x16", 8), ("i16x8", 16), ("i32x4", 32), ("i64x2", 64)]
_FLOAT_SHAPES = [("f32x4", 32), ("f64x2", 64)]


def _lane(operand, width, index):
    """The expression of lane `index` of `operand` ('{0}' or '{v}'), unsigned."""
    shifted = f"({operand} >> {width * index})" if index else operand
    if width * (index + 1) == 128:
        return shifted
    return f"({shifted} & {(1 << width) - 1:#x})"


def _without_lane(operand, width, index):
    """`operand` with lane `index` cleared."""
    return f"({operand} & {M128 ^ (((1 << width) - 1) << (width * index)):#x})"


def _placed(value, width, index):
    """A lane value (already in range) moved to lane `index`."""
    return f"({value} << {width * index})" if index else value


def _compare(lanes, width, test):
    """All ones in each lane where `test` (an `operator` function) holds, else zeros."""
    return (f"join_s{width}(map(operator.neg, map(operator.{test}, {lanes}({{0}}), "
            f"{lanes}({{1}}))))")


def _shift(shape, width, kind):
    """A lane shift: by a constant count, masked shifts in line; else the helper of simd.py."""
    helper = f"{shape}_{kind}({{0}}, {{1}})"

    def template(_, count):
        if count is None:
            return helper
        k = count & (width - 1)
        if not k:
            return "{0}"
        if kind == "shl":
            return f"({{0}} << {k}) & {shl_mask(width, k):#x}"
        logical = f"({{0}} >> {k}) & {shr_mask(width, k):#x}"
        if kind == "shr_u":
            return logical
        negative = f"({{0}} >> {width - 1}) & SPLAT{width}"        # 1 in each negative lane
        return f"({logical}) | (({negative}) * {sign_fill(width, k):#x})"
    return template


def _integer_ops(shape, width):
    s, u = f"lanes_s{width}", f"lanes_u{width}"
    low, top = f"LOW{width}", f"TOP{width}"
    ops = {
        # SWAR: add the low bits of every lane at once (no carry leaves a lane), then set
        # each lane's top bit to the sum of the operands' top bits and the carry into it.
        "add": f"(({{0}} & {low}) + ({{1}} & {low})) ^ (({{0}} ^ {{1}}) & {top})",
        # With every top bit of a set, no lane borrows from its neighbour.
        "sub": f"(({{0}} | {top}) - ({{1}} & {low})) ^ (({{0}} ^ ~{{1}}) & {top})",
        "neg": f"({top} - ({{0}} & {low})) ^ (~{{0}} & {top})",
        "abs": f"{shape}_abs({{0}})",
        "shl": _shift(shape, width, "shl"),
        "shr_s": _shift(shape, width, "shr_s"),
        "shr_u": _shift(shape, width, "shr_u"),
        "all_true": f"all({u}({{0}}))",
        "bitmask": f"bitmask({s}({{0}}))",
        "eq": f"{shape}_eq({{0}}, {{1}})",
        "ne": f"{shape}_eq({{0}}, {{1}}) ^ M128",
    }
    # Every order from `less than`: a > b is b < a, a >= b is not a < b.
    for sign in ("s", "u") if width < 64 else ("s",):
        less = f"{shape}_lt_{sign}"
        ops.update({
            f"lt_{sign}": f"{less}({{0}}, {{1}})",
            f"gt_{sign}": f"{less}({{1}}, {{0}})",
            f"le_{sign}": f"{less}({{1}}, {{0}}) ^ M128",
            f"ge_{sign}": f"{less}({{0}}, {{1}}) ^ M128",
        })
    if width < 64:
        for name in ("min_s", "min_u", "max_s", "max_u"):
            ops[name] = f"{shape}_{name}({{0}}, {{1}})"
    if width > 8:
        ops["mul"] = f"{shape}_mul({{0}}, {{1}})"
    if width < 32:
        for name in ("avgr_u", "add_sat_s", "add_sat_u", "sub_sat_s", "sub_sat_u"):
            ops[name] = f"{shape}_{name}({{0}}, {{1}})"
    return {f"{shape}.{name}": ("cond" if name == "all_true" else "expr", template)
            for name, template in ops.items()}


def _widening_ops(wide, width, narrow):
    """Instructions whose lanes are twice as wide as their operands' (`narrow` shape)."""
    half = width // 2
    ops = {}
    for part, bits in [("low", "({} & 0xFFFFFFFFFFFFFFFF)"), ("high", "({} >> 64)")]:
        for sign in "su":
            def widened(operand):
                return f"widen_{sign}{half}{bits.format(operand)}"
            ops[f"extend_{part}_{narrow}_{sign}"] = widened("{0}")
            # The low 2 * half bits of a product of sign-extended lanes are the product's.
            ops[f"extmul_{part}_{narrow}_{sign}"] = (
                f"{wide}_mul({widened('{0}')}, {widened('{1}')})")
    if width < 64:
        for sign in "su":
            ops[f"extadd_pairwise_{narrow}_{sign}"] = (
                f"join_s{width}(pairwise_sums(lanes_{sign}{half}({{0}})))")
    return {f"{wide}.{name}": ("expr", template) for name, template in ops.items()}


_WIDENED_U8 = {"({} & 0xFFFFFFFFFFFFFFFF)": 0, "({} >> 64)": 64}


def widened_twice(operand, high):
    """i32x4.extend_{low,high}_i16x8_u (`high`) of an operand whose text is the template of
    i16x8.extend_{low,high}_i8x16_u: the template of both at once, on the inner operand
    (`{0}`) instead, and that operand's text; or None for any other operand. (A text
    starting `(widen_u8(` can only be that template: other templates do not start with it,
    and every operand is a name or in parentheses.)"""
    for bits, shift in _WIDENED_U8.items():
        before, after = bits.split("{}")
        prefix, suffix = "(widen_u8" + before, after + ")"
        if operand.startswith(prefix) and operand.endswith(suffix):
            start = shift + 32 * high
            return ("widen_u8_u32({0})" if not start else f"widen_u8_u32({{0}} >> {start})",
                    operand[len(prefix):len(operand) - len(suffix)])
    return None


# The extending loads (v128.load8x8_s, ...) by the shape of the vector they make, with the
# lanes they unpack: `join_s32(ld_s16x4(M, a))` is the tuple `ld_s16x4(M, a)` as a v128.
EXTENDING_LOADS = {shape: {f"join_{sign}{width}(ld_{sign}{width // 2}x{128 // width}(": sign
                           for sign in "su"}
                   for shape, width in (("i16x8", 16), ("i32x4", 32), ("i64x2", 64))}


def lanes_product(shape, signs):
    """`shape`.mul of two extending loads (clang's `(int)a[i] * b[i]` for narrower a and b),
    `{0}` and `{1}` being the tuples of their lanes, with `signs` their signedness: each
    product of two half-width values is exact in a lane (signed, unless both are unsigned),
    so the lanes are multiplied as they are, without joining them into v128s and taking
    those apart again."""
    width = int(shape[1:3])
    sign = "u" if signs == "uu" else "s"
    return f"join_{sign}{width}(map(operator.mul, {{0}}, {{1}}))"


def _narrowing_ops(narrow, width, wide):
    """Saturating narrowing: the lanes of both operands, read as signed, into half as wide."""
    both = f"lanes_s{2 * width}({{0}}) + lanes_s{2 * width}({{1}})"
    return {
        f"{narrow}.narrow_{wide}_s": ("expr", f"join_s{width}(map(saturate_s{width}, {both}))"),
        f"{narrow}.narrow_{wide}_u": ("expr", f"{narrow}_narrow_{wide}_u({{0}}, {{1}})"),
    }


def _float_ops(shape, width):
    f, j = f"lanes_f{width}", f"join_f{width}"
    ops = {
        # abs and neg only touch the sign bits, NaN payloads included.
        "abs": f"{{0}} & LOW{width}",
        "neg": f"{{0}} ^ TOP{width}",
        "sqrt": f"{j}(map(fsqrt, {f}({{0}})))",
        "ceil": f"{j}(map(fceil, {f}({{0}})))",
        "floor": f"{j}(map(ffloor, {f}({{0}})))",
        "trunc": f"{j}(map(ftrunc, {f}({{0}})))",
        "nearest": f"{j}(map(fnearest, {f}({{0}})))",
        "add": f"{j}(map(operator.add, {f}({{0}}), {f}({{1}})))",
        "sub": f"{j}(map(operator.sub, {f}({{0}}), {f}({{1}})))",
        "mul": f"{j}(map(operator.mul, {f}({{0}}), {f}({{1}})))",
        "div": f"{j}(map(fdiv, {f}({{0}}), {f}({{1}})))",
        "min": f"{j}(map(fmin, {f}({{0}}), {f}({{1}})))",
        "max": f"{j}(map(fmax, {f}({{0}}), {f}({{1}})))",
        "pmin": f"{shape}_pmin({{0}}, {{1}})",
        "pmax": f"{shape}_pmax({{0}}, {{1}})",
    }
    for test in ("eq", "ne", "lt", "gt", "le", "ge"):
        ops[test] = _compare(f, width, test)
    return {f"{shape}.{name}": ("expr", template) for name, template in ops.items()}


def _other_ops():
    return {name: ("cond" if name == "v128.any_true" else "expr", template)
            for name, template in {
        "v128.not": f"{{0}} ^ {M128:#x}",
        "v128.and": "{0} & {1}",
        "v128.andnot": "{0} & ~{1}",
        "v128.or": "{0} | {1}",
        "v128.xor": "{0} ^ {1}",
        "v128.bitselect": "({0} & {2}) | ({1} & ~{2})",
        "v128.any_true": "{0} != 0",
        "i8x16.splat": "({0} & 0xFF) * SPLAT8",
        "i16x8.splat": "({0} & 0xFFFF) * SPLAT16",
        "i32x4.splat": "{0} * SPLAT32",
        "i64x2.splat": "{0} * SPLAT64",
        "f32x4.splat": "f32_to_bits({0}) * SPLAT32",
        "f64x2.splat": "f64_to_bits({0}) * SPLAT64",
        "i8x16.swizzle": "i8x16_swizzle({0}, {1})",
        "i8x16.popcnt": "i8x16_popcnt({0})",
        "i16x8.q15mulr_sat_s": "i16x8_q15mulr_sat_s({0}, {1})",
        "i32x4.dot_i16x8_s": "i32x4_dot_i16x8_s({0}, {1})",
        "i32x4.trunc_sat_f32x4_s": "join_u32(map(i32_trunc_sat_s, lanes_f32({0})))",
        "i32x4.trunc_sat_f32x4_u": "join_u32(map(i32_trunc_sat_u, lanes_f32({0})))",
        "i32x4.trunc_sat_f64x2_s_zero": "join_u32([*map(i32_trunc_sat_s, lanes_f64({0})), 0, 0])",
        "i32x4.trunc_sat_f64x2_u_zero": "join_u32([*map(i32_trunc_sat_u, lanes_f64({0})), 0, 0])",
        # An i32 is exact in a double, so array('f') rounds it to f32 once.
        "f32x4.convert_i32x4_s": "join_f32(lanes_s32({0}))",
        "f32x4.convert_i32x4_u": "join_f32(lanes_u32({0}))",
        "f64x2.convert_low_i32x4_s": "join_f64(lanes_s32({0})[:2])",
        "f64x2.convert_low_i32x4_u": "join_f64(lanes_u32({0})[:2])",
        "f32x4.demote_f64x2_zero": "join_f32((*lanes_f64({0}), 0.0, 0.0))",
        "f64x2.promote_low_f32x4": "join_f64(lanes_f32({0})[:2])",
    }.items()}


def _relaxed_ops(by_name):
    """Relaxed SIMD, with pywamr's choices (runtime/relaxed_simd.py): the template of the 2.0
    instruction where the choice is one; fused multiply-add; dot products of signed bytes."""
    ops = {relaxed: by_name[same] for relaxed, same in SAME_AS.items()}
    for shape, width in _FLOAT_SHAPES:
        f, j, fma = f"lanes_f{width}", f"join_f{width}", f"fma_f{width}"
        ops[f"{shape}.relaxed_madd"] = (
            "expr", f"{j}(map({fma}, {f}({{0}}), {f}({{1}}), {f}({{2}})))")
        ops[f"{shape}.relaxed_nmadd"] = (
            "expr", f"{j}(map({fma}, map(operator.neg, {f}({{0}})), {f}({{1}}), {f}({{2}})))")
    ops["i16x8.relaxed_dot_i8x16_i7x16_s"] = (
        "expr", "i16x8_relaxed_dot_i8x16_i7x16_s({0}, {1})")
    ops["i32x4.relaxed_dot_i8x16_i7x16_add_s"] = (
        "expr", "i32x4_relaxed_dot_i8x16_i7x16_add_s({0}, {1}, {2})")
    return ops


def _build_numeric():
    by_name = {}
    for shape, width in _INTEGER_SHAPES:
        by_name.update(_integer_ops(shape, width))
    for shape, width in _FLOAT_SHAPES:
        by_name.update(_float_ops(shape, width))
    by_name.update(_widening_ops("i16x8", 16, "i8x16"))
    by_name.update(_widening_ops("i32x4", 32, "i16x8"))
    by_name.update(_widening_ops("i64x2", 64, "i32x4"))
    by_name.update(_narrowing_ops("i8x16", 8, "i16x8"))
    by_name.update(_narrowing_ops("i16x8", 16, "i32x4"))
    by_name.update(_other_ops())
    by_name.update(_relaxed_ops(by_name))
    return {NAMES[name]: entry for name, entry in by_name.items()}


VECTOR_NUMERIC = _build_numeric()


def _signed_lane(width):
    def template(index):
        sign = 1 << (width - 1)
        return f"(({_lane('{0}', width, index)} ^ {sign:#x}) - {sign:#x}) & 0xFFFFFFFF"
    return template


def _unsigned_lane(width, convert=""):
    def template(index):
        lane = _lane("{0}", width, index)
        return f"{convert}({lane})" if convert else lane
    return template


def _replace_lane(width, value):
    """replace_lane: `value` is the expression of the new lane's bits, from `{1}`."""
    def template(index):
        return f"{_without_lane('{0}', width, index)} | {_placed(value, width, index)}"
    return template


def _shuffle(indices):
    """i8x16.shuffle: runs of consecutive bytes of one operand (a byte window across both is
    two runs) are a mask and a shift each, and copies of one run (a broadcast) one
    multiplication; a shuffle needing more than `_SHUFFLE_TERMS` such terms picks bytes
    (simd.py), which costs 0.8 us, about as much as ten terms."""
    runs = []                                 # [operand, first source byte, first lane, length]
    for lane, index in enumerate(indices):
        operand, byte = divmod(index, 16)
        last = runs[-1] if runs else None
        if last and last[0] == operand and last[1] + last[3] == byte:
            last[3] += 1
        else:
            runs.append([operand, byte, lane, 1])
    copies = {}                               # (operand, byte, length) -> first lanes
    for operand, byte, lane, length in runs:
        copies.setdefault((operand, byte, length), []).append(lane)
    if len(copies) > _SHUFFLE_TERMS:
        return f"i8x16_shuffle({{0}}, {{1}}, {tuple(indices)})"
    terms = []
    for (operand, byte, length), lanes in copies.items():
        value, ones = f"{{{operand}}}", (1 << 8 * length) - 1
        if len(lanes) > 1:                                  # to lane 0, then spread
            if byte:
                value = f"({value} >> {8 * byte})"
            if byte + length < 16:
                value = f"({value} & {ones:#x})"
            terms.append(f"{value} * {sum(1 << 8 * lane for lane in lanes):#x}")
            continue
        down, mask = byte - lanes[0], f"{ones << 8 * lanes[0]:#x}"
        if down > 0:
            value = f"({value} >> {8 * down})"
        elif down < 0:
            value = f"({value} << {-8 * down})"
        if lanes[0] or byte + length < 16:                 # other bytes shifted in
            value = f"({value} & {mask})"
        terms.append(value)
    return " | ".join(terms)


_SHUFFLE_TERMS = 6
_shuffle.operands = 2        # both are popped, even when every byte comes from one


LANE_OPERATORS = {NAMES[name]: template for name, template in {
    "i8x16.shuffle": _shuffle,
    "i8x16.extract_lane_s": _signed_lane(8),
    "i8x16.extract_lane_u": _unsigned_lane(8),
    "i16x8.extract_lane_s": _signed_lane(16),
    "i16x8.extract_lane_u": _unsigned_lane(16),
    "i32x4.extract_lane": _unsigned_lane(32),
    "i64x2.extract_lane": _unsigned_lane(64),
    "f32x4.extract_lane": _unsigned_lane(32, "f32_from_bits"),
    "f64x2.extract_lane": _unsigned_lane(64, "f64_from_bits"),
    "i8x16.replace_lane": _replace_lane(8, "({1} & 0xFF)"),
    "i16x8.replace_lane": _replace_lane(16, "({1} & 0xFFFF)"),
    "i32x4.replace_lane": _replace_lane(32, "{1}"),
    "i64x2.replace_lane": _replace_lane(64, "{1}"),
    "f32x4.replace_lane": _replace_lane(32, "f32_to_bits({1})"),
    "f64x2.replace_lane": _replace_lane(64, "f64_to_bits({1})"),
}.items()}


VECTOR_LOADS = {NAMES[name]: template for name, template in {
    "v128.load": "int.from_bytes(ld_v128(M, {a})[0], 'little')",
    "v128.load8x8_s": "join_s16(ld_s8x8(M, {a}))",
    "v128.load8x8_u": "join_u16(ld_u8x8(M, {a}))",
    "v128.load16x4_s": "join_s32(ld_s16x4(M, {a}))",
    "v128.load16x4_u": "join_u32(ld_u16x4(M, {a}))",
    "v128.load32x2_s": "join_s64(ld_s32x2(M, {a}))",
    "v128.load32x2_u": "join_u64(ld_u32x2(M, {a}))",
    "v128.load8_splat": "M[{a}] * SPLAT8",
    "v128.load16_splat": "ld_u16(M, {a})[0] * SPLAT16",
    "v128.load32_splat": "ld_u32(M, {a})[0] * SPLAT32",
    "v128.load64_splat": "ld_u64(M, {a})[0] * SPLAT64",
    "v128.load32_zero": "ld_u32(M, {a})[0]",
    "v128.load64_zero": "ld_u64(M, {a})[0]",
}.items()}

VECTOR_STORES = {NAMES["v128.store"]: "st_v128(M, {a}, {v}.to_bytes(16, 'little'))"}


def _load_lane(width, load):
    def template(index):
        return f"{_without_lane('{v}', width, index)} | {_placed(load, width, index)}"
    return template


def _store_lane(width, store):
    def template(index):
        return store.format(lane=_lane("{v}", width, index))
    return template


LANE_LOADS = {NAMES[name]: template for name, template in {
    "v128.load8_lane": _load_lane(8, "M[{a}]"),
    "v128.load16_lane": _load_lane(16, "ld_u16(M, {a})[0]"),
    "v128.load32_lane": _load_lane(32, "ld_u32(M, {a})[0]"),
    "v128.load64_lane": _load_lane(64, "ld_u64(M, {a})[0]"),
}.items()}

LANE_STORES = {NAMES[name]: template for name, template in {
    "v128.store8_lane": _store_lane(8, "M[{{a}}] = {lane}"),
    "v128.store16_lane": _store_lane(16, "st_u16(M, {{a}}, {lane})"),
    "v128.store32_lane": _store_lane(32, "st_u32(M, {{a}}, {lane})"),
    "v128.store64_lane": _store_lane(64, "st_u64(M, {{a}}, {lane})"),
}.items()}
