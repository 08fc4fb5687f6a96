"""The WebAssembly 2.0 instruction set, and the parts of 3.0 pywamr has: opcode number ->
(name, immediate kind).

Single-byte opcodes keep their byte value. Prefixed opcodes are 0xFC00 + n (saturating
truncation, bulk memory, table ops) and 0xFD00 + n (SIMD), n being the LEB128 sub-opcode.

Immediate kinds and the `Instr.imm` value the decoder stores for each:
  None           no immediate; imm is None
  'blocktype'    None (empty), a value type string, or a type index (int >= 0)
  'label'        relative branch depth (int)
  'br_table'     (tuple of depths, default depth)
  'func'         function index
  'call_indirect' (type index, table index)
  'local' | 'global' | 'table' | 'elem' | 'data'   an index
  'memory'       memory index (a zero byte in 2.0)
  'memarg'       (align exponent, offset, memory index): 3.0's memory index follows the
                 flags when their bit 6 is set, else it is 0
  'i32' | 'i64'  the constant as a signed Python int
  'f32' | 'f64'  the constant's IEEE bit pattern as an unsigned int (NaN payloads stay exact)
  'select_t'     tuple of value types (typed select)
  'heaptype'     the reference type ref.null makes: 'funcref', 'externref' or
                 '(ref null N)' (types.py)
  'type'         a type index
  'memory.init'  (data index, memory index)
  'memory.copy'  (destination memory index, source memory index)
  'table.init'   (elem index, table index)
  'table.copy'   (destination table, source table)
  'v128'         the 16 bytes as an unsigned little-endian int
  'shuffle'      tuple of 16 lane indices
  'lane'         lane index
  'memarg_lane'  (align exponent, offset, lane index, memory index)
  'tag'          a tag index (throw, and legacy catch)
  'try_table'    (blocktype, catches): catches a tuple of (kind, tag index or None, label),
                 kind being CATCH, CATCH_REF, CATCH_ALL or CATCH_ALL_REF, in binary order

Exception handling (3.0, and the legacy proposal still in use). `try_table` opens a block
closed by `end`, like `block`. Legacy `try` opens a block that `catch x` and `catch_all`
divide into handlers, each an Instr of its own in the flat list (as `else` divides an `if`),
and that `end` closes, or `delegate l` (imm: the label), which then takes the place of the
`end`: the list has no `end` for a try closed by delegate.
"""

OPCODES = {}
NAMES = {}


def _define(code, name, imm=None):
    OPCODES[code] = (name, imm)
    NAMES[name] = code


# Control (spec 5.4.1)
for _code, _name, _imm in [
    (0x00, "unreachable", None), (0x01, "nop", None),
    (0x02, "block", "blocktype"), (0x03, "loop", "blocktype"), (0x04, "if", "blocktype"),
    (0x05, "else", None), (0x0B, "end", None),
    (0x0C, "br", "label"), (0x0D, "br_if", "label"), (0x0E, "br_table", "br_table"),
    (0x0F, "return", None), (0x10, "call", "func"), (0x11, "call_indirect", "call_indirect"),
    # Tail calls (WebAssembly 3.0)
    (0x12, "return_call", "func"), (0x13, "return_call_indirect", "call_indirect"),
    # Typed function references (WebAssembly 3.0)
    (0x14, "call_ref", "type"), (0x15, "return_call_ref", "type"),
    (0xD4, "ref.as_non_null", None), (0xD5, "br_on_null", "label"),
    (0xD6, "br_on_non_null", "label"),
    # Exception handling (WebAssembly 3.0) and legacy exception handling
    (0x08, "throw", "tag"), (0x0A, "throw_ref", None), (0x1F, "try_table", "try_table"),
    (0x06, "try", "blocktype"), (0x07, "catch", "tag"), (0x19, "catch_all", None),
    (0x18, "delegate", "label"), (0x09, "rethrow", "label"),
    # Reference, parametric, variable, table (5.4.2-5.4.5)
    (0xD0, "ref.null", "heaptype"), (0xD1, "ref.is_null", None), (0xD2, "ref.func", "func"),
    (0x1A, "drop", None), (0x1B, "select", None), (0x1C, "select_t", "select_t"),
    (0x20, "local.get", "local"), (0x21, "local.set", "local"), (0x22, "local.tee", "local"),
    (0x23, "global.get", "global"), (0x24, "global.set", "global"),
    (0x25, "table.get", "table"), (0x26, "table.set", "table"),
    (0x3F, "memory.size", "memory"), (0x40, "memory.grow", "memory"),
    (0x41, "i32.const", "i32"), (0x42, "i64.const", "i64"),
    (0x43, "f32.const", "f32"), (0x44, "f64.const", "f64"),
]:
    _define(_code, _name, _imm)

