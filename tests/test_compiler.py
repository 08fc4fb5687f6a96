"""pyaotc: objects for every target and level, `.aot` files run by the real loader, the
command line and its errors."""

import io
import re
import struct
import subprocess
import sys

import pytest

from pywamr.compiler import CompileError
from pywamr.compiler.driver import CompileOptions, compile_wasm
from pywamr.compiler.elf_reader import read_elf_object
from pywamr.compiler.partition import PART_BYTES
from pywamr.compiler.target import host_arch, resolve_target
from pywamr.loader.aot_module import AotModule
from pywamr.runtime import aot_abi
from pywamr.runtime.api import HostFunc
from pywamr.runtime.decoder import decode_module
from pywamr.runtime.errors import Exhaustion, MalformedModule, Trap
from pywamr.runtime.types import FuncType

MIXED_WAT = """
(module
  (import "env" "log" (func $log (param i32 f64)))
  (import "env" "pair" (func $pair (param i32) (result i32 i64)))
  (memory 1)
  (table 4 funcref)
  (global $counter (mut i32) (i32.const 0))
  (type $unary (func (param i32) (result i32)))
  (func $fib (type $unary)
    (if (result i32) (i32.lt_u (local.get 0) (i32.const 2))
      (then (local.get 0))
      (else (i32.add (call $fib (i32.sub (local.get 0) (i32.const 1)))
                     (call $fib (i32.sub (local.get 0) (i32.const 2)))))))
  (func $scale (param f64) (result f64)
    (f64.add (f64.mul (local.get 0) (f64.const 3.3)) (f64.const 0.1)))
  (func $pick (param i32) (result i32)
    (block (block (block (block (block
      (br_table 0 1 2 3 4 (local.get 0)))
      (return (i32.const 10))) (return (i32.const 20))) (return (i32.const 30)))
      (return (i32.const 40)))
    (i32.const 50))
  (func $copy (param i32 i32 i32)
    (memory.copy (local.get 0) (local.get 1) (local.get 2)))
  (func $dispatch (param i32 i32) (result i32)
    (global.set $counter (i32.add (global.get $counter) (i32.const 1)))
    (call $log (local.get 0) (call $scale (f64.convert_i32_s (local.get 1))))
    (call_indirect (type $unary) (local.get 1) (local.get 0)))
  (func $swap (param i32 i64) (result i64 i32) (local.get 1) (local.get 0))
  (func $pair_sum (param i32) (result i64) (local i64)
    (call $pair (local.get 0))
    (local.set 1)
    (i64.add (i64.extend_i32_u) (local.get 1)))
  (func $div (param i32 i32) (result i32) (i32.div_s (local.get 0) (local.get 1)))
  (func $runaway (call $runaway))
  (elem (i32.const 0) $fib $pick)
  (export "fib" (func $fib)) (export "pick" (func $pick)) (export "dispatch" (func $dispatch))
  (export "scale" (func $scale)) (export "copy" (func $copy)) (export "swap" (func $swap))
  (export "pair_sum" (func $pair_sum)) (export "div" (func $div))
  (export "runaway" (func $runaway)) (export "counter" (global $counter))
  (export "memory" (memory 0)))
"""

# What an object may ask the loader to resolve from the C library.
LIBC_SYMBOLS = {"memcpy", "memmove", "memset", "ceil", "ceilf", "floor", "floorf", "trunc",
                "truncf", "nearbyint", "nearbyintf", "_GLOBAL_OFFSET_TABLE_",
                "__sigsetjmp", "siglongjmp", "sigaction", "pthread_self",
                "_Unwind_Backtrace", "_Unwind_GetCFA", "_Unwind_GetIPInfo",
                "_Unwind_GetRegionStart",
                aot_abi.GUARD_STATE_SYMBOL, aot_abi.INTERRUPT_STATE_SYMBOL}

ELF_MACHINE = {"x86_64": 62, "aarch64": 183}

