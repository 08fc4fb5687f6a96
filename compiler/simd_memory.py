"""Lowering of the SIMD loads and stores: whole v128s, extending, splatting and zero-filling
loads, and single lanes. Each access is bounds-checked for the bytes it touches, like the
scalar ones (addresses.effective_address), and is unaligned (align 1)."""

from . import ir_text as ir
from .addresses import effective_address, load_at
from .signatures import I8, I16, I32, V128
from .simd import SHAPES, as_v128, broadcast, lanes

# name -> (lanes in memory, shape on the stack, sign-extend?)
EXTENDING_LOADS = {
    "v128.load8x8_s": (ir.VectorType(I8, 8), "i16x8", True),
    "v128.load8x8_u": (ir.VectorType(I8, 8), "i16x8", False),
    "v128.load16x4_s": (ir.VectorType(I16, 4), "i32x4", True),
    "v128.load16x4_u": (ir.VectorType(I16, 4), "i32x4", False),
    "v128.load32x2_s": (ir.VectorType(I32, 2), "i64x2", True),
    "v128.load32x2_u": (ir.VectorType(I32, 2), "i64x2", False),
}

# name -> shape: one lane is loaded, into every lane (splat) or into lane 0 of zeros (zero)
SPLAT_LOADS = {"v128.load8_splat": "i8x16", "v128.load16_splat": "i16x8",
               "v128.load32_splat": "i32x4", "v128.load64_splat": "i64x2"}
ZERO_LOADS = {"v128.load32_zero": "i32x4", "v128.load64_zero": "i64x2"}

# name -> shape: one lane is loaded into / stored from a v128 operand
LANE_LOADS = {"v128.load8_lane": "i8x16", "v128.load16_lane": "i16x8",
              "v128.load32_lane": "i32x4", "v128.load64_lane": "i64x2"}
LANE_STORES = {"v128.store8_lane": "i8x16", "v128.store16_lane": "i16x8",
               "v128.store32_lane": "i32x4", "v128.store64_lane": "i64x2"}

LOADS = ["v128.load", *EXTENDING_LOADS, *SPLAT_LOADS, *ZERO_LOADS]


def _byte_size(typ):
    if isinstance(typ, ir.VectorType):
        return typ.count * _byte_size(typ.element)
    return typ.width // 8


def _load(fx, addr, offset, typ, guarded, memory):
    return load_at(fx, addr, offset, _byte_size(typ), typ, guarded, memory)


def _store(fx, addr, offset, value, memory):
    fx.builder.store(value, effective_address(fx, addr, offset, _byte_size(value.type), memory),
                     align=1)


def load(fx, name, memarg, addr, guarded=False):
    """`guarded`: in a scan loop (scan_loops.py)."""
    _, offset, memory = memarg
    if name == "v128.load":
        return _load(fx, addr, offset, V128, guarded, memory)
    if name in EXTENDING_LOADS:
        memory_type, shape, signed = EXTENDING_LOADS[name]
        value = _load(fx, addr, offset, memory_type, guarded, memory)
        extend = fx.builder.sext if signed else fx.builder.zext
        return as_v128(fx, extend(value, SHAPES[shape]))
    if name in SPLAT_LOADS:
        typ = SHAPES[SPLAT_LOADS[name]]
        scalar = _load(fx, addr, offset, typ.element, guarded, memory)
        return as_v128(fx, broadcast(fx, scalar, typ))
    typ = SHAPES[ZERO_LOADS[name]]
    scalar = _load(fx, addr, offset, typ.element, guarded, memory)
    return as_v128(fx, fx.builder.insert_element(ir.Constant(typ, None), scalar,
                                                 ir.Constant(I32, 0)))


def store(fx, memarg, addr, value):
    _, offset, memory = memarg
    _store(fx, addr, offset, value, memory)


def load_lane(fx, name, memarg_lane, addr, vector, guarded=False):
    _, offset, lane, memory = memarg_lane
    vector = lanes(fx, vector, LANE_LOADS[name])
    scalar = _load(fx, addr, offset, vector.type.element, guarded, memory)
    return as_v128(fx, fx.builder.insert_element(vector, scalar, ir.Constant(I32, lane)))


def store_lane(fx, name, memarg_lane, addr, vector):
    _, offset, lane, memory = memarg_lane
    vector = lanes(fx, vector, LANE_STORES[name])
    _store(fx, addr, offset, fx.builder.extract_element(vector, ir.Constant(I32, lane)),
           memory)
