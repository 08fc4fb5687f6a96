"""Relaxed SIMD beyond the spec files: every instruction against wasmtime with
relaxed_simd_deterministic (whose choices pywamr makes, docs/compiler.md "Relaxed SIMD") on
special and random operands, on the interpreter and on x86_64 under several CPU feature sets;
and tests/samples/simd_relaxed.c, built with -mrelaxed-simd, giving wasmtime's output on the
interpreter, on x86_64 (generic and this CPU, -O0 and -O3) and on AArch64 under qemu."""

import json
import random
import struct
import subprocess

import pytest

from arm64_qemu import arm64
from pyiwasm_support import ROOT, pyiwasm
from pywamr.compiler.driver import CompileOptions, compile_wasm
from pywamr.compiler.target import host_arch
from pywamr.loader.aot_module import AotModule
from pywamr.runtime.decoder import decode_module
from pywamr.runtime.interp import Module as InterpModule
from pywamr.runtime.opcodes import OPCODES

wasmtime = pytest.importorskip("wasmtime")

M64 = (1 << 64) - 1

# name -> (operand lane types, result lane type for NaN-blind comparison or None)
INSTRUCTIONS = {
    "i8x16.relaxed_swizzle": (["i8", "index"], None),
    "i32x4.relaxed_trunc_f32x4_s": (["f32"], None),
    "i32x4.relaxed_trunc_f32x4_u": (["f32"], None),
    "i32x4.relaxed_trunc_f64x2_s_zero": (["f64"], None),
    "i32x4.relaxed_trunc_f64x2_u_zero": (["f64"], None),
    "f32x4.relaxed_madd": (["f32", "f32", "f32"], "f32"),
    "f32x4.relaxed_nmadd": (["f32", "f32", "f32"], "f32"),
    "f64x2.relaxed_madd": (["f64", "f64", "f64"], "f64"),
    "f64x2.relaxed_nmadd": (["f64", "f64", "f64"], "f64"),
    "i8x16.relaxed_laneselect": (["i8", "i8", "mask"], None),
    "i16x8.relaxed_laneselect": (["i8", "i8", "mask"], None),
    "i32x4.relaxed_laneselect": (["i8", "i8", "mask"], None),
    "i64x2.relaxed_laneselect": (["i8", "i8", "mask"], None),
    "f32x4.relaxed_min": (["f32", "f32"], "f32"),
    "f32x4.relaxed_max": (["f32", "f32"], "f32"),
    "f64x2.relaxed_min": (["f64", "f64"], "f64"),
    "f64x2.relaxed_max": (["f64", "f64"], "f64"),
    "i16x8.relaxed_q15mulr_s": (["i16", "i16"], None),
    "i16x8.relaxed_dot_i8x16_i7x16_s": (["i8", "i8"], None),
    "i32x4.relaxed_dot_i8x16_i7x16_add_s": (["i8", "i8", "i8"], None),
}


def test_every_relaxed_instruction_is_covered():
    relaxed = {name for name, _ in OPCODES.values() if ".relaxed_" in name}
    assert relaxed == set(INSTRUCTIONS) and len(relaxed) == 20


def _wrapper(name, count):
    """A function of i64 pairs (wasmtime-py passes no v128) applying `name`."""
    operands = " ".join(f"(i64x2.replace_lane 1 (i64x2.splat (local.get {2 * i})) "
                        f"(local.get {2 * i + 1}))" for i in range(count))
    return (f'(func (export "{name}") (param {"i64 " * 2 * count}) (result i64 i64) '
            f'(local v128) (local.set {2 * count} ({name} {operands})) '
            f'(i64x2.extract_lane 0 (local.get {2 * count})) '
            f'(i64x2.extract_lane 1 (local.get {2 * count})))')


WAT = "(module\n" + "\n".join(_wrapper(name, len(types))
                              for name, (types, _) in INSTRUCTIONS.items()) + ")"

_SPECIAL_F32 = [0.0, -0.0, 1.0, -1.0, 0.5, -2.5, float("inf"), float("-inf"), float("nan"),
                2147483520.0, 2147483648.0, -2147483904.0, 4294967040.0, 4294967296.0, 3e9,
                -3e9, 3.4028234663852886e38, -3.4028234663852886e38, 2.0, 1.0000002384185791,
                1.000030517578125, -1.0000307559967041, 1e-45, 1.1754943508222875e-38]
_SPECIAL_F64 = [0.0, -0.0, 1.0, -1.0, 0.5, -2.5, float("inf"), float("-inf"), float("nan"),
                2147483647.0, 2147483647.5, 2147483648.0, -2147483648.5, -2147483649.0,
                4294967295.0, 4294967295.9, 4294967296.0, 1e300, -1e300,
                1.7976931348623157e308, 2.0, 1.0000000000000002, 5e-324, 2.2250738585072014e-308]