# ELF relocation type numbers (System V x86_64 psABI, ARM ELF for the Arm 64-bit ABI).
R_X86_64_PC32, R_X86_64_PLT32, R_X86_64_REX_GOTPCRELX = 2, 4, 42
R_X86_64_PC64, R_X86_64_GOTOFF64, R_X86_64_GOT64, R_X86_64_GOTPC64 = 24, 25, 27, 29
R_AARCH64_ADR_PREL_PG_HI21, R_AARCH64_ADD_ABS_LO12_NC = 275, 277
R_AARCH64_JUMP26, R_AARCH64_CALL26 = 282, 283
R_AARCH64_LDST64_ABS_LO12_NC, R_AARCH64_PREL32 = 286, 261
R_AARCH64_ADR_GOT_PAGE, R_AARCH64_LD64_GOT_LO12_NC = 311, 312

RELOCATIONS = {
    # x86_64 small/medium/kernel: PC-relative code and data, calls through PLT32 (no PLT is
    # made: the loader resolves them directly or through a stub); the guard-page state, an
    # external data symbol, through the GOT.
    ("x86_64", "small"): {R_X86_64_PC32, R_X86_64_PLT32, R_X86_64_REX_GOTPCRELX},
    ("x86_64", "medium"): {R_X86_64_PC32, R_X86_64_PLT32, R_X86_64_REX_GOTPCRELX},
    ("x86_64", "kernel"): {R_X86_64_PC32, R_X86_64_PLT32, R_X86_64_REX_GOTPCRELX},
    # x86_64 large, position independent: everything through the GOT with 64-bit offsets.
    ("x86_64", "large"): {R_X86_64_PC64, R_X86_64_GOTOFF64, R_X86_64_GOT64, R_X86_64_GOTPC64},
    ("aarch64", "small"): {R_AARCH64_ADR_PREL_PG_HI21, R_AARCH64_ADD_ABS_LO12_NC,
                           R_AARCH64_JUMP26, R_AARCH64_CALL26, R_AARCH64_LDST64_ABS_LO12_NC,
                           R_AARCH64_PREL32, R_AARCH64_ADR_GOT_PAGE,
                           R_AARCH64_LD64_GOT_LO12_NC},
}
# The large model's unwind tables address their functions with 64-bit offsets.
R_AARCH64_PREL64 = 260
RELOCATIONS[("aarch64", "large")] = RELOCATIONS[("aarch64", "small")] | {R_AARCH64_PREL64}
CALL_RELOCATION = {"x86_64": R_X86_64_PLT32, "aarch64": R_AARCH64_CALL26}


def wat2wasm(tmp_path, text, name="module"):
    source = tmp_path / f"{name}.wat"
    source.write_text(text)
    binary = tmp_path / f"{name}.wasm"
    subprocess.run(["wat2wasm", str(source), "-o", str(binary)], check=True)
    return binary.read_bytes()


@pytest.fixture(scope="module")
def mixed_wasm(tmp_path_factory):
    return wat2wasm(tmp_path_factory.mktemp("mixed"), MIXED_WAT)


# --- objects ---------------------------------------------------------------------------------

