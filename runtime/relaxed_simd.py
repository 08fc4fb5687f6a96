"""Relaxed SIMD: the one result pywamr gives for each instruction, on every engine and machine.

The spec lets each relaxed instruction return one of a few results (what one or another CPU
computes fastest). pywamr picks, for each, the result wasmtime gives with
`relaxed_simd_deterministic`: the interpreter, x86_64 with any CPU features and AArch64 then
agree with one another and with wasmtime, which makes differential testing possible. The
table of choices, why, and the machine instructions they become is in docs/compiler.md
("Relaxed SIMD").
"""

# The relaxed instructions that are exactly a WebAssembly 2.0 instruction: both engines lower
# them as that instruction.
SAME_AS = {
    "i8x16.relaxed_swizzle": "i8x16.swizzle",
    "i32x4.relaxed_trunc_f32x4_s": "i32x4.trunc_sat_f32x4_s",
    "i32x4.relaxed_trunc_f32x4_u": "i32x4.trunc_sat_f32x4_u",
    "i32x4.relaxed_trunc_f64x2_s_zero": "i32x4.trunc_sat_f64x2_s_zero",
    "i32x4.relaxed_trunc_f64x2_u_zero": "i32x4.trunc_sat_f64x2_u_zero",
    "i8x16.relaxed_laneselect": "v128.bitselect",
    "i16x8.relaxed_laneselect": "v128.bitselect",
    "i32x4.relaxed_laneselect": "v128.bitselect",
    "i64x2.relaxed_laneselect": "v128.bitselect",
    "f32x4.relaxed_min": "f32x4.min",
    "f32x4.relaxed_max": "f32x4.max",
    "f64x2.relaxed_min": "f64x2.min",
    "f64x2.relaxed_max": "f64x2.max",
    "i16x8.relaxed_q15mulr_s": "i16x8.q15mulr_sat_s",
}

# The other six, which each engine lowers itself:
#   f32x4/f64x2.relaxed_madd   a * b + c, rounded once (fused)
#   f32x4/f64x2.relaxed_nmadd  -(a * b) + c, rounded once
#   i16x8.relaxed_dot_i8x16_i7x16_s      both operands' bytes signed; each sum of two products
#                                        wraps to 16 bits (only -128 * -128 * 2 does)
#   i32x4.relaxed_dot_i8x16_i7x16_add_s  both signed; the sum of four products (exact in 32
#                                        bits) plus c's lane, wrapping
