"""How each numeric instruction becomes Python: opcode -> (kind, expression template).

`{0}`, `{1}` in a template stand for the operands (first pushed first) as Python expressions.
Where an operand that is a constant allows a cheaper expression, the entry holds a function
of the constant operands (an int, or None when not constant) that returns the template.
The kind tells the translator how to place the expression:

  'expr'  pure and cannot trap: kept as an unevaluated operand and folded into its consumer
  'cond'  like 'expr', but a Python bool (comparisons); the consumer decides whether it needs
          the int 0/1 or can test it directly (`if`, `br_if`, `select`)
  'trap'  may trap: evaluated into a stack variable at its place in program order
  'f32'   an f32 result that must be rounded from double to single precision: evaluated into
          a stack variable through a one-element array('f') (see `codegen.py`)

Integers are unsigned. Wrapping uses `% 2**N` where the result is usually in range already
(CPython returns a smaller left operand as it is, where `&` always builds a new int), and
`& (2**N - 1)` where it usually is not. Names used in templates are the helpers of
`numeric.py`, bound into every instance namespace.
"""

from ..opcodes import NAMES

_S32 = "0x80000000"
_S64 = "0x8000000000000000"
_M32 = "0xFFFFFFFF"
_M64 = "0xFFFFFFFFFFFFFFFF"


def _add(width):
    """`+`, with a constant of 2**(N-1) or more (a negative one) turned into a subtraction,
    so that `x + 0xFFFFFFFF` (x - 1) does not go past 2**N and back."""
    modulus = 1 << width

    def template(a, b):
        if b is not None and b >> (width - 1):
            return f"({{0}} - {modulus - b}) % {modulus}"
        if a is not None and a >> (width - 1):
            return f"({{1}} - {modulus - a}) % {modulus}"
        return f"({{0}} + {{1}}) % {modulus}"
    return template


def _sub(width):
    modulus = 1 << width

    def template(a, b):
        if b is not None and b >> (width - 1):
            return f"({{0}} + {modulus - b}) % {modulus}"
        return f"({{0}} - {{1}}) % {modulus}"
    return template


def _rotate(width, left):
    """Rotation by a constant is two shifts and an or; by a variable, a helper call."""
    mask = (1 << width) - 1
    helper = f"i{width}_{'rotl' if left else 'rotr'}"

    def template(a, b):
        if b is None:
            return f"{helper}({{0}}, {{1}})"
        k = (b if left else -b) % width
        if not k:
            return "{0}"
        return f"(({{0}} << {k}) & {mask:#x}) | ({{0}} >> {width - k})"
    return template


_FLIPPED = {"<": ">", "<=": ">=", ">": "<", ">=": "<="}


def _signed_compare(width, op):
    """Signed order on unsigned representations. Against a constant c it is a range test,
    e.g. x <s c (c >= 0) is `x < c or x >= 2**(N-1)` (x negative); between two variables,
    operands with equal sign bits compare the same either way, and the others reversed."""
    sign = 1 << (width - 1)

    def template(a, b):
        if a is not None and b is None:             # c op x  is  x flipped-op c
            return _signed_compare(width, _FLIPPED[op])(b, a).replace("{0}", "{1}")
        if b is None:
            return (f"({{0}} {op} {{1}}) if ({{0}} ^ {{1}}) < {sign} "
                    f"else ({{0}} {_FLIPPED[op]} {{1}})")
        if b == 0 and op in ("<", ">="):            # the sign bit alone (x >= 0 always)
            return f"{{0}} >= {sign}" if op == "<" else f"{{0}} < {sign}"
        if op in ("<", "<="):
            return (f"{{0}} {op} {b} or {{0}} >= {sign}" if b < sign
                    else f"{sign} <= {{0}} {op} {b}")
        return (f"{b} {_FLIPPED[op]} {{0}} < {sign}" if b < sign
                else f"{{0}} {op} {b} or {{0}} < {sign}")
    return template


def _equal(op):
    """Integer `==` and `!=`; against 0, a test of the operand's truth (`not x`, or x as it
    is, which the consumer of a condition tests or makes 0/1): one operation instead of two,
    and none in an `if`."""
    def template(a, b):
        if b == 0 or a == 0:
            operand = "{1}" if a == 0 else "{0}"
            return f"not {operand}" if op == "==" else operand
        return f"{{0}} {op} {{1}}"
    return template


def _signed(x, width):
    """The signed value of an unsigned operand, as an expression."""
    bit = _S32 if width == 32 else _S64
    return f"(({x} ^ {bit}) - {bit})"