@pytest.mark.parametrize("size_level", range(4))
@pytest.mark.parametrize("opt_level", range(4))
@pytest.mark.parametrize("target", ["x86_64", "aarch64"])
def test_object_for_every_level(mixed_wasm, target, opt_level, size_level):
    obj = compile_wasm(mixed_wasm, CompileOptions(target=target, opt_level=opt_level,
                                                  size_level=size_level, format="object"))
    assert obj[:4] == b"\x7fELF"
    assert struct.unpack_from("<H", obj, 18)[0] == ELF_MACHINE[target]
    image = read_elf_object(obj, target)

    names = [section.name for section in image.sections]
    assert not [name for name in names if name.startswith((".note", ".comment"))]
    # The unwind tables a trap's backtrace is read with, ended by a zero word (traps.py).
    unwind_tables = [s for s in image.sections if s.name == aot_abi.UNWIND_TABLES_SECTION]
    assert len(unwind_tables) == 1 and unwind_tables[0].data.endswith(bytes(4))
    text = [s for s in image.sections if s.executable]
    assert text and all(not s.writable for s in text)

    module = decode_module(mixed_wasm)
    num_funcs = module.num_imported_funcs + len(module.funcs)
    defined = {s.name for s in image.symbols if s.section is not None}
    expected = ({f"aot_func_{i}" for i in range(module.num_imported_funcs, num_funcs)}
                | {f"aot_import_{i}" for i in range(module.num_imported_funcs)}
                | {f"aot_array_call_{t}" for t in range(len(module.types))})
    assert expected <= defined
    undefined = {s.name for s in image.symbols if s.section is None}
    assert undefined <= LIBC_SYMBOLS

    code_model = resolve_target(target, size_level=size_level).code_model
    types = {rel.type for rel in image.relocations}
    assert types <= RELOCATIONS[(target, code_model)], (code_model, types)
    if code_model == "large" and target == "x86_64":
        assert R_X86_64_GOT64 in types
    else:
        assert CALL_RELOCATION[target] in types
    for rel in image.relocations:
        assert 0 <= rel.offset < image.sections[rel.section].size
        assert 0 <= rel.symbol < len(image.symbols)


def test_code_models():
    models = [resolve_target("x86_64", size_level=s).code_model for s in range(4)]
    assert models == ["large", "medium", "kernel", "small"]
    models = [resolve_target("arm64", size_level=s).code_model for s in range(4)]
    assert models == ["large", "small", "small", "small"]
    assert resolve_target("arm64").triple == "aarch64-unknown-linux-gnu"
    assert resolve_target("aarch64-unknown-none-elf").arch == "aarch64"


def test_llvmir_format(mixed_wasm):
    import llvmlite.binding as llvm
    text = compile_wasm(mixed_wasm, CompileOptions(target="x86_64", format="llvmir")).decode()
    # The wasm calling convention: swiftcc with the ExecEnv as `swiftself` (signatures.py).
    assert re.search(r"define swiftcc i32 @aot_func_2\(ptr [^,]*swiftself", text)
    assert re.search(r"define swiftcc void @aot_func_7\(ptr [^,]*swiftself", text)  # swap
    llvm.parse_assembly(text).verify()


# --- compiled code, run by the loader ---------------------------------------------------------

def instantiate(wasm, opt_level, log=None, size_level=3, part_bytes=PART_BYTES):
    aot = compile_wasm(wasm, CompileOptions(opt_level=opt_level, size_level=size_level,
                                            part_bytes=part_bytes))
    imports = {"env": {
        "log": HostFunc(FuncType(("i32", "f64"), ()),
                        lambda a, b: log.append((a, b)) if log is not None else None),
        "pair": HostFunc(FuncType(("i32",), ("i32", "i64")), lambda x: (x + 1, 1 << 40)),
    }}
    return AotModule(aot).instantiate(imports)


@pytest.mark.parametrize("opt_level", [0, 3])
def test_aot_runs(mixed_wasm, opt_level):
    log = []
    exports = instantiate(mixed_wasm, opt_level, log).exports
    assert exports["fib"](20) == 6765
    assert [exports["pick"](i) for i in (0, 1, 4, 5, -1)] == [10, 20, 50, 50, 50]
    assert exports["scale"](2.0) == 2.0 * 3.3 + 0.1
    assert exports["swap"](7, -9) == (-9, 7)
    assert exports["pair_sum"](5) == 6 + (1 << 40)
    assert exports["dispatch"](0, 10) == 55          # table[0] = fib
    assert exports["dispatch"](1, 3) == 40           # table[1] = pick
    assert log == [(0, 10 * 3.3 + 0.1), (1, 3 * 3.3 + 0.1)]
    assert exports["counter"].value == 2
    memory = exports["memory"]
    memory.write(b"hello", 100)
    exports["copy"](200, 100, 5)
    assert memory.read(200, 205) == b"hello"


