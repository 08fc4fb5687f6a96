"""SIMD (v128) in the interpreter: what the spec files do not show well.

- Every SIMD instruction, on edge-case and random lanes, against wasmtime: shifts by constant
  counts (translated in line, unlike the spec files' counts, which are parameters), every lane
  index, random shuffles, memory accesses at constant and computed addresses near the end of
  memory.
- v128 across the embedding API: parameters, results, globals, host functions, other
  instances, call_indirect, blocks and select.
- A C program vectorised by clang (-msimd128) prints what its native build prints.
- relaxed_madd's exact fused multiply-add against glibc's (the rest of relaxed SIMD:
  test_relaxed_simd.py).
"""

import random
import subprocess

import pytest

from pyiwasm_support import ROOT, build_samples, pyiwasm
from pywamr.runtime.api import HostFunc
from pywamr.runtime.decoder import decode_module
from pywamr.runtime.errors import Trap
from pywamr.runtime.interp import Module
from pywamr.runtime.opcodes import OPCODES
from pywamr.runtime.types import FuncType, GlobalType
from pywamr.runtime.validator import LANE_ACCESSES, LANE_OPS, MEMORY_ACCESSES, SIGNATURES
from test_interp import instantiate, wasm

M128 = (1 << 128) - 1
SIMD_OPS = {name: op for op, (name, _) in OPCODES.items() if op >> 8 == 0xFD}
MEMORY_OPS = sorted(name for name, op in SIMD_OPS.items()
                    if op in MEMORY_ACCESSES or op in LANE_ACCESSES)

# Results where the spec allows any arithmetic NaN: a lane that is NaN in wasmtime's result
# need only be a quiet NaN in ours. All other results must be identical bit for bit.
FLOAT_ARITHMETIC = {f"{shape}.{op}" for shape in ("f32x4", "f64x2") for op in (
    "add", "sub", "mul", "div", "sqrt", "min", "max", "ceil", "floor", "trunc", "nearest")}
FLOAT_ARITHMETIC |= {"f32x4.demote_f64x2_zero", "f64x2.promote_low_f32x4"}

SPECIAL_LANES = {
    8: [0, 1, 0x40, 0x7F, 0x80, 0x81, 0xFE, 0xFF],
    16: [0, 1, 0xFF, 0x100, 0x4000, 0x7FFF, 0x8000, 0x8001, 0xFF00, 0xFFFF],
    32: [0, 1, 0x7FFF, 0x8000, 0x7FFFFFFF, 0x80000000, 0xFFFF8000, 0xFFFFFFFF,
         # f32: -0, +-1, +-inf, NaNs (canonical, negative, signalling, with payload),
         # subnormal, max, 1.5, 2.5, -0.5, 2**31, -2**31, 2**32, below 0.5, 2**23 + 1
         0x3F800000, 0xBF800000, 0x7F800000, 0xFF800000, 0x7FC00000, 0xFFC00000, 0x7FA00001,
         0x7FC12345, 0x00000001, 0x7F7FFFFF, 0x3FC00000, 0x40200000, 0xBF000000, 0x4F000000,
         0xCF000000, 0x4F800000, 0x3EFFFFFF, 0x4B000001],
    64: [0, 1, 0x7FFFFFFFFFFFFFFF, 0x8000000000000000, 0xFFFFFFFFFFFFFFFF, 0xFFFFFFFF,
         0x3FF0000000000000, 0xBFF0000000000000, 0x7FF0000000000000, 0xFFF0000000000000,
         0x7FF8000000000000, 0xFFF8000000000000, 0x7FF4000000000001, 0x7FF8000000012345,
         0x0000000000000001, 0x7FEFFFFFFFFFFFFF, 0x3FF8000000000000, 0x4004000000000000,
         0xBFE0000000000000, 0x41E0000000000000, 0xC1E0000000200000, 0x41F0000000000000,
         0x3FDFFFFFFFFFFFFF, 0x4330000000000001, 0x47EFFFFFE0000000, 0x3810000000000000],
}
SCALAR_BITS = {"i32": 32, "f32": 32, "i64": 64, "f64": 64}
BITS_TYPE = {"i32": "i32", "f32": "i32", "i64": "i64", "f64": "i64"}   # floats pass as bits
SHIFT_COUNTS = [0, 1, 7, 8, 15, 16, 31, 32, 63, 64, 65, 0xFFFFFFFF]