def _integer_ops(t, width):
    m = _M32 if width == 32 else _M64
    modulus = 1 << width
    signed = _signed("{0}", width)
    return {
        f"{t}.eqz": ("cond", "{0} == 0"),
        f"{t}.eq": ("cond", _equal("==")),
        f"{t}.ne": ("cond", _equal("!=")),
        f"{t}.lt_s": ("cond", _signed_compare(width, "<")),
        f"{t}.lt_u": ("cond", "{0} < {1}"),
        f"{t}.gt_s": ("cond", _signed_compare(width, ">")),
        f"{t}.gt_u": ("cond", "{0} > {1}"),
        f"{t}.le_s": ("cond", _signed_compare(width, "<=")),
        f"{t}.le_u": ("cond", "{0} <= {1}"),
        f"{t}.ge_s": ("cond", _signed_compare(width, ">=")),
        f"{t}.ge_u": ("cond", "{0} >= {1}"),
        f"{t}.clz": ("expr", f"{width} - ({{0}}).bit_length()"),
        f"{t}.ctz": ("expr", f"{t}_ctz({{0}})"),
        f"{t}.popcnt": ("expr", "({0}).bit_count()"),
        f"{t}.add": ("expr", _add(width)),
        f"{t}.sub": ("expr", _sub(width)),
        f"{t}.mul": ("expr", f"({{0}} * {{1}}) & {m}"),
        f"{t}.div_s": ("trap", f"{t}_div_s({{0}}, {{1}})"),
        f"{t}.div_u": ("trap", "{0} // {1}"),          # ZeroDivisionError is the trap
        f"{t}.rem_s": ("trap", f"{t}_rem_s({{0}}, {{1}})"),
        f"{t}.rem_u": ("trap", "{0} % {1}"),
        f"{t}.and": ("expr", "{0} & {1}"),
        f"{t}.or": ("expr", "{0} | {1}"),
        f"{t}.xor": ("expr", "{0} ^ {1}"),
        f"{t}.shl": ("expr", f"({{0}} << ({{1}} & {width - 1})) % {modulus}"),
        f"{t}.shr_s": ("expr", f"({signed} >> ({{1}} & {width - 1})) & {m}"),
        f"{t}.shr_u": ("expr", f"{{0}} >> ({{1}} & {width - 1})"),
        f"{t}.rotl": ("expr", _rotate(width, True)),
        f"{t}.rotr": ("expr", _rotate(width, False)),
        f"{t}.extend8_s": ("expr", f"((({{0}} & 0xFF) ^ 0x80) - 0x80) & {m}"),
        f"{t}.extend16_s": ("expr", f"((({{0}} & 0xFFFF) ^ 0x8000) - 0x8000) & {m}"),
    }


def _divide(a, b):
    """Float division; Python raises ZeroDivisionError where IEEE gives inf or NaN."""
    if b:
        return "{0} / {1}"
    return "{0} / {1} if {1} else fdiv_by_zero({0}, {1})"


def _float_ops(t):
    rounded = "f32" if t == "f32" else "expr"
    return {
        f"{t}.eq": ("cond", "{0} == {1}"),
        f"{t}.ne": ("cond", "{0} != {1}"),
        f"{t}.lt": ("cond", "{0} < {1}"),
        f"{t}.gt": ("cond", "{0} > {1}"),
        f"{t}.le": ("cond", "{0} <= {1}"),
        f"{t}.ge": ("cond", "{0} >= {1}"),
        # abs, neg and copysign only touch the sign bit, NaN payloads included.
        f"{t}.abs": ("expr", "abs({0})"),
        f"{t}.neg": ("expr", "-{0}"),
        f"{t}.copysign": ("expr", "copysign({0}, {1})"),
        f"{t}.ceil": ("expr", "fceil({0})"),
        f"{t}.floor": ("expr", "ffloor({0})"),
        f"{t}.trunc": ("expr", "ftrunc({0})"),
        f"{t}.nearest": ("expr", "fnearest({0})"),
        f"{t}.min": ("expr", "fmin({0}, {1})"),
        f"{t}.max": ("expr", "fmax({0}, {1})"),
        # Single-precision results computed in double precision and rounded once are exact
        # for + - * / and sqrt (53 >= 2 * 24 + 2).
        f"{t}.sqrt": (rounded, "fsqrt({0})"),
        f"{t}.add": (rounded, "{0} + {1}"),
        f"{t}.sub": (rounded, "{0} - {1}"),
        f"{t}.mul": (rounded, "{0} * {1}"),
        f"{t}.div": (rounded, _divide),
    }