@pytest.mark.parametrize("format", ["object", "llvmir"])
def test_parts_linked_in_llvm(mixed_wasm, format):
    """--format object|llvmir link the parts into one LLVM module: with one function per
    part, every call crosses parts and is resolved there."""
    split = compile_wasm(mixed_wasm, CompileOptions(format=format, part_bytes=1))
    whole = compile_wasm(mixed_wasm, CompileOptions(format=format))
    assert split.count(b"aot_func_") == whole.count(b"aot_func_")
    if format == "llvmir":
        assert re.search(rb"declare [^\n]*@aot_func_", split) is None


def test_module_compiled_in_parts(mixed_wasm):
    """A big module is compiled a part at a time and the objects merged: with one function
    per part, every call crosses parts."""
    exports = instantiate(mixed_wasm, 3, part_bytes=1).exports
    assert exports["fib"](15) == 610
    assert exports["dispatch"](1, 0) == 10
    assert exports["pair_sum"](1) == 2 + (1 << 40)


@pytest.mark.parametrize("opt_level", [0, 3])
def test_aot_traps(mixed_wasm, opt_level):
    exports = instantiate(mixed_wasm, opt_level).exports
    cases = [
        (lambda: exports["div"](1, 0), "integer divide by zero"),
        (lambda: exports["div"](-2**31, -1), "integer overflow"),
        (lambda: exports["copy"](65536 - 4, 0, 5), "out of bounds memory access"),
        (lambda: exports["dispatch"](2, 0), "uninitialized element"),
        (lambda: exports["dispatch"](9, 0), "undefined element"),
    ]
    for call, message in cases:
        with pytest.raises(Trap) as info:
            call()
        assert info.value.message == message
    assert exports["div"](7, 2) == 3      # the instance still works after traps


@pytest.mark.parametrize("size_level", range(4))
def test_infinite_recursion_exhausts_the_stack(mixed_wasm, size_level):
    """At -O3 too: LLVM must not turn the self-call into a loop."""
    exports = instantiate(mixed_wasm, 3, size_level=size_level).exports
    with pytest.raises(Exhaustion):
        exports["runaway"]()


NAN_WAT = """
(module
  (func (export "mul_one") (param f32) (result f32) (f32.mul (local.get 0) (f32.const 1)))
  (func (export "div_neg1") (param f64) (result f64) (f64.div (local.get 0) (f64.const -1)))
  (func (export "neg0_sub") (param f32) (result f32) (f32.sub (f32.const -0) (local.get 0)))
  (func (export "promote_demote") (param f32) (result f32)
    (f32.demote_f64 (f64.promote_f32 (local.get 0))))
  (func (export "min") (param f32 f32) (result f32) (f32.min (local.get 0) (local.get 1)))
  (func (export "neg") (param f32) (result f32) (f32.neg (local.get 0)))
  (func (export "const") (result f32) (f32.const nan:0x200001)))
"""
F32_SNAN, F64_SNAN = 0x7FA00000, 0x7FF4000000000000


@pytest.mark.parametrize("opt_level", [0, 3])
def test_nan_bits(tmp_path, opt_level):
    """Arithmetic quiets a signalling NaN even where LLVM could fold the operation away;
    neg and constants keep the payload exactly."""
    wasm = wat2wasm(tmp_path, NAN_WAT)
    exports = AotModule(compile_wasm(wasm, CompileOptions(opt_level=opt_level))) \
        .instantiate({}).exports
    assert exports["mul_one"].call_bits([F32_SNAN])[0] & 0x7FC00000 == 0x7FC00000
    assert exports["div_neg1"].call_bits([F64_SNAN])[0] & (0xFFF << 51) == 0xFFF << 51
    assert exports["neg0_sub"].call_bits([F32_SNAN])[0] & 0x7FC00000 == 0x7FC00000
    assert exports["promote_demote"].call_bits([F32_SNAN])[0] & 0x7FC00000 == 0x7FC00000
    assert exports["min"].call_bits([F32_SNAN, 0x3F800000])[0] & 0x7FC00000 == 0x7FC00000
    assert exports["neg"].call_bits([F32_SNAN]) == [F32_SNAN | 0x80000000]
    assert exports["const"].call_bits([]) == [0x7FA00001]


# --- errors ----------------------------------------------------------------------------------