# Memory loads and stores (5.4.6)
for _i, _name in enumerate(
        "i32.load i64.load f32.load f64.load i32.load8_s i32.load8_u i32.load16_s i32.load16_u "
        "i64.load8_s i64.load8_u i64.load16_s i64.load16_u i64.load32_s i64.load32_u "
        "i32.store i64.store f32.store f64.store i32.store8 i32.store16 i64.store8 i64.store16 "
        "i64.store32".split()):
    _define(0x28 + _i, _name, "memarg")

# Numeric instructions without immediates (5.4.7), 0x45 to 0xC4 in order.
_NUMERIC = """
i32.eqz i32.eq i32.ne i32.lt_s i32.lt_u i32.gt_s i32.gt_u i32.le_s i32.le_u i32.ge_s i32.ge_u
i64.eqz i64.eq i64.ne i64.lt_s i64.lt_u i64.gt_s i64.gt_u i64.le_s i64.le_u i64.ge_s i64.ge_u
f32.eq f32.ne f32.lt f32.gt f32.le f32.ge
f64.eq f64.ne f64.lt f64.gt f64.le f64.ge
i32.clz i32.ctz i32.popcnt i32.add i32.sub i32.mul i32.div_s i32.div_u i32.rem_s i32.rem_u
i32.and i32.or i32.xor i32.shl i32.shr_s i32.shr_u i32.rotl i32.rotr
i64.clz i64.ctz i64.popcnt i64.add i64.sub i64.mul i64.div_s i64.div_u i64.rem_s i64.rem_u
i64.and i64.or i64.xor i64.shl i64.shr_s i64.shr_u i64.rotl i64.rotr
f32.abs f32.neg f32.ceil f32.floor f32.trunc f32.nearest f32.sqrt
f32.add f32.sub f32.mul f32.div f32.min f32.max f32.copysign
f64.abs f64.neg f64.ceil f64.floor f64.trunc f64.nearest f64.sqrt
f64.add f64.sub f64.mul f64.div f64.min f64.max f64.copysign
i32.wrap_i64 i32.trunc_f32_s i32.trunc_f32_u i32.trunc_f64_s i32.trunc_f64_u
i64.extend_i32_s i64.extend_i32_u i64.trunc_f32_s i64.trunc_f32_u i64.trunc_f64_s i64.trunc_f64_u
f32.convert_i32_s f32.convert_i32_u f32.convert_i64_s f32.convert_i64_u f32.demote_f64
f64.convert_i32_s f64.convert_i32_u f64.convert_i64_s f64.convert_i64_u f64.promote_f32
i32.reinterpret_f32 i64.reinterpret_f64 f32.reinterpret_i32 f64.reinterpret_i64
i32.extend8_s i32.extend16_s i64.extend8_s i64.extend16_s i64.extend32_s
""".split()
for _i, _name in enumerate(_NUMERIC):
    _define(0x45 + _i, _name)
assert NAMES["i64.extend32_s"] == 0xC4

