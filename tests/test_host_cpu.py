"""pyaotc's host default (compiler/target.py; docs/compiler.md, "The host default"): the generic
CPU with this machine's features, less AVX-512 on x86_64, so that the default code is never
slower than `--target`'s. Checked on the two loops of the benchmarks the choice turns on,
sieve's strided byte store and matmul's unit-stride f64 multiply-add, for an AVX-512 CPU and
an SVE AArch64 CPU whatever this machine is, and on this machine."""

import re
import subprocess

import llvmlite.binding as llvm
import pytest

from arm64_qemu import run_arm64_python
from pywamr.compiler import target
from pywamr.compiler.driver import CompileOptions, compile_wasm
from pywamr.compiler.target import resolve_target
from pywamr.loader.aot_module import AotModule

# Features as LLVM reports them for an AVX-512 server CPU and an SVE AArch64 one (subsets).
AVX512_CPU = dict.fromkeys(
    "64bit cmov cx8 fxsr mmx sse sse2 sse3 ssse3 sse4.1 sse4.2 popcnt avx avx2 fma bmi bmi2 "
    "lzcnt movbe f16c avx512f avx512bw avx512cd avx512dq avx512vl avx512vbmi avx10.1".split(),
    True) | {"sse4a": False, "xop": False}
SVE_CPU = dict.fromkeys("neon fp-armv8 crc lse rdm dotprod fullfp16 sve".split(),
                        True) | {"sve2": False}


# The loops as benchmarks/programs/sieve.c and matmul.c have them, without the C library.
LOOPS_C = r"""
int sieve(unsigned char *composite, int n) {   /* composite[0..n) zeroed; counts primes */
    int count = 0;
    for (int i = 2; i < n; i++) {
        if (composite[i])
            continue;
        count++;
        for (long long j = (long long)i * i; j < n; j += i)
            composite[j] = 1;
    }
    return count;
}

void matmul(double *c, const double *a, const double *b, int n) {   /* c += a x b */
    for (int i = 0; i < n; i++)
        for (int k = 0; k < n; k++) {
            double aik = a[i * n + k];
            for (int j = 0; j < n; j++)
                c[i * n + j] += aik * b[k * n + j];
        }
}
"""

# Runs on arm64 under qemu: the count of primes below 100000 by the compiled sieve.
RUN_SIEVE = """
import sys
from pywamr.loader.aot_module import AotModule
with open(sys.argv[1], "rb") as file:
    exports = AotModule(file.read()).instantiate({}).exports
print(exports["sieve"](exports["__heap_base"].value, 100_000))
"""


@pytest.fixture(scope="module")
def loops(tmp_path_factory):
    """LOOPS_C as wasm (4 pages of memory, every symbol exported)."""
    wasm = tmp_path_factory.mktemp("host_cpu") / "loops.wasm"
    subprocess.run(["clang-19", "--target=wasm32", "-O2", "-Wall", "-Werror", "-nostdlib",
                    "-Wl,--no-entry", "-Wl,--export-all", "-Wl,--initial-memory=262144",
                    "-o", str(wasm), "-x", "c", "-"], input=LOOPS_C.encode(), check=True)
    return wasm.read_bytes()


def on_machine(monkeypatch, arch, features):
    """Make pyaotc see a host of `arch` whose CPU has `features`."""
    monkeypatch.setattr(target, "host_arch", lambda: arch)
    monkeypatch.setattr(target, "host_cpu_features", lambda: features)


def llvm_ir(wasm, **options):
    return compile_wasm(wasm, CompileOptions(format="llvmir", **options)).decode()


def address_lane_extracts(ir):
    """i64 lanes taken out of vectors one by one: vectorised addresses of scalar accesses."""
    return len(re.findall(r"extractelement <\d+ x i64>", ir))


def enabled(spec):
    return {item[1:] for item in spec.features.split(",") if item.startswith("+")}


def test_gather_support_makes_llvm_vectorise_addresses(loops):
    """The cause: with AVX-512, or AVX2 with the fast-gather tuning, LLVM vectorises sieve's
    store loop and extracts every address from a vector; with AVX2 alone it does not."""
    for features, extracts in (("+avx512f", True), ("+avx2,+fast-gather", True),
                               ("+avx2", False)):
        ir = llvm_ir(loops, target="x86_64", cpu_features=features)
        assert (address_lane_extracts(ir) > 0) == extracts, features


def test_default_on_an_avx512_cpu(loops, monkeypatch):
    on_machine(monkeypatch, "x86_64", AVX512_CPU)
    spec = resolve_target()
    assert (spec.arch, spec.cpu) == ("x86_64", "generic")
    assert {"avx2", "fma", "bmi2", "sse4.2"} <= enabled(spec)
    assert not [name for name in enabled(spec) if name.startswith(("avx512", "avx10"))]
    ir = llvm_ir(loops)
    assert address_lane_extracts(ir) == 0
    # matmul stays vectorised, for 256-bit registers (generic x86-64: <4 x double>).
    assert "fmul <8 x double>" in ir


def test_default_on_an_aarch64_cpu(loops, monkeypatch, tmp_path):
    on_machine(monkeypatch, "aarch64", SVE_CPU)
    spec = resolve_target()
    assert (spec.arch, spec.triple, spec.cpu) == ("aarch64", "aarch64-unknown-linux-gnu",
                                                  "generic")
    assert spec.features == "+crc,+dotprod,+fp-armv8,+fullfp16,+lse,+neon,+rdm,+sve"
    ir = llvm_ir(loops)
    assert address_lane_extracts(ir) == 0
    assert "fmul <vscale x 2 x double>" in ir     # matmul, vectorised for SVE
    aot = tmp_path / "loops.aot"
    aot.write_bytes(compile_wasm(loops))
    assert run_arm64_python(["-c", RUN_SIEVE, aot]) == "9592\n"      # under qemu



def test_default_on_this_machine(loops):
    spec = resolve_target()
    assert spec.cpu == "generic"
    assert enabled(spec) <= {name for name, present in llvm.get_host_cpu_features().items()
                             if present}
    exports = AotModule(compile_wasm(loops)).instantiate({}).exports
    assert exports["sieve"](exports["__heap_base"].value, 100_000) == 9592


def test_cpu_native():
    spec = resolve_target(cpu="native")
    assert spec.cpu == llvm.get_host_cpu_name()
    assert spec.features == llvm.get_host_cpu_features().flatten()