def test_malformed_module():
    with pytest.raises(MalformedModule):
        compile_wasm(b"\0asm\x02\0\0\0")


@pytest.mark.parametrize("options, message", [
    (dict(target="mips"), "unsupported target 'mips'"),
    (dict(target="x86_64-apple-darwin"), "does not produce ELF objects"),
    (dict(cpu="no-such-cpu"), "unknown CPU 'no-such-cpu'"),
    (dict(target="aarch64", cpu="native"), "--cpu native is this machine's CPU"),
    (dict(target="aarch64", cpu_features="+no-such-feature"), "unknown CPU feature"),
    (dict(cpu_features="avx2"), "bad CPU feature 'avx2'"),
    (dict(target="x86_64", cpu_features="-64bit"), "without 64bit"),
    (dict(opt_level=4), "--opt-level must be 0 to 3"),
    (dict(format="exe"), "unknown output format"),
])
def test_bad_options(mixed_wasm, options, message):
    with pytest.raises(CompileError, match=message):
        compile_wasm(mixed_wasm, CompileOptions(**options))


def run_pyaotc(*args, env=None):
    return subprocess.run([sys.executable, "-m", "pywamr.compiler", *map(str, args)],
                          capture_output=True, text=True, env=env)


def test_cli_writes_aot_next_to_input(tmp_path, mixed_wasm):
    source = tmp_path / "prog.wasm"
    source.write_bytes(mixed_wasm)
    result = run_pyaotc(source)
    assert result.returncode == 0, result.stderr
    aot = (tmp_path / "prog.aot").read_bytes()
    exports = AotModule(aot).instantiate({"env": {
        "log": HostFunc(FuncType(("i32", "f64"), ()), lambda a, b: None),
        "pair": HostFunc(FuncType(("i32",), ("i32", "i64")), lambda x: (x, x))}}).exports
    assert exports["fib"](10) == 55


def test_cli_verbose_reports_the_target_and_a_summary(tmp_path, mixed_wasm):
    source = tmp_path / "prog.wasm"
    source.write_bytes(mixed_wasm)
    result = run_pyaotc("-v", "--target", "aarch64", "--opt-level", "1", source)
    assert result.returncode == 0 and (tmp_path / "prog.aot").exists(), result.stderr
    lines = result.stderr.splitlines()
    assert lines[0].startswith("pyaotc: target aarch64-unknown-linux-gnu, cpu generic")
    assert lines[0].endswith("-O1")
    assert len(lines) == 2
    summary = re.fullmatch(r"pyaotc: 9 functions in 1 parts, -j1: [\d.]+ s CPU \((.*)\), "
                           r"[\d.]+ s wall, peak memory \d+ MB", lines[1])
    assert summary, lines[1]
    phases = [item.rsplit(" ", 1)[0] for item in summary.group(1).split(", ")]
    assert phases == ["decode and validate", "lower", "print IR", "parse IR", "optimize",
                      "generate code", "read ELF", "receive parts", "merge parts",
                      "write .aot"]


def test_both_tools_print_their_version():
    from importlib.metadata import version
    assert run_pyaotc("--version").stdout == f"pyaotc {version('pywamr')}\n"
    done = subprocess.run([sys.executable, "-m", "pywamr.loader", "--version"],
                          capture_output=True, text=True)
    assert done.returncode == 0 and done.stdout == f"pyiwasm {version('pywamr')}\n"


def test_cli_llvmir_to_stdout(tmp_path, mixed_wasm):
    source = tmp_path / "prog.wasm"
    source.write_bytes(mixed_wasm)
    result = run_pyaotc("--target", "aarch64", "--format", "llvmir", "-o", "-", source)
    assert result.returncode == 0, result.stderr
    assert 'target triple = "aarch64-unknown-linux-gnu"' in result.stdout