def _conversions():
    s32, s64 = _signed("{0}", 32), _signed("{0}", 64)
    return {
        "i32.wrap_i64": ("expr", "{0} % 4294967296"),
        "i64.extend_i32_s": ("expr", f"{s32} & {_M64}"),
        "i64.extend_i32_u": ("expr", "{0}"),
        "i32.trunc_f32_s": ("trap", "i32_trunc_s({0})"),
        "i32.trunc_f32_u": ("trap", "i32_trunc_u({0})"),
        "i32.trunc_f64_s": ("trap", "i32_trunc_s({0})"),
        "i32.trunc_f64_u": ("trap", "i32_trunc_u({0})"),
        "i64.trunc_f32_s": ("trap", "i64_trunc_s({0})"),
        "i64.trunc_f32_u": ("trap", "i64_trunc_u({0})"),
        "i64.trunc_f64_s": ("trap", "i64_trunc_s({0})"),
        "i64.trunc_f64_u": ("trap", "i64_trunc_u({0})"),
        "i32.trunc_sat_f32_s": ("expr", "i32_trunc_sat_s({0})"),
        "i32.trunc_sat_f32_u": ("expr", "i32_trunc_sat_u({0})"),
        "i32.trunc_sat_f64_s": ("expr", "i32_trunc_sat_s({0})"),
        "i32.trunc_sat_f64_u": ("expr", "i32_trunc_sat_u({0})"),
        "i64.trunc_sat_f32_s": ("expr", "i64_trunc_sat_s({0})"),
        "i64.trunc_sat_f32_u": ("expr", "i64_trunc_sat_u({0})"),
        "i64.trunc_sat_f64_s": ("expr", "i64_trunc_sat_s({0})"),
        "i64.trunc_sat_f64_u": ("expr", "i64_trunc_sat_u({0})"),
        # An i32 is exact in a double, so rounding it to f32 rounds once.
        "f32.convert_i32_s": ("f32", f"float({s32})"),
        "f32.convert_i32_u": ("f32", "float({0})"),
        "f32.convert_i64_s": ("expr", f"f32_from_int({s64})"),
        "f32.convert_i64_u": ("expr", "f32_from_int({0})"),
        "f32.demote_f64": ("f32", "{0}"),
        "f64.convert_i32_s": ("expr", f"float({s32})"),
        "f64.convert_i32_u": ("expr", "float({0})"),
        "f64.convert_i64_s": ("expr", f"float({s64})"),     # int -> float rounds correctly
        "f64.convert_i64_u": ("expr", "float({0})"),
        "f64.promote_f32": ("expr", "{0} * 1.0"),          # exact; makes a NaN quiet
        "i32.reinterpret_f32": ("expr", "f32_to_bits({0})"),
        "i64.reinterpret_f64": ("expr", "f64_to_bits({0})"),
        "f32.reinterpret_i32": ("expr", "f32_from_bits({0})"),
        "f64.reinterpret_i64": ("expr", "f64_from_bits({0})"),
        "i64.extend32_s": ("expr", f"((({{0}} & {_M32}) ^ {_S32}) - {_S32}) & {_M64}"),
    }


def _build():
    by_name = {}
    by_name.update(_integer_ops("i32", 32))
    by_name.update(_integer_ops("i64", 64))
    by_name.update(_float_ops("f32"))
    by_name.update(_float_ops("f64"))
    by_name.update(_conversions())
    return {NAMES[name]: entry for name, entry in by_name.items()}


NUMERIC = _build()

# Instructions whose result modulo 2**N depends only on their operands modulo 2**N, and whose
# template ends with that wrap (`% 2**N` or `& 2**N - 1`). An operand one of them made reaches
# another without its own wrap: `((a + b) % 2**32 + c) % 2**32` is `(a + b + c) % 2**32`,
# one int operation less (about 6 ns) per address or hash computation.
MODULAR = {NAMES[f"{t}.{name}"] for t in ("i32", "i64")
           for name in ("add", "sub", "mul", "shl", "extend8_s", "extend16_s")}
MODULAR |= {NAMES["i64.extend32_s"], NAMES["i32.wrap_i64"]}