# 0xFC prefix: saturating truncation, bulk memory, table instructions.
for _n, _name, _imm in [
    (0, "i32.trunc_sat_f32_s", None), (1, "i32.trunc_sat_f32_u", None),
    (2, "i32.trunc_sat_f64_s", None), (3, "i32.trunc_sat_f64_u", None),
    (4, "i64.trunc_sat_f32_s", None), (5, "i64.trunc_sat_f32_u", None),
    (6, "i64.trunc_sat_f64_s", None), (7, "i64.trunc_sat_f64_u", None),
    (8, "memory.init", "memory.init"), (9, "data.drop", "data"),
    (10, "memory.copy", "memory.copy"), (11, "memory.fill", "memory"),
    (12, "table.init", "table.init"), (13, "elem.drop", "elem"),
    (14, "table.copy", "table.copy"), (15, "table.grow", "table"),
    (16, "table.size", "table"), (17, "table.fill", "table"),
]:
    _define(0xFC00 + _n, _name, _imm)

# 0xFD prefix: SIMD. Sub-opcodes 0-13 carry immediates; gaps are reserved numbers.
for _n, _name, _imm in [
    (0, "v128.load", "memarg"), (1, "v128.load8x8_s", "memarg"), (2, "v128.load8x8_u", "memarg"),
    (3, "v128.load16x4_s", "memarg"), (4, "v128.load16x4_u", "memarg"),
    (5, "v128.load32x2_s", "memarg"), (6, "v128.load32x2_u", "memarg"),
    (7, "v128.load8_splat", "memarg"), (8, "v128.load16_splat", "memarg"),
    (9, "v128.load32_splat", "memarg"), (10, "v128.load64_splat", "memarg"),
    (11, "v128.store", "memarg"), (12, "v128.const", "v128"), (13, "i8x16.shuffle", "shuffle"),
    (21, "i8x16.extract_lane_s", "lane"), (22, "i8x16.extract_lane_u", "lane"),
    (23, "i8x16.replace_lane", "lane"), (24, "i16x8.extract_lane_s", "lane"),
    (25, "i16x8.extract_lane_u", "lane"), (26, "i16x8.replace_lane", "lane"),
    (27, "i32x4.extract_lane", "lane"), (28, "i32x4.replace_lane", "lane"),
    (29, "i64x2.extract_lane", "lane"), (30, "i64x2.replace_lane", "lane"),
    (31, "f32x4.extract_lane", "lane"), (32, "f32x4.replace_lane", "lane"),
    (33, "f64x2.extract_lane", "lane"), (34, "f64x2.replace_lane", "lane"),
    (84, "v128.load8_lane", "memarg_lane"), (85, "v128.load16_lane", "memarg_lane"),
    (86, "v128.load32_lane", "memarg_lane"), (87, "v128.load64_lane", "memarg_lane"),
    (88, "v128.store8_lane", "memarg_lane"), (89, "v128.store16_lane", "memarg_lane"),
    (90, "v128.store32_lane", "memarg_lane"), (91, "v128.store64_lane", "memarg_lane"),
    (92, "v128.load32_zero", "memarg"), (93, "v128.load64_zero", "memarg"),
]:
    _define(0xFD00 + _n, _name, _imm)