def random_vector(rng):
    """A v128 of one random lane width, each lane an edge case or random bits."""
    width = rng.choice((8, 16, 32, 64))
    vector = 0
    for lane in range(128 // width):
        if rng.random() < 0.6:
            value = rng.choice(SPECIAL_LANES[width])
        else:
            value = rng.getrandbits(width)
        vector |= value << (lane * width)
    return vector


def related_vector(rng, vector):
    """`vector` with some lanes changed a little (a flipped top or low bit, all bits) and the
    others equal: comparisons, min and max need equal and nearly equal lanes."""
    width = rng.choice((8, 16, 32, 64))
    for lane in range(0, 128, width):
        if rng.random() < 0.5:
            vector ^= rng.choice([1, 1 << (width - 1), (1 << width) - 1]) << lane
    return vector


def random_scalar(rng, valtype):
    bits = SCALAR_BITS[valtype]
    if rng.random() < 0.6:
        return rng.choice(SPECIAL_LANES[bits])
    return rng.getrandbits(bits)


# ------------------------------------------------------------------ one module, both engines

def operation_functions():
    """{export name: (instruction name, number of v128 operands, types of the arguments,
    result type, WAT function)} for every SIMD instruction that does not touch memory, in
    every immediate form tested.

    v128 operands are loaded from addresses 0, 16, 32 and a v128 result is stored at 64
    (wasmtime's Python API has no v128 values); scalar operands are parameters and scalar
    results are returned, floats as their bit patterns. A shift also comes with constant
    counts (export "i8x16.shl by 9")."""
    functions = {}

    def add(export, name, immediate, operand_types, result, count=None):
        operands, args = [], []
        for i, t in enumerate(operand_types):
            if t == "v128":
                operands.append(f"(v128.load (i32.const {16 * i}))")
            elif count is not None:
                operands.append(f"(i32.const {count})")
            else:
                args.append(t)
                get = f"(local.get {len(args) - 1})"
                operands.append(f"({t}.reinterpret_{BITS_TYPE[t]} {get})" if t[0] == "f" else get)
        body = f"({name} {immediate} {' '.join(operands)})"
        if result == "v128":
            body, returns = f"(v128.store (i32.const 64) {body})", ""
        else:
            if result[0] == "f":
                body = f"({BITS_TYPE[result]}.reinterpret_{result} {body})"
            returns = f"(result {BITS_TYPE[result]})"
        params = " ".join(f"(param {BITS_TYPE[t]})" for t in args)
        functions[export] = (name, operand_types.count("v128"), args, result,
                             f'(func (export "{export}") {params} {returns} {body})')

    rng = random.Random(128)
    for name, op in SIMD_OPS.items():
        if name in MEMORY_OPS:
            continue
        if name == "v128.const":
            for i in range(4):
                constant = f"i64x2 {rng.getrandbits(64)} {rng.getrandbits(64)}"
                add(f"{name} {i}", name, constant, [], "v128")
        elif name == "i8x16.shuffle":
            for i, indices in enumerate([range(16), range(31, 15, -1), [0] * 16,
                                         [rng.randrange(32) for _ in range(16)],
                                         [rng.randrange(32) for _ in range(16)]]):
                add(f"{name} {i}", name, " ".join(map(str, indices)), ["v128", "v128"], "v128")
        elif op in LANE_OPS:
            lanes, operand_types, results = LANE_OPS[op]
            for lane in range(lanes):
                add(f"{name} {lane}", name, str(lane), operand_types, results[0])
        else:
            operand_types, results = SIGNATURES[op]
            result = results[0] if results else None
            add(name, name, "", operand_types, result)
            if name.split(".")[1] in ("shl", "shr_s", "shr_u"):
                for count in SHIFT_COUNTS:
                    add(f"{name} by {count}", name, "", operand_types, result, count)
    return functions


OPERATIONS = operation_functions()


def memory_functions():
    """{export name: (instruction name, WAT function)}: every SIMD load and store, with
    offsets 0, 5 and 65530, at a computed address (the parameter) and at constant ones.
    A vector result is stored at address 0; a vector to store or load a lane into is read
    from address 32."""
    functions = {}
    for name in MEMORY_OPS:
        op = SIMD_OPS[name]
        lanes = LANE_ACCESSES[op][1] if op in LANE_ACCESSES else None
        stores = "store" in name
        for offset in (0, 5, 65530):
            for lane in range(lanes) if lanes else [None]:
                for address in ["(local.get 0)", "(i32.const 7)", "(i32.const 65520)",
                                "(i32.const 65529)"]:
                    immediate = f"offset={offset}" + (f" {lane}" if lane is not None else "")
                    vector = "(v128.load (i32.const 32))" if stores or lanes else ""
                    access = f"({name} {immediate} {address} {vector})"
                    if not stores:
                        access = f"(v128.store (i32.const 0) {access})"
                    export = f"{name} {immediate} {address}"
                    functions[export] = (name, f'(func (export "{export}") (param i32) {access})')
    return functions


MEMORY_FUNCTIONS = memory_functions()
MEMORY_ADDRESSES = [0, 1, 15, 16, 100, 65520, 65521, 65528, 65535, 65536, 0x80000000,
                    0xFFFFFFFF]
MEMORY_PATTERN = bytes(random.Random(7).getrandbits(8) for _ in range(65536))


@pytest.fixture(scope="module")
def engines():
    """(interp instance, wasmtime store, wasmtime exports, wasmtime's Trap) of the module of
    all functions."""
    wasmtime = pytest.importorskip("wasmtime")
    functions = [text for *_, text in OPERATIONS.values()]
    functions += [text for _, text in MEMORY_FUNCTIONS.values()]
    binary = wasm(f"(module (memory (export \"memory\") 1) {' '.join(functions)})")
    store = wasmtime.Store()
    reference = wasmtime.Instance(store, wasmtime.Module(store.engine, binary), [])
    return Module(binary).instantiate(), store, reference.exports(store), wasmtime.Trap


def run_both(engines, export, args, arg_types, memory):
    """Call `export` in both engines on a fresh copy of `memory` (bytes from address 0);
    return per engine (returned bits or 'trap', the memory afterwards)."""
    interp, store, reference, wasmtime_trap = engines
    outcomes = []
    interp.exports["memory"].write(memory, 0)
    try:
        out = interp.exports[export].call_bits(args)
        outcomes.append((out[0] if out else None, interp.exports["memory"].read(0, 65536)))
    except Trap as trap:
        assert trap.message == "out of bounds memory access"
        outcomes.append(("trap", None))
    wasmtime_memory = reference["memory"]
    wasmtime_memory.write(store, memory, 0)
    signed = [a - (1 << SCALAR_BITS[t]) if a >> (SCALAR_BITS[t] - 1) else a
              for a, t in zip(args, arg_types)]                  # wasmtime takes signed ints
    try:
        out = reference[export](store, *signed)
        data = bytes(wasmtime_memory.read(store, 0, 65536))
        outcomes.append((None if out is None else out & ((1 << 64) - 1), data))
    except wasmtime_trap as trap:
        assert "out of bounds memory access" in str(trap)
        outcomes.append(("trap", None))
    return outcomes


def is_nan(bits, width):
    exponent, fraction = (0x7F800000, 0x7FFFFF) if width == 32 else \
        (0x7FF0000000000000, 0xFFFFFFFFFFFFF)
    return bits & exponent == exponent and bits & fraction != 0


def lanes_agree(expected, actual, width):
    """Lane by lane equality, a NaN lane matching any quiet NaN (see FLOAT_ARITHMETIC)."""
    quiet = 1 << (23 if width == 32 else 52)
    mask = (1 << width) - 1
    for lane in range(0, 128, width):
        e, a = (expected >> lane) & mask, (actual >> lane) & mask
        if is_nan(e, width) and is_nan(a, width) and a & quiet:
            continue
        if e != a:
            return False
    return True


@pytest.mark.parametrize("export", OPERATIONS)
def test_operation_agrees_with_wasmtime(engines, export):
    name, vector_count, arg_types, result, _ = OPERATIONS[export]
    rng = random.Random(export)
    for _ in range(48):
        vectors = [random_vector(rng) for _ in range(vector_count)]
        if len(vectors) > 1 and rng.random() < 0.5:
            vectors[1] = related_vector(rng, vectors[0])
        args = [random_scalar(rng, t) for t in arg_types]
        memory = b"".join(v.to_bytes(16, "little") for v in vectors)
        (ours, our_memory), (theirs, their_memory) = run_both(engines, export, args, arg_types,
                                                              memory)
        inputs = f"{export} on {[hex(v) for v in vectors]} {[hex(a) for a in args]}"
        if result != "v128":
            assert ours == theirs & ((1 << SCALAR_BITS[result]) - 1), inputs
            continue
        ours = int.from_bytes(our_memory[64:80], "little")
        theirs = int.from_bytes(their_memory[64:80], "little")
        if name in FLOAT_ARITHMETIC:
            width = 32 if name.startswith("f32x4") else 64
            assert lanes_agree(theirs, ours, width), f"{inputs}: {ours:#x} != {theirs:#x}"
        else:
            assert ours == theirs, f"{inputs}: {ours:#x} != {theirs:#x}"


def composed_functions():
    """{export: (WAT function, scalar parameter type or None)} for instruction sequences
    with a translation of their own (clang's widening of bytes to i32 lanes, multiplying by
    a splat or two extending loads, narrowing lanes that need no saturation), operands
    loaded from 0 and 16, the result stored at 64."""
    load = "(v128.load (i32.const {}))"
    functions = {}
    for inner in ("low", "high"):
        for outer in ("low", "high"):
            for signs in ("uu", "su", "us"):
                body = (f"(i32x4.extend_{outer}_i16x8_{signs[1]} "
                        f"(i16x8.extend_{inner}_i8x16_{signs[0]} {load.format(0)}))")
                functions[f"widen_{inner}_{outer}_{signs}"] = (body, None)
    for shape, scalar in (("i16x8", "i32"), ("i32x4", "i32"), ("i64x2", "i64")):
        body = f"({shape}.mul {load.format(0)} ({shape}.splat (local.get 0)))"
        functions[f"mul_splat_{shape}"] = (body, scalar)
    for shape, lanes in (("i16x8", "8x8"), ("i32x4", "16x4"), ("i64x2", "32x2")):
        for signs in ("ss", "su", "us", "uu"):
            body = (f"({shape}.mul (v128.load{lanes}_{signs[0]} (i32.const 0)) "
                    f"(v128.load{lanes}_{signs[1]} (i32.const 16)))")
            functions[f"mul_loads_{shape}_{signs}"] = (body, None)
    for narrow, wide in (("i16x8", "i32x4"), ("i8x16", "i16x8")):
        body = f"({narrow}.narrow_{wide}_u {load.format(0)} {load.format(16)})"
        functions[f"narrow_{narrow}"] = (body, None)
    return {export: (f'(func (export "{export}")'
                     + (f" (param {scalar})" if scalar else "")
                     + f" (v128.store (i32.const 64) {body}))", scalar)
            for export, (body, scalar) in functions.items()}


COMPOSED = composed_functions()


@pytest.mark.parametrize("export", COMPOSED)
def test_composed_forms_agree_with_wasmtime(export):
    wasmtime = pytest.importorskip("wasmtime")
    text, scalar = COMPOSED[export]
    binary = wasm(f'(module (memory (export "memory") 1) {text})')
    store = wasmtime.Store()
    reference = wasmtime.Instance(store, wasmtime.Module(store.engine, binary), [])
    theirs = reference.exports(store)
    ours = Module(binary).instantiate().exports
    rng = random.Random(export)
    # Narrowing without saturation needs the upper half of every lane clear: some inputs are
    # masked so, the others are not.
    masks = [M128, int("0000ffff" * 4, 16), int("00ff" * 8, 16), int("0001ffff" * 4, 16)]
    for _ in range(64):
        vectors = [random_vector(rng) & rng.choice(masks) for _ in range(2)]
        args = [random_scalar(rng, scalar)] if scalar else []
        memory = b"".join(v.to_bytes(16, "little") for v in vectors)
        ours["memory"].write(memory, 0)
        ours[export].call_bits(args)
        theirs["memory"].write(store, memory, 0)
        signed = [a - (1 << SCALAR_BITS[scalar]) if a >> (SCALAR_BITS[scalar] - 1) else a
                  for a in args]
        theirs[export](store, *signed)
        expected = bytes(theirs["memory"].read(store, 64, 80))
        assert ours["memory"].read(64, 80) == expected, [hex(v) for v in vectors] + args


@pytest.mark.parametrize("name", MEMORY_OPS)
def test_memory_access_agrees_with_wasmtime(engines, name):
    exports = [export for export, (n, _) in MEMORY_FUNCTIONS.items() if n == name]
    for export in exports:
        addresses = MEMORY_ADDRESSES if "local.get" in export else [0]
        for address in addresses:
            ours, theirs = run_both(engines, export, [address], ["i32"], MEMORY_PATTERN)
            assert ours == theirs, f"{export} at {address:#x}"


# ------------------------------------------------------------------ the embedding API

def test_v128_parameters_and_results_are_128_bit_ints():
    instance = instantiate("""(module
      (func (export "swap_halves") (param v128) (result v128)
        (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get 0) (local.get 0)))
      (func (export "sum_and_lanes") (param v128 v128) (result v128 i32 i64)
        (i32x4.add (local.get 0) (local.get 1))
        (i32x4.extract_lane 3 (local.get 0))
        (i64x2.extract_lane 0 (local.get 1))))""")
    value = 0x0123456789ABCDEF_FEDCBA9876543210
    assert instance.exports["swap_halves"](value) == 0xFEDCBA9876543210_0123456789ABCDEF
    assert instance.exports["swap_halves"].call_bits([value]) == [
        0xFEDCBA9876543210_0123456789ABCDEF]
    assert instance.exports["swap_halves"](-1) == M128          # friendly values wrap
    ones = 0x00000001_00000001_00000001_00000001
    assert instance.exports["sum_and_lanes"](M128, ones) == (0, -1, 0x0000000100000001)


def test_v128_globals_mutable_exported_and_imported():
    provider = instantiate("""(module
      (global (export "g") (mut v128) (v128.const i32x4 1 2 3 4))
      (global $fixed v128 (v128.const i64x2 -1 7))
      (func (export "double") (global.set 0 (i32x4.add (global.get 0) (global.get 0))))
      (func (export "fixed") (result v128) (global.get $fixed)))""")
    g = provider.exports["g"]
    assert g.type == GlobalType("v128", True)
    assert g.value == 0x00000004_00000003_00000002_00000001
    provider.exports["double"]()
    assert g.get_bits() == 0x00000008_00000006_00000004_00000002
    assert provider.exports["fixed"]() == (7 << 64) | ((1 << 64) - 1)

    user = instantiate("""(module
      (import "p" "g" (global $g (mut v128)))
      (func (export "read") (result v128) (global.get $g))
      (func (export "write") (param v128) (global.set $g (local.get 0))))""",
        {"p": provider.exports})
    g.value = 0xAB << 120
    assert user.exports["read"]() == 0xAB << 120
    user.exports["write"](5)
    assert g.value == 5


def test_host_functions_take_and_return_v128():
    seen = []
    lane_sum = FuncType(("v128",), ("i32",))
    reverse = FuncType(("v128", "i32"), ("v128", "i32"))
    imports = {"env": {
        "lane_sum": HostFunc(lane_sum, lambda v: sum((v >> (32 * i)) & 0xFFFFFFFF
                                                     for i in range(4))),
        "reverse": HostFunc(reverse, lambda v, tag: seen.append((v, tag)) or (
            int.from_bytes(v.to_bytes(16, "little"), "big"), tag + 1), raw=True),
    }}
    instance = instantiate("""(module
      (import "env" "lane_sum" (func $lane_sum (param v128) (result i32)))
      (import "env" "reverse" (func $reverse (param v128 i32) (result v128 i32)))
      (func (export "go") (param v128) (result i32 v128 i32)
        (call $lane_sum (i32x4.mul (local.get 0) (v128.const i32x4 1 2 3 4)))
        (call $reverse (local.get 0) (i32.const -2))))""", imports)
    value = 0x00000001_00000002_00000003_00000004        # lanes 4, 3, 2, 1
    total, reversed_value, tag = instance.exports["go"](value)
    assert total == 4 * 1 + 3 * 2 + 2 * 3 + 1 * 4
    assert reversed_value == int.from_bytes(value.to_bytes(16, "little"), "big")
    assert tag == -1
    assert seen == [(value, 0xFFFFFFFE)]                  # raw: bit patterns


def test_v128_across_instances_call_indirect_blocks_and_select():
    provider = instantiate("""(module
      (func (export "negate") (param v128) (result v128) (i8x16.neg (local.get 0))))""")
    user = instantiate("""(module
      (import "p" "negate" (func $negate (param v128) (result v128)))
      (type $unary (func (param v128) (result v128)))
      (table 2 funcref)
      (elem (i32.const 0) $negate $twice)
      (func $twice (param v128) (result v128) (i8x16.add (local.get 0) (local.get 0)))
      (func (export "apply") (param v128 i32) (result v128)
        (call_indirect (type $unary) (local.get 0) (local.get 1)))
      (func (export "pick") (param v128 v128 i32) (result v128)
        (select (local.get 0) (local.get 1) (local.get 2)))
      (func (export "count_down") (param v128 i32) (result v128)
        (local.get 0)
        (loop $again (param v128) (result v128)
          (i8x16.sub (v128.const i8x16 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1))
          (local.tee 1 (i32.sub (local.get 1) (i32.const 1)))
          (br_if $again))))""", {"p": provider.exports})
    assert user.exports["apply"](1, 0) == 0xFF
    assert user.exports["apply"](0x8101, 1) == 0x0202
    assert user.exports["pick"](1, 2, 1) == 1 and user.exports["pick"](1, 2, 0) == 2
    assert user.exports["count_down"](0x05 << 120, 3) == (
        (0x02 << 120) | int.from_bytes(b"\xfd" * 15, "little"))


def test_out_of_bounds_v128_store_traps_and_writes_nothing():
    instance = instantiate("""(module (memory (export "memory") 1)
      (func (export "store") (param i32 v128) (v128.store (local.get 0) (local.get 1)))
      (func (export "load") (param i32) (result v128) (v128.load offset=8 (local.get 0))))""")
    memory = instance.exports["memory"]
    with pytest.raises(Trap, match="out of bounds memory access"):
        instance.exports["store"](65536 - 15, M128)
    assert memory.read(65536 - 15, 65536) == bytes(15)
    with pytest.raises(Trap, match="out of bounds memory access"):
        instance.exports["load"](65536 - 16)
    instance.exports["store"](65536 - 16, M128)
    assert instance.exports["load"](65536 - 24) == M128


# ------------------------------------------------------------------ a vectorised C program

def simd_opcodes(binary):
    return {OPCODES[instr.op][0] for code in decode_module(binary).codes for instr in code.body
            if instr.op >> 8 == 0xFD}


def test_vectorised_c_program_prints_what_native_prints(tmp_path):
    samples = build_samples()                 # the native build and the toolchain
    binary = tmp_path / "simd_kernels.wasm"
    subprocess.run(["clang-19", "--target=wasm32-wasi", "--sysroot=/usr", "-O2", "-msimd128",
                    "-Wall", "-Werror", "-Wl,--strip-debug", "-o", str(binary),
                    str(ROOT / "tests" / "samples" / "simd_kernels.c")],
                   check=True)
    used = simd_opcodes(binary.read_bytes())
    assert len(used) >= 30, sorted(used)      # really vectorised
    for count in ("1000", "37"):
        native = subprocess.run([str(samples / "simd_kernels"), count], capture_output=True)
        assert native.returncode == 0 and native.stdout.count(b"\n") == 8
        ran = pyiwasm("--interp", binary, count)
        assert (ran.returncode, ran.stdout, ran.stderr) == (0, native.stdout, b"")


def test_fused_multiply_add_is_glibcs():
    """relaxed_madd's exact fma (Python 3.11 has none) against C's fma/fmaf, on random bits,
    exponents near overflow and underflow, and near-cancelling addends."""
    import ctypes
    import math
    import struct
    from array import array
    from pywamr.runtime.interp.simd import fma_f32, fma_f64
    libm = ctypes.CDLL("libm.so.6")
    libm.fma.restype, libm.fma.argtypes = ctypes.c_double, [ctypes.c_double] * 3
    libm.fmaf.restype, libm.fmaf.argtypes = ctypes.c_float, [ctypes.c_float] * 3
    rng = random.Random(5)

    def operand(fmt, bits, exponents, mantissa):
        exponent = rng.choice(exponents)
        value = (rng.getrandbits(1) << (bits - 1)) | (exponent << mantissa) \
            | rng.getrandbits(mantissa)
        return struct.unpack(fmt, value.to_bytes(bits // 8, "little"))[0]

    def same(x, y):
        return x == y and math.copysign(1, x) == math.copysign(1, y) or x != x and y != y

    for _ in range(20000):
        a, b, c = (operand("<f", 32, [0, 1, 100, 126, 127, 128, 150, 254, 255], 23)
                   for _ in range(3))
        if rng.random() < 0.3:
            c = array("f", [-(a * b)])[0]
        assert same(array("f", [fma_f32(a, b, c)])[0], libm.fmaf(a, b, c)), (a, b, c)
        a, b, c = (operand("<d", 64, [0, 1, 500, 1022, 1023, 1024, 1100, 2046, 2047], 52)
                   for _ in range(3))
        if rng.random() < 0.3:
            c = -(a * b)
        assert same(fma_f64(a, b, c), libm.fma(a, b, c)), (a, b, c)
