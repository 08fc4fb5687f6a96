"""compiler/prelink.py: the code's constants and jump tables move into `.text` and the
compiler applies the relocations within it. A C program full of float and vector constants,
jump tables and calls must print the same, on x86_64 and on AArch64 (under qemu), with its
references resolved by the compiler as with the loader relocating them, and its `.aot` file
must hold no reference the compiler could have resolved."""

import subprocess

import pytest

from pywamr.compiler import driver
from pywamr.compiler.driver import CompileOptions, compile_wasm
from pywamr.compiler.prelink import POSITION_FREE
from pywamr.loader.aot_file import read_aot
from pywamr.loader.host import host_arch

from arm64_qemu import run_arm64_python
from pyiwasm_support import pyiwasm

# Float constants of every width (.rodata.cst8/16/32), switches that become jump tables, and
# a vectorised loop (constant vectors); each result printed exactly.
PROGRAM = r"""
#include <stdio.h>

static double shape(double x, int k) {
  switch (k % 9) {
    case 0: return x * 1.25 + 0.5;
    case 1: return x * x - 3.75;
    case 2: return x / 7.125 + 2.0625;
    case 3: return (float)x * 0.1f + 9.5f;
    case 4: return x - 123.456;
    case 5: return x * 1e-3 + 6.02e23;
    case 6: return -x * 0.333;
    case 7: return x + 1.0 / 3.0;
    default: return x * 2.5e-7;
  }
}

static int step(int state, int c) {
  switch (state * 3 + c % 3) {
    case 0: return 4;  case 1: return 7;  case 2: return 1;
    case 3: return 0;  case 4: return 8;  case 5: return 2;
    case 6: return 5;  case 7: return 3;  case 8: return 6;
    case 9: return 1;  case 10: return 2; case 11: return 0;
    default: return (state + c) % 9;
  }
}

int main(void) {
  double acc = 0;
  float v[64];
  int state = 0;
  for (int i = 0; i < 64; i++) v[i] = i * 0.75f;
  for (int round = 0; round < 50; round++) {
    for (int i = 0; i < 64; i++) v[i] = v[i] * 1.0625f + 0.125f;
    for (int i = 0; i < 36; i++) {
      acc += shape(round * 0.37 + i, i + round);
      state = step(state, i + round);
    }
    printf("%d %.17g %.9g %d\n", round, acc, v[round], state);
  }
  return 0;
}
"""


@pytest.fixture(scope="module")
def wasm(tmp_path_factory):
    directory = tmp_path_factory.mktemp("prelink")
    (directory / "constants.c").write_text(PROGRAM)
    out = directory / "constants.wasm"
    subprocess.run(["clang-19", "--target=wasm32-wasi", "--sysroot=/usr", "-O2",
                    "-msimd128", "-Wl,--strip-debug", "-o", out, directory / "constants.c"],
                   check=True)
    return out.read_bytes()


def compile_for(arch, wasm, prelinked=True):
    options = CompileOptions(target=arch, jobs=1)
    if prelinked:
        return compile_wasm(wasm, options)
    original, driver.prelink = driver.prelink, lambda image: image
    try:
        return compile_wasm(wasm, options)
    finally:
        driver.prelink = original


def run(tmp_path, name, aot):
    path = tmp_path / f"{name}.aot"
    path.write_bytes(aot)
    result = pyiwasm(path)
    assert result.returncode == 0, result.stderr.decode()
    return result.stdout.decode()


def run_on_arm64(tmp_path, name, aot):
    path = tmp_path / f"{name}.aot"
    path.write_bytes(aot)
    return run_arm64_python(["-m", "pywamr.loader", str(path)])


@pytest.mark.parametrize("arch", ["x86_64", "aarch64"])
def test_prelinked_code_prints_what_relocated_code_prints(wasm, tmp_path, arch):
    if arch == "x86_64" and host_arch() != "x86_64":
        pytest.skip("x86_64 code")
    execute = run if arch == "x86_64" else run_on_arm64
    output = execute(tmp_path, "prelinked", compile_for(arch, wasm))
    assert output == execute(tmp_path, "relocated", compile_for(arch, wasm, prelinked=False))
    assert output.count("\n") == 50


@pytest.mark.parametrize("arch", ["x86_64", "aarch64"])
def test_nothing_left_for_the_loader_that_the_compiler_could_resolve(wasm, arch):
    before = read_aot(compile_for(arch, wasm, prelinked=False))
    after = read_aot(compile_for(arch, wasm))
    assert any(s.name.startswith(".rodata") for s in before.sections)
    assert not any(s.name.startswith(".rodata") for s in after.sections)
    text = next(i for i, s in enumerate(after.sections) if s.name == ".text")
    within_code = [r for r in after.relocations
                   if r.section == text and after.symbols[r.symbol].section == text
                   and r.type in POSITION_FREE[arch]]
    assert within_code == []
    assert not any(s.name.startswith(".LCPI") for s in after.symbols)
    assert len(after.relocations) < len(before.relocations) / 2
    # The code itself did not move: every function is where it was.
    functions = {s.name: s.offset for s in before.symbols if s.name.startswith("aot_func_")}
    assert functions == {s.name: s.offset for s in after.symbols
                         if s.name.startswith("aot_func_")}
    if arch == "aarch64":           # pages and low 12 bits were computed for code at a page
        assert after.sections[text].align == 4096


def test_only_data_whose_references_all_resolve_joins_the_code():
    """A hand-made image: a RIP-relative load of a constant (resolved: S + A - P), and a
    table of absolute addresses, which the loader must still patch and so stays apart
    (a field in code must be an instruction's: loader/image.py checks it)."""
    from pywamr.compiler.object_image import (ObjectImage, ObjRelocation, ObjSection,
                                              ObjSymbol)
    from pywamr.compiler.prelink import prelink

    load = bytes.fromhex("f20f1005") + bytes(4) + bytes.fromhex("c3")   # movsd 0(%rip), %xmm0
    image = ObjectImage(arch="x86_64", sections=[
        ObjSection(".text", load, len(load), 16, True, False),
        ObjSection(".rodata.cst8", bytes(range(8)), 8, 8, False, False),
        ObjSection(".rodata", bytes(8), 8, 8, False, False)])
    image.symbols = [ObjSymbol("aot_func_0", 0, 0, True), ObjSymbol(".LCPI0_0", 1, 0),
                     ObjSymbol(".rodata", 2, 0)]
    image.relocations = [ObjRelocation(0, 4, 2, 1, -4),      # R_X86_64_PC32 to the constant
                         ObjRelocation(2, 0, 1, 0, 0)]       # R_X86_64_64 to the function
    image = prelink(image)
    assert [s.name for s in image.sections] == [".text", ".rodata"]
    code = image.sections[0].data
    constant_at = 16                                  # the code's 9 bytes, to 8-byte alignment
    assert code[constant_at:] == bytes(range(8))
    assert int.from_bytes(code[4:8], "little", signed=True) == constant_at - 4 - 4
    assert [(r.section, r.type, image.symbols[r.symbol].name) for r in image.relocations] \
        == [(1, 1, "aot_func_0")]
    assert [s.name for s in image.symbols] == ["aot_func_0", ".rodata"]