_SIMD_PLAIN = {
    14: "i8x16.swizzle", 15: "i8x16.splat", 16: "i16x8.splat", 17: "i32x4.splat",
    18: "i64x2.splat", 19: "f32x4.splat", 20: "f64x2.splat",
    77: "v128.not", 78: "v128.and", 79: "v128.andnot", 80: "v128.or", 81: "v128.xor",
    82: "v128.bitselect", 83: "v128.any_true",
    94: "f32x4.demote_f64x2_zero", 95: "f64x2.promote_low_f32x4",
    96: "i8x16.abs", 97: "i8x16.neg", 98: "i8x16.popcnt", 99: "i8x16.all_true",
    100: "i8x16.bitmask", 101: "i8x16.narrow_i16x8_s", 102: "i8x16.narrow_i16x8_u",
    103: "f32x4.ceil", 104: "f32x4.floor", 105: "f32x4.trunc", 106: "f32x4.nearest",
    107: "i8x16.shl", 108: "i8x16.shr_s", 109: "i8x16.shr_u", 110: "i8x16.add",
    111: "i8x16.add_sat_s", 112: "i8x16.add_sat_u", 113: "i8x16.sub", 114: "i8x16.sub_sat_s",
    115: "i8x16.sub_sat_u", 116: "f64x2.ceil", 117: "f64x2.floor", 118: "i8x16.min_s",
    119: "i8x16.min_u", 120: "i8x16.max_s", 121: "i8x16.max_u", 122: "f64x2.trunc",
    123: "i8x16.avgr_u", 124: "i16x8.extadd_pairwise_i8x16_s",
    125: "i16x8.extadd_pairwise_i8x16_u", 126: "i32x4.extadd_pairwise_i16x8_s",
    127: "i32x4.extadd_pairwise_i16x8_u",
    128: "i16x8.abs", 129: "i16x8.neg", 130: "i16x8.q15mulr_sat_s", 131: "i16x8.all_true",
    132: "i16x8.bitmask", 133: "i16x8.narrow_i32x4_s", 134: "i16x8.narrow_i32x4_u",
    135: "i16x8.extend_low_i8x16_s", 136: "i16x8.extend_high_i8x16_s",
    137: "i16x8.extend_low_i8x16_u", 138: "i16x8.extend_high_i8x16_u",
    139: "i16x8.shl", 140: "i16x8.shr_s", 141: "i16x8.shr_u", 142: "i16x8.add",
    143: "i16x8.add_sat_s", 144: "i16x8.add_sat_u", 145: "i16x8.sub", 146: "i16x8.sub_sat_s",
    147: "i16x8.sub_sat_u", 148: "f64x2.nearest", 149: "i16x8.mul", 150: "i16x8.min_s",
    151: "i16x8.min_u", 152: "i16x8.max_s", 153: "i16x8.max_u", 155: "i16x8.avgr_u",
    156: "i16x8.extmul_low_i8x16_s", 157: "i16x8.extmul_high_i8x16_s",
    158: "i16x8.extmul_low_i8x16_u", 159: "i16x8.extmul_high_i8x16_u",
    160: "i32x4.abs", 161: "i32x4.neg", 163: "i32x4.all_true", 164: "i32x4.bitmask",
    167: "i32x4.extend_low_i16x8_s", 168: "i32x4.extend_high_i16x8_s",
    169: "i32x4.extend_low_i16x8_u", 170: "i32x4.extend_high_i16x8_u",
    171: "i32x4.shl", 172: "i32x4.shr_s", 173: "i32x4.shr_u", 174: "i32x4.add",
    177: "i32x4.sub", 181: "i32x4.mul", 182: "i32x4.min_s", 183: "i32x4.min_u",
    184: "i32x4.max_s", 185: "i32x4.max_u", 186: "i32x4.dot_i16x8_s",
    188: "i32x4.extmul_low_i16x8_s", 189: "i32x4.extmul_high_i16x8_s",
    190: "i32x4.extmul_low_i16x8_u", 191: "i32x4.extmul_high_i16x8_u",
    192: "i64x2.abs", 193: "i64x2.neg", 195: "i64x2.all_true", 196: "i64x2.bitmask",
    199: "i64x2.extend_low_i32x4_s", 200: "i64x2.extend_high_i32x4_s",
    201: "i64x2.extend_low_i32x4_u", 202: "i64x2.extend_high_i32x4_u",
    203: "i64x2.shl", 204: "i64x2.shr_s", 205: "i64x2.shr_u", 206: "i64x2.add",
    209: "i64x2.sub", 213: "i64x2.mul", 214: "i64x2.eq", 215: "i64x2.ne", 216: "i64x2.lt_s",
    217: "i64x2.gt_s", 218: "i64x2.le_s", 219: "i64x2.ge_s",
    220: "i64x2.extmul_low_i32x4_s", 221: "i64x2.extmul_high_i32x4_s",
    222: "i64x2.extmul_low_i32x4_u", 223: "i64x2.extmul_high_i32x4_u",
    224: "f32x4.abs", 225: "f32x4.neg", 227: "f32x4.sqrt", 228: "f32x4.add", 229: "f32x4.sub",
    230: "f32x4.mul", 231: "f32x4.div", 232: "f32x4.min", 233: "f32x4.max", 234: "f32x4.pmin",
    235: "f32x4.pmax",
    236: "f64x2.abs", 237: "f64x2.neg", 239: "f64x2.sqrt", 240: "f64x2.add", 241: "f64x2.sub",
    242: "f64x2.mul", 243: "f64x2.div", 244: "f64x2.min", 245: "f64x2.max", 246: "f64x2.pmin",
    247: "f64x2.pmax",
    248: "i32x4.trunc_sat_f32x4_s", 249: "i32x4.trunc_sat_f32x4_u",
    250: "f32x4.convert_i32x4_s", 251: "f32x4.convert_i32x4_u",
    252: "i32x4.trunc_sat_f64x2_s_zero", 253: "i32x4.trunc_sat_f64x2_u_zero",
    254: "f64x2.convert_low_i32x4_s", 255: "f64x2.convert_low_i32x4_u",
    # Relaxed SIMD (3.0): 0xFD00 + 0x100... reaches past 0xFE00, the number the 0xFE prefix
    # (threads, not supported) would start at.
    0x100: "i8x16.relaxed_swizzle",
    0x101: "i32x4.relaxed_trunc_f32x4_s", 0x102: "i32x4.relaxed_trunc_f32x4_u",
    0x103: "i32x4.relaxed_trunc_f64x2_s_zero", 0x104: "i32x4.relaxed_trunc_f64x2_u_zero",
    0x105: "f32x4.relaxed_madd", 0x106: "f32x4.relaxed_nmadd",
    0x107: "f64x2.relaxed_madd", 0x108: "f64x2.relaxed_nmadd",
    0x109: "i8x16.relaxed_laneselect", 0x10A: "i16x8.relaxed_laneselect",
    0x10B: "i32x4.relaxed_laneselect", 0x10C: "i64x2.relaxed_laneselect",
    0x10D: "f32x4.relaxed_min", 0x10E: "f32x4.relaxed_max",
    0x10F: "f64x2.relaxed_min", 0x110: "f64x2.relaxed_max",
    0x111: "i16x8.relaxed_q15mulr_s", 0x112: "i16x8.relaxed_dot_i8x16_i7x16_s",
    0x113: "i32x4.relaxed_dot_i8x16_i7x16_add_s",
}
# Comparisons: 35-76, ten per integer shape (i8x16, i16x8, i32x4), six per float shape.
for _base, _shape in [(35, "i8x16"), (45, "i16x8"), (55, "i32x4")]:
    for _i, _cmp in enumerate("eq ne lt_s lt_u gt_s gt_u le_s le_u ge_s ge_u".split()):
        _SIMD_PLAIN[_base + _i] = f"{_shape}.{_cmp}"