@pytest.mark.parametrize("args, status", [
    (["--no-such-option"], 2),
    (["--opt-level", "7"], 2),
    (["--format", "exe"], 2),
    (["--cpu", "no-such-cpu"], 1),
    (["--cpu", "native", "--target", "x86_64"], 1),
    (["--target", "riscv64"], 1),
])
def test_cli_option_errors(tmp_path, mixed_wasm, args, status):
    source = tmp_path / "prog.wasm"
    source.write_bytes(mixed_wasm)
    result = run_pyaotc(*args, source)
    assert result.returncode == status
    assert result.stderr.startswith("pyaotc: error: ")
    assert result.stderr.count("\n") == 1
    assert not (tmp_path / "prog.aot").exists()


def test_cli_bad_input_is_one_line(tmp_path):
    source = tmp_path / "bad.wasm"
    source.write_bytes(b"\0asm\x01\0\0\0\x01\x05\x01\x60\x01\x7f")   # truncated type section
    result = run_pyaotc(source)
    assert result.returncode == 1
    assert result.stderr.startswith("pyaotc: error: ") and result.stderr.count("\n") == 1
    result = run_pyaotc(tmp_path / "missing.wasm")
    assert result.returncode == 1 and "cannot read" in result.stderr


def test_cli_refuses_to_overwrite_input(tmp_path, mixed_wasm):
    source = tmp_path / "prog.wasm"
    source.write_bytes(mixed_wasm)
    result = run_pyaotc("-o", source, source)
    assert result.returncode == 2 and "overwrite" in result.stderr
    assert source.read_bytes() == mixed_wasm


def test_cli_reads_standard_input_given_an_output(tmp_path, mixed_wasm):
    out = tmp_path / "prog.aot"
    result = subprocess.run([sys.executable, "-m", "pywamr.compiler", "-o", str(out), "-"],
                            input=mixed_wasm, capture_output=True)
    assert result.returncode == 0, result.stderr
    assert out.read_bytes() == compile_wasm(mixed_wasm)
    result = run_pyaotc("-")
    assert (result.returncode, result.stderr) == (
        2, "pyaotc: error: reading the module from standard input (-) needs -o OUT\n")


def test_cli_without_llvmlite(tmp_path, mixed_wasm):
    """With llvmlite unimportable, the CLI names the extra to install, in one line."""
    source = tmp_path / "prog.wasm"
    source.write_bytes(mixed_wasm)
    code = ("import sys; sys.modules['llvmlite'] = None; "
            "from pywamr.compiler.cli import main; sys.exit(main(sys.argv[1:]))")
    result = subprocess.run([sys.executable, "-c", code, str(source)],
                            capture_output=True, text=True)
    assert result.returncode == 1
    assert result.stderr == ("pyaotc: error: the compiler needs llvmlite: "
                             "pip install 'pywamr[compiler]'\n")


class Terminal(io.StringIO):
    def isatty(self):
        return True


def test_progress_bar_on_a_terminal(mixed_wasm, monkeypatch):
    terminal = Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    compile_wasm(mixed_wasm, CompileOptions(part_bytes=1), show_progress=True)
    err = terminal.getvalue()
    done = len(decode_module(mixed_wasm).codes)
    assert "\r\033[Kdecoding and validating" in err
    assert f"processes [{'#' * 30}] {done}/{done}" in err or \
        f"process [{'#' * 30}] {done}/{done}" in err
    assert "\r\033[Kwriting the .aot file" in err and err.endswith("\r\033[K")


def test_progress_is_a_line_per_phase_elsewhere(mixed_wasm, capsys):
    compile_wasm(mixed_wasm, CompileOptions(part_bytes=1, jobs=2), show_progress=True)
    parts = len(decode_module(mixed_wasm).codes)
    assert capsys.readouterr().err == (
        "pyaotc: decoding and validating\n"
        f"pyaotc: compiling {parts} parts on 2 processes\n"
        "pyaotc: writing the .aot file\n")


def test_progress_silent_for_a_small_module(mixed_wasm, capsys):
    compile_wasm(mixed_wasm, CompileOptions())
    assert capsys.readouterr().err == ""


def test_host_target_is_native():
    """The architecture; the CPU and features are tests/test_host_cpu.py's."""
    assert resolve_target().arch == host_arch()
