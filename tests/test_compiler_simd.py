"""pyaotc and SIMD beyond the spec suite: v128 across the native boundary (the embedding API,
host functions, globals shared between instances, multi-value results), v128 through control
flow, the lowering under several x86 CPU feature sets, --disable-simd, `pyiwasm -f` with v128,
and a C program vectorised by clang (-msimd128) giving the output of its native gcc build on
x86_64 and, under qemu, on AArch64."""

import struct
import subprocess
import sys

import pytest

from arm64_qemu import arm64
from pyiwasm_support import ROOT, pyiwasm, wat_module
from pywamr.compiler import CompileError
from pywamr.compiler.driver import CompileOptions, compile_wasm
from pywamr.compiler.target import host_arch
from pywamr.loader.aot_module import AotModule
from pywamr.runtime.aot_layout import MAGIC
from pywamr.runtime.api import HostFunc
from pywamr.runtime.decoder import decode_module
from pywamr.runtime.errors import Trap
from pywamr.runtime.opcodes import NAMES
from pywamr.runtime.types import FuncType


def v128(lanes, bits):
    """A v128 from lane values (lane 0 first), each taken modulo 2^bits."""
    return sum((lane % (1 << bits)) << (bits * i) for i, lane in enumerate(lanes))


def lanes_of(value, bits, signed=False):
    mask = (1 << bits) - 1
    result = [(value >> (bits * i)) & mask for i in range(128 // bits)]
    if signed:
        result = [lane - (1 << bits) if lane >> (bits - 1) else lane for lane in result]
    return result


def f32_bits(x):
    return struct.unpack("<I", struct.pack("<f", x))[0]


def f32x4(*values):
    return v128([f32_bits(x) for x in values], 32)


def instantiate(tmp_path, text, imports=None, opt_level=3, **options):
    wasm = wat_module(tmp_path, "module", text).read_bytes()
    aot = compile_wasm(wasm, CompileOptions(opt_level=opt_level, **options))
    return AotModule(aot).instantiate(imports or {})


# --- v128 across the native boundary ----------------------------------------------------------

BOUNDARY_WAT = """
(module
  (import "env" "mix" (func $mix (param v128 f64 v128) (result v128 i32 v128)))
  (import "env" "twice" (func $twice (param v128) (result v128)))
  (type $mix_type (func (param v128 f64 v128) (result v128 i32 v128)))
  (table funcref (elem $mix))
  (global $g (export "g") (mut v128) (v128.const i32x4 1 2 3 4))
  (func (export "swap_add") (param v128 i32 v128) (result v128 i32 v128)
    (local.get 2) (i32.add (local.get 1) (i32.const 1)) (local.get 0))
  (func (export "call_mix") (param v128 v128) (result v128)
    (local v128 i32 v128)
    (call $mix (local.get 0) (f64.const 2.5) (local.get 1))
    (local.set 4) (local.set 3) (local.set 2)
    (i32x4.add (local.get 2) (i32x4.add (local.get 4) (i32x4.splat (local.get 3)))))
  (func (export "call_mix_indirect") (param v128 v128) (result v128 i32 v128)
    (call_indirect (type $mix_type) (local.get 0) (f64.const -1) (local.get 1) (i32.const 0)))
  (func (export "twice_global") (result v128)
    (global.set $g (call $twice (global.get $g)))
    (global.get $g)))
"""


@pytest.mark.parametrize("opt_level", [0, 3])
def test_v128_params_results_and_host_functions(tmp_path, opt_level):
    seen = []

    def mix(a, x, b):
        seen.append((a, x, b))
        return a ^ b, int(x * 10), (a + b) % (1 << 128)

    imports = {"env": {
        "mix": HostFunc(FuncType(("v128", "f64", "v128"), ("v128", "i32", "v128")), mix),
        "twice": HostFunc(FuncType(("v128",), ("v128",)),
                          lambda a: v128([2 * lane for lane in lanes_of(a, 32)], 32)),
    }}
    exports = instantiate(tmp_path, BOUNDARY_WAT, imports, opt_level).exports
    a = v128([1, -2, 3, 0x7FFFFFFF], 32)
    b = (1 << 128) - 5     # all the bits of both halves in use

    # Three results, two of them v128: five u64 slots.
    assert exports["swap_add"].call_bits([a, 41, b]) == [b, 42, a]
    assert exports["swap_add"](a, -1, b) == (b, 0, a)

    total = exports["call_mix"].call_bits([a, b])[0]
    expected = [(x + y + 25) % (1 << 32)
                for x, y in zip(lanes_of(a ^ b, 32), lanes_of((a + b) % (1 << 128), 32))]
    assert lanes_of(total, 32) == expected
    assert exports["call_mix_indirect"].call_bits([b, a]) == [a ^ b, (-10) % (1 << 32),
                                                              (a + b) % (1 << 128)]
    assert seen == [(a, 2.5, b), (b, -1.0, a)]

    assert lanes_of(exports["twice_global"].call_bits([])[0], 32) == [2, 4, 6, 8]
    assert lanes_of(exports["g"].get_bits(), 32) == [2, 4, 6, 8]
    exports["g"].set_bits(b)
    assert exports["twice_global"].call_bits([])[0] == v128(
        [2 * lane for lane in lanes_of(b, 32)], 32)


def test_v128_globals_shared_between_instances(tmp_path):
    exporter = instantiate(tmp_path, """
        (module
          (global (export "counter") (mut v128) (v128.const i64x2 -1 7))
          (global (export "fixed") v128 (v128.const i8x16 0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15))
          (func (export "bump")
            (global.set 0 (i64x2.add (global.get 0) (v128.const i64x2 1 1)))))""")
    importer = instantiate(tmp_path, """
        (module
          (import "a" "counter" (global $counter (mut v128)))
          (import "a" "fixed" (global $fixed v128))
          (global $copy v128 (global.get $fixed))
          (func (export "read") (result v128 v128) (global.get $counter) (global.get $copy))
          (func (export "store") (param v128) (global.set $counter (local.get 0))))""",
        {"a": exporter.exports})
    assert importer.exports["read"].call_bits([]) == [v128([-1, 7], 64), v128(range(16), 8)]
    exporter.exports["bump"]()
    assert lanes_of(importer.exports["read"].call_bits([])[0], 64) == [0, 8]
    importer.exports["store"](0x0123456789ABCDEF_FEDCBA9876543210)
    assert exporter.exports["counter"].get_bits() == 0x0123456789ABCDEF_FEDCBA9876543210


CONTROL_WAT = """
(module
  (func (export "sum_lanes_times") (param v128 i32) (result i32)
    (local v128)
    (local.get 0)
    (loop $again (param v128) (result v128)
      (local.set 2 (i32x4.add (local.get 2)))
      (local.get 0)
      (local.tee 1 (i32.sub (local.get 1) (i32.const 1)))
      (br_if $again))
    (drop)
    (i32.add (i32.add (i32x4.extract_lane 0 (local.get 2)) (i32x4.extract_lane 1 (local.get 2)))
             (i32.add (i32x4.extract_lane 2 (local.get 2)) (i32x4.extract_lane 3 (local.get 2)))))
  (func (export "pick") (param v128 v128 i32 i32) (result v128)
    (block $b (result v128)
      (block $a (result v128)
        (local.get 0)
        (local.get 2)
        (br_table $a $b))
      (drop)
      (local.get 1)
      (local.get 3)
      (if (param v128) (result v128)
        (then (i8x16.neg))
        (else (drop) (select (result v128) (local.get 1) (v128.const i64x2 9 9) (local.get 3))))))
  (func (export "zero_local") (result v128) (local v128) (local.get 0)))
"""


@pytest.mark.parametrize("opt_level", [0, 3])
def test_v128_through_control_flow(tmp_path, opt_level):
    exports = instantiate(tmp_path, CONTROL_WAT, opt_level=opt_level).exports
    assert exports["sum_lanes_times"](v128([1, 2, 3, 4], 32), 5) == 50
    a, b = v128(range(16), 8), v128(range(100, 116), 8)
    assert exports["pick"](a, b, 1, 0) == a                      # br_table to $b
    assert exports["pick"](a, b, 7, 1) == a                      # its default
    assert exports["pick"](a, b, 0, 1) == v128([-x for x in range(100, 116)], 8)   # then
    assert exports["pick"](a, b, 0, 0) == v128([9, 9], 64)       # else: select's 2nd
    assert exports["zero_local"]() == 0


@pytest.mark.parametrize("bounds_checks", [True, False])
def test_v128_accesses_out_of_bounds_trap(tmp_path, bounds_checks):
    """With explicit checks and with guard pages, the access of every byte counts."""
    exports = instantiate(tmp_path, """
        (module (memory (export "memory") 1)
          (func (export "load") (param i32) (result v128) (v128.load offset=1 (local.get 0)))
          (func (export "store") (param i32 v128) (v128.store (local.get 0) (local.get 1)))
          (func (export "load_lane") (param i32 v128) (result v128)
            (v128.load32_lane 3 (local.get 0) (local.get 1)))
          (func (export "store_lane") (param i32 v128)
            (v128.store64_lane offset=8 1 (local.get 0) (local.get 1))))""",
        bounds_checks=bounds_checks).exports
    memory = exports["memory"]
    memory.write(bytes(range(16)), 65536 - 16)
    assert exports["load"](65536 - 17) == v128(range(16), 8)
    assert exports["load_lane"](65532, 0) == v128([0, 0, 0, 0x0F0E0D0C], 32)
    for call in (lambda: exports["load"](65536 - 16), lambda: exports["load"](-1),
                 lambda: exports["load_lane"](65533, 0),
                 lambda: exports["store"](65536 - 15, (1 << 128) - 1),
                 lambda: exports["store_lane"](65536 - 15, (1 << 128) - 1)):
        with pytest.raises(Trap, match="out of bounds memory access"):
            call()
    if bounds_checks:     # guard pages may leave the in-bounds part of a store written
        assert memory.read(65536 - 16, 65536) == bytes(range(16))
    exports["store_lane"](65536 - 16, v128([5, 6], 64))
    assert memory.read(65536 - 8, 65536) == (6).to_bytes(8, "little")


# --- the lowering under other x86 CPU features ------------------------------------------------

FEATURES_WAT = """
(module
  (func (export "swizzle") (param v128 v128) (result v128)
    (i8x16.swizzle (local.get 0) (local.get 1)))
  (func (export "trunc_sat_s") (param v128) (result v128) (i32x4.trunc_sat_f32x4_s (local.get 0)))
  (func (export "trunc_sat_u") (param v128) (result v128) (i32x4.trunc_sat_f32x4_u (local.get 0)))
  (func (export "narrow_u") (param v128 v128) (result v128)
    (i16x8.narrow_i32x4_u (local.get 0) (local.get 1)))
  (func (export "bitmask") (param v128) (result i32) (i16x8.bitmask (local.get 0)))
  (func (export "min") (param v128 v128) (result v128) (f32x4.min (local.get 0) (local.get 1)))
  (func (export "ceil") (param v128) (result v128) (f32x4.ceil (local.get 0)))
  (func (export "mul") (param v128 v128) (result v128) (i64x2.mul (local.get 0) (local.get 1))))
"""


@pytest.mark.skipif(host_arch() != "x86_64", reason="x86 CPU features")
@pytest.mark.parametrize("features", ["", "+ssse3", "+sse4.1", "+avx2", "this CPU"])
def test_lowering_with_cpu_features(tmp_path, features):
    """LLVM picks different instructions per feature set (generic x86-64 is SSE2 only;
    pshufb for swizzle with SSSE3, roundps for ceil with SSE4.1, ...): every one must keep
    the spec's semantics."""
    import llvmlite.binding as llvm
    if features == "this CPU":
        exports = instantiate(tmp_path, FEATURES_WAT).exports
    else:
        if features and not llvm.get_host_cpu_features().get(features[1:], False):
            pytest.skip(f"this CPU lacks {features[1:]}")
        exports = instantiate(tmp_path, FEATURES_WAT, target="x86_64",
                              cpu_features=features or None).exports

    table, indices = v128(range(100, 116), 8), v128([0, 15, 16, 255, 128, 3, 17, 1] * 2, 8)
    assert lanes_of(exports["swizzle"].call_bits([table, indices])[0], 8) == \
        [100, 115, 0, 0, 0, 103, 0, 101] * 2
    floats = f32x4(float("nan"), -3e9, 3e9, -1.5)
    assert lanes_of(exports["trunc_sat_s"].call_bits([floats])[0], 32, signed=True) == \
        [0, -2**31, 2**31 - 1, -1]
    assert lanes_of(exports["trunc_sat_u"].call_bits([f32x4(float("nan"), -1.5, 5e9,
                                                            4294967040.0)])[0], 32) == \
        [0, 0, 2**32 - 1, 4294967040]
    assert lanes_of(exports["narrow_u"].call_bits([v128([-1, 70000, 65535, 3], 32),
                                                   v128([0, 2**31 - 1, -2**31, 256], 32)])[0],
                    16) == [0, 65535, 65535, 3, 0, 65535, 0, 256]
    assert exports["bitmask"].call_bits([v128([-1, 0, -32768, 1, 0, 0, 0, -2], 16)]) == \
        [0b10000101]
    mins = exports["min"].call_bits([f32x4(0.0, -0.0, 1.0, float("nan")),
                                     f32x4(-0.0, 0.0, float("nan"), 2.0)])[0]
    assert lanes_of(mins, 32)[:2] == [f32_bits(-0.0)] * 2
    assert all(lane & 0x7FC00000 == 0x7FC00000 for lane in lanes_of(mins, 32)[2:])
    assert exports["ceil"].call_bits([f32x4(-0.5, 1.25, -7.0, 1e30)]) == \
        [f32x4(-0.0, 2.0, -7.0, 1e30)]
    assert lanes_of(exports["mul"].call_bits([v128([3, -(2**62)], 64),
                                              v128([-5, 6], 64)])[0], 64, signed=True) == \
        [-15, -(2**63)]


# --- --disable-simd, pyiwasm -f ----------------------------------------------------------------

def test_disable_simd_refuses_simd_modules(tmp_path):
    wasm = wat_module(tmp_path, "simd", """(module (func (param i32) (result i32)
        (i32x4.extract_lane 0 (i32x4.splat (local.get 0)))))""")
    with pytest.raises(CompileError, match=r"^SIMD is disabled \(--disable-simd\): function 0 "
                                           r"uses i32x4.splat$"):
        compile_wasm(wasm.read_bytes(), CompileOptions(simd=False))
    done = subprocess.run([sys.executable, "-m", "pywamr.compiler", "--disable-simd",
                           "-o", str(tmp_path / "simd.aot"), str(wasm)],
                          capture_output=True, text=True)
    assert done.returncode == 1
    assert done.stderr == (f"pyaotc: error: {wasm}: SIMD is disabled (--disable-simd): "
                           f"function 0 uses i32x4.splat\n")
    assert not (tmp_path / "simd.aot").exists()

    global_only = wat_module(tmp_path, "global", "(module (global v128 (v128.const i64x2 0 0)))")
    with pytest.raises(CompileError, match=r"disabled \(--disable-simd\): global 0 is a v128"):
        compile_wasm(global_only.read_bytes(), CompileOptions(simd=False))
    scalar = wat_module(tmp_path, "scalar", "(module (func (result i32) (i32.const 1)))")
    assert compile_wasm(scalar.read_bytes(), CompileOptions(simd=False)).startswith(MAGIC)


def test_pyiwasm_function_with_v128(tmp_path):
    wasm = wat_module(tmp_path, "add", """(module (func (export "add") (param v128 v128)
        (result v128 i32) (i32x4.add (local.get 0) (local.get 1)) (i32.const 7)))""")
    aot = tmp_path / "add.aot"
    aot.write_bytes(compile_wasm(wasm.read_bytes()))
    done = pyiwasm("-f", "add", aot, "0x00000004000000030000000200000001",
                   str((1 << 128) - 1))
    assert done.returncode == 0, done.stderr
    assert done.stdout == b"0x00000003000000020000000100000000\n7\n"
    done = pyiwasm("-f", "add", aot, hex(1 << 128), "0")
    assert done.returncode == 1
    assert done.stderr.endswith(b"bad v128 argument '0x100000000000000000000000000000000'\n")


# --- a C program vectorised by clang ----------------------------------------------------------

SAMPLE = ROOT / "tests" / "samples" / "simd_blur.c"


@pytest.fixture(scope="module")
def blur(tmp_path_factory):
    """simd_blur.c as wasm with SIMD, and its native output."""
    folder = tmp_path_factory.mktemp("simd_blur")
    wasm = folder / "simd_blur.wasm"
    subprocess.run(["clang-19", "--target=wasm32-wasi", "--sysroot=/usr", "-O2", "-msimd128",
                    "-Wall", "-Werror", "-Wl,--strip-debug", "-o", str(wasm), str(SAMPLE),
                    "-lm"], check=True)
    native = folder / "simd_blur"
    subprocess.run(["gcc", "-O2", "-Wall", "-Werror", "-o", str(native), str(SAMPLE), "-lm"],
                   check=True)
    expected = subprocess.run([str(native)], capture_output=True, check=True).stdout
    return folder, wasm, expected


def test_simd_sample_uses_simd(blur):
    """The vectorised loops and the intrinsics kernels really are SIMD instructions."""
    _, wasm, _ = blur
    module = decode_module(wasm.read_bytes())
    used = {instr.op for body in module.codes for instr in body.body if instr.op >= 0xFD00}
    for name in ("i8x16.swizzle", "i8x16.shuffle", "i8x16.add_sat_u", "i32x4.dot_i16x8_s",
                 "i16x8.q15mulr_sat_s", "i8x16.narrow_i16x8_u", "i8x16.bitmask",
                 "i8x16.all_true", "v128.any_true", "f32x4.sqrt", "i32x4.trunc_sat_f32x4_s",
                 "v128.load8x8_u"):
        assert NAMES[name] in used, name


@pytest.mark.parametrize("opt_level", [0, 3])
def test_simd_sample_matches_native(blur, opt_level):
    folder, wasm, expected = blur
    aot = folder / f"simd_blur-O{opt_level}.aot"
    aot.write_bytes(compile_wasm(wasm.read_bytes(), CompileOptions(opt_level=opt_level)))
    done = pyiwasm(aot)
    assert (done.returncode, done.stderr) == (0, b"")
    assert done.stdout == expected


def test_simd_sample_on_arm64_matches_native(blur):
    folder, wasm, expected = blur
    aot = folder / "simd_blur-aarch64.aot"
    aot.write_bytes(compile_wasm(wasm.read_bytes(), CompileOptions(target="aarch64")))
    done = arm64.run_arm64(["-m", "pywamr.loader", str(aot)], capture_output=True)
    assert (done.returncode, done.stderr) == (0, b"")
    assert done.stdout == expected