for _base, _shape in [(65, "f32x4"), (71, "f64x2")]:
    for _i, _cmp in enumerate("eq ne lt gt le ge".split()):
        _SIMD_PLAIN[_base + _i] = f"{_shape}.{_cmp}"
for _n, _name in _SIMD_PLAIN.items():
    _define(0xFD00 + _n, _name)

del _code, _name, _imm, _i, _n, _base, _shape, _cmp

# Handy constants for the opcodes that structure control flow.
BLOCK, LOOP, IF, ELSE, END = 0x02, 0x03, 0x04, 0x05, 0x0B
THROW, THROW_REF, TRY_TABLE = 0x08, 0x0A, 0x1F
TRY, CATCH_LEGACY, CATCH_ALL_LEGACY, DELEGATE, RETHROW = 0x06, 0x07, 0x19, 0x18, 0x09

# The kinds of a try_table's catch clauses, as the binary numbers them.
CATCH, CATCH_REF, CATCH_ALL, CATCH_ALL_REF = 0, 1, 2, 3


def name(op):
    return OPCODES[op][0]


def memory_indices(instr):
    """The memories an instruction reads or writes, by index: () for any other."""
    kind = OPCODES[instr.op][1]
    if kind == "memarg" or kind == "memarg_lane":
        return (instr.imm[-1],)
    if kind == "memory":
        return (instr.imm,)
    if kind == "memory.init":
        return (instr.imm[1],)
    if kind == "memory.copy":
        return instr.imm
    return ()