# Memory accesses: `{a}` is the effective address, `{v}` the value stored. An address past the
# end makes struct raise struct.error and bytearray indexing raise IndexError; the call
# boundary turns both into the "out of bounds memory access" trap. Addresses are never
# negative (an i32 plus an unsigned offset), so negative indexing cannot happen.
LOADS = {NAMES[name]: template for name, template in {
    "i32.load": "ld_u32(M, {a})[0]",
    "i64.load": "ld_u64(M, {a})[0]",
    "f32.load": "load_f32(M, {a})",
    "f64.load": "ld_f64(M, {a})[0]",
    "i32.load8_s": "S8_32[M[{a}]]",
    "i32.load8_u": "M[{a}]",
    "i32.load16_s": f"ld_s16(M, {{a}})[0] & {_M32}",
    "i32.load16_u": "ld_u16(M, {a})[0]",
    "i64.load8_s": "S8_64[M[{a}]]",
    "i64.load8_u": "M[{a}]",
    "i64.load16_s": f"ld_s16(M, {{a}})[0] & {_M64}",
    "i64.load16_u": "ld_u16(M, {a})[0]",
    "i64.load32_s": f"ld_s32(M, {{a}})[0] & {_M64}",
    "i64.load32_u": "ld_u32(M, {a})[0]",
}.items()}

STORES = {NAMES[name]: template for name, template in {
    "i32.store": "st_u32(M, {a}, {v})",
    "i64.store": "st_u64(M, {a}, {v})",
    "f32.store": "store_f32(M, {a}, {v})",
    "f64.store": "st_f64(M, {a}, {v})",
    "i32.store8": "M[{a}] = {v} & 0xFF",
    "i32.store16": "st_u16(M, {a}, {v} & 0xFFFF)",
    "i64.store8": "M[{a}] = {v} & 0xFF",
    "i64.store16": "st_u16(M, {a}, {v} & 0xFFFF)",
    "i64.store32": f"st_u32(M, {{a}}, {{v}} & {_M32})",
}.items()}


# The same accesses through the typed views of layout.MEMORY_VIEWS, when the offset is a
# multiple of the size (clang's always is): `{k}` is the address modulo the size (the view),
# `{i}` the index in it, which IndexError rejects past the end, the same trap. opcode ->
# (size, template). A u32 load is 10-15 ns faster than struct's unpack_from and a tuple
# index; stores and f64 cost the same either way, and go through the views for one form
# without a test of the alignment.
ALIGNED = {NAMES[name]: (size, template) for name, size, template in [
    ("i32.load", 4, "MI[{k}][{i}]"),
    ("i64.load", 8, "MQ[{k}][{i}]"),
    ("f64.load", 8, "MD[{k}][{i}]"),
    ("i32.load16_u", 2, "MH[{k}][{i}]"),
    ("i64.load16_u", 2, "MH[{k}][{i}]"),
    ("i64.load32_u", 4, "MI[{k}][{i}]"),
    ("i32.store", 4, "MI[{k}][{i}] = {v}"),
    ("i64.store", 8, "MQ[{k}][{i}] = {v}"),
    ("f64.store", 8, "MD[{k}][{i}] = {v}"),
    ("i32.store16", 2, "MH[{k}][{i}] = {v} & 0xFFFF"),
    ("i64.store16", 2, "MH[{k}][{i}] = {v} & 0xFFFF"),
    ("i64.store32", 4, f"MI[{{k}}][{{i}}] = {{v}} & {_M32}"),
]}


def _helpers():
    """The names the templates above (and `codegen.py`) use, for every instance namespace."""
    import struct

    from ..errors import Trap, TrapCode
    from . import bulk, numeric, simd

    names = {name: getattr(numeric, name) for name in numeric.__all__}
    names.update({name: getattr(bulk, name) for name in bulk.__all__})
    names.update({name: getattr(simd, name) for name in simd.__all__})
    names.update(simd.LANE_HELPERS)
    for name, fmt in [("u8", "B"), ("s8", "b"), ("u16", "H"), ("s16", "h"), ("u32", "I"),
                      ("s32", "i"), ("u64", "Q"), ("f64", "d")]:
        packer = struct.Struct("<" + fmt)
        names["ld_" + name] = packer.unpack_from
        names["st_" + name] = packer.pack_into
    # A signed byte load is a table lookup of the unsigned byte (30 ns less than struct's).
    names["S8_32"] = tuple(b - 256 & 0xFFFFFFFF if b >= 128 else b for b in range(256))
    names["S8_64"] = tuple(b - 256 & 0xFFFFFFFFFFFFFFFF if b >= 128 else b for b in range(256))
    names["Trap"] = Trap
    names["TrapCode"] = TrapCode
    return names


HELPERS = _helpers()