def _lanes(rng, kind):
    """A v128 of random lanes of `kind`, special values often."""
    if kind in ("f32", "f64"):
        special, fmt, count = ((_SPECIAL_F32, "<f", 4) if kind == "f32"
                               else (_SPECIAL_F64, "<d", 2))
        width = 128 // count
        lanes = [struct.unpack(f"<{'I' if count == 4 else 'Q'}",
                               struct.pack(fmt, rng.choice(special)))[0]
                 if rng.random() < 0.5 else rng.getrandbits(width) for _ in range(count)]
        return sum(lane << (width * i) for i, lane in enumerate(lanes))
    if kind == "i8":            # biased to -128 and 127, where the dot products differ
        lanes = [rng.choice([0x80, 0x7F, rng.getrandbits(8)]) for _ in range(16)]
        return sum(lane << (8 * i) for i, lane in enumerate(lanes))
    if kind == "i16":           # -32768 often: q15mulr's overflow
        lanes = [rng.choice([0x8000, 0x8000, rng.getrandbits(16)]) for _ in range(8)]
        return sum(lane << (16 * i) for i, lane in enumerate(lanes))
    if kind == "index":         # in range, 16-127 and 128-255
        lanes = [rng.choice([rng.randrange(16), rng.randrange(16, 128), rng.randrange(128, 256)])
                 for _ in range(16)]
        return sum(lane << (8 * i) for i, lane in enumerate(lanes))
    # mask: all ones, all zeros, or mixed bits in a lane of any width
    return rng.choice([0, (1 << 128) - 1, rng.getrandbits(128),
                       sum(0xFF << (8 * i) for i in range(16) if rng.random() < 0.5)])


def _operands():
    rng = random.Random(19)
    return {name: [[_lanes(rng, kind) for kind in kinds] for _ in range(150)]
            for name, (kinds, _) in INSTRUCTIONS.items()}


OPERANDS = _operands()


def _comparable(value, float_lanes):
    """`value` with every NaN lane made one NaN: NaN payloads are the machine's."""
    if float_lanes is None:
        return value
    width = 32 if float_lanes == "f32" else 64
    exponent = ((1 << (width - 1)) - 1) ^ ((1 << (23 if width == 32 else 52)) - 1)
    result = 0
    for i in range(128 // width):
        lane = (value >> (width * i)) & ((1 << width) - 1)
        if lane & exponent == exponent and lane & ((1 << (23 if width == 32 else 52)) - 1):
            lane = exponent | (1 << (22 if width == 32 else 51))
        result |= lane << (width * i)
    return result


def _split(operands):
    """v128 operands as the i64 arguments of the wrappers (signed, as wasmtime-py wants)."""
    halves = []
    for v in operands:
        for half in (v & M64, v >> 64):
            halves.append(half - (1 << 64) if half >> 63 else half)
    return halves


def _join(low, high):
    return (low & M64) | ((high & M64) << 64)


@pytest.fixture(scope="module")
def wasm(tmp_path_factory):
    folder = tmp_path_factory.mktemp("relaxed")
    (folder / "relaxed.wat").write_text(WAT)
    subprocess.run(["wat2wasm", "-o", str(folder / "relaxed.wasm"), str(folder / "relaxed.wat")],
                   check=True)
    return (folder / "relaxed.wasm").read_bytes()


@pytest.fixture(scope="module")
def expected(wasm):
    """{name: [results]} from wasmtime with relaxed_simd_deterministic."""
    config = wasmtime.Config()
    config.wasm_relaxed_simd = True
    config.wasm_relaxed_simd_deterministic = True
    engine = wasmtime.Engine(config)
    store = wasmtime.Store(engine)
    exports = wasmtime.Instance(store, wasmtime.Module(engine, wasm), []).exports(store)
    return {name: [_comparable(_join(*exports[name](store, *_split(operands))), floats)
                   for operands in OPERANDS[name]]
            for name, (_, floats) in INSTRUCTIONS.items()}


def _results(exports):
    return {name: [_comparable(_join(*exports[name].call_bits(_split(operands))), floats)
                   for operands in OPERANDS[name]]
            for name, (_, floats) in INSTRUCTIONS.items()}


def _assert_same(got, expected):
    for name in INSTRUCTIONS:
        assert got[name] == expected[name], name


def test_interpreter_matches_wasmtime(wasm, expected):
    _assert_same(_results(InterpModule(wasm).instantiate({}).exports), expected)


@pytest.mark.skipif(host_arch() != "x86_64", reason="x86 CPU features")
@pytest.mark.parametrize("features", ["", "+ssse3", "+sse4.1", "+avx2", "+fma", "+avx2,+fma",
                                      "this CPU"])
@pytest.mark.parametrize("opt_level", [0, 3])
def test_x86_64_matches_wasmtime(wasm, expected, features, opt_level):
    """Generic x86-64 (SSE2: madd calls libm's fma), and the instructions LLVM picks with more
    features (pshufb, blendv, vfmadd, ...): all must give the one result chosen."""
    import llvmlite.binding as llvm
    if features == "this CPU":
        options = CompileOptions(opt_level=opt_level)
    else:
        missing = [f for f in features.split(",") if f
                   and not llvm.get_host_cpu_features().get(f[1:], False)]
        if missing:
            pytest.skip(f"this CPU lacks {missing}")
        options = CompileOptions(target="x86_64", cpu_features=features or None,
                                 opt_level=opt_level)
    exports = AotModule(compile_wasm(wasm, options)).instantiate({}).exports
    _assert_same(_results(exports), expected)


_ARM64_SCRIPT = """
import json, sys
from pywamr.loader.aot_module import AotModule
data = json.load(sys.stdin)
exports = AotModule(bytes.fromhex(data["aot"])).instantiate({}).exports
print(json.dumps({name: [exports[name].call_bits(args) for args in calls]
                  for name, calls in data["calls"].items()}))
"""


def test_aarch64_matches_wasmtime(wasm, expected):
    aot = compile_wasm(wasm, CompileOptions(target="aarch64"))
    calls = {name: [_split(operands) for operands in OPERANDS[name]] for name in INSTRUCTIONS}
    done = arm64.run_arm64(["-c", _ARM64_SCRIPT], capture_output=True, text=True,
                           input=json.dumps({"aot": aot.hex(), "calls": calls}))
    assert done.returncode == 0, done.stderr
    results = json.loads(done.stdout)
    got = {name: [_comparable(_join(*pair), INSTRUCTIONS[name][1]) for pair in results[name]]
           for name in INSTRUCTIONS}
    _assert_same(got, expected)


# --- a C program using every relaxed instruction ----------------------------------------------

SAMPLE = ROOT / "tests" / "samples" / "simd_relaxed.c"


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    """simd_relaxed.c built with relaxed SIMD, and its output under wasmtime."""
    folder = tmp_path_factory.mktemp("simd_relaxed")
    wasm = folder / "simd_relaxed.wasm"
    subprocess.run(["clang-19", "--target=wasm32-wasi", "--sysroot=/usr", "-O2", "-msimd128",
                    "-mrelaxed-simd", "-Wall", "-Werror", "-Wl,--strip-debug", "-o", str(wasm),
                    str(SAMPLE), "-lm"], check=True)
    config = wasmtime.Config()
    config.wasm_relaxed_simd = True
    config.wasm_relaxed_simd_deterministic = True
    engine = wasmtime.Engine(config)
    linker = wasmtime.Linker(engine)
    linker.define_wasi()
    store = wasmtime.Store(engine)
    wasi = wasmtime.WasiConfig()
    wasi.stdout_file = str(folder / "wasmtime.out")
    store.set_wasi(wasi)
    linker.instantiate(store, wasmtime.Module.from_file(engine, str(wasm))) \
        .exports(store)["_start"](store)
    return folder, wasm, (folder / "wasmtime.out").read_bytes()


def test_sample_uses_every_relaxed_instruction(sample):
    _, wasm, expected = sample
    module = decode_module(wasm.read_bytes())
    used = {OPCODES[instr.op][0] for body in module.codes for instr in body.body
            if instr.op in OPCODES}
    assert set(INSTRUCTIONS) <= used
    # The cases the spec's `either` lists single out, as chosen (and as wasmtime gives them).
    assert b"madd(1+2^-22, 1+2^-15, -(1+..))      0x1p-37\n" in expected
    assert b"q15mulr(-32768, -32768)              32767\n" in expected


def test_sample_on_the_interpreter(sample):
    _, wasm, expected = sample
    done = pyiwasm("--interp", wasm)
    assert (done.returncode, done.stderr, done.stdout) == (0, b"", expected)


@pytest.mark.parametrize("target", ["x86_64", None], ids=["generic", "this-cpu"])
@pytest.mark.parametrize("opt_level", [0, 3])
def test_sample_on_x86_64(sample, target, opt_level):
    if host_arch() != "x86_64":
        pytest.skip("runs x86_64 code")
    folder, wasm, expected = sample
    aot = folder / f"simd_relaxed-{target}-O{opt_level}.aot"
    aot.write_bytes(compile_wasm(wasm.read_bytes(),
                                 CompileOptions(target=target, opt_level=opt_level)))
    done = pyiwasm(aot)
    assert (done.returncode, done.stderr, done.stdout) == (0, b"", expected)


def test_sample_on_arm64(sample):
    folder, wasm, expected = sample
    aot = folder / "simd_relaxed-aarch64.aot"
    aot.write_bytes(compile_wasm(wasm.read_bytes(), CompileOptions(target="aarch64")))
    done = arm64.run_arm64(["-m", "pywamr.loader", str(aot)], capture_output=True)
    assert (done.returncode, done.stderr, done.stdout) == (0, b"", expected)
