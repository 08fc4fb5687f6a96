"""A trap says where: Trap.frames (innermost first: function index, name from the name
section, module offset of the instruction in the interpreter), Trap.code, and pyiwasm's
`wasm backtrace:` under the trap message, on both engines.

Compiled code records the frames on the native stack when it traps (compiler/traps.py;
capped at MAX_FRAMES, the rest counted); the interpreter reads the Python traceback. The
interpreter's offsets are checked against wasmtime's backtrace of the same module. At -O3
LLVM inlines small functions into their callers, which then stand for them: such a function
is no frame of its own, unless it is the one that trapped (`assert_frames`).
"""

import json
import re
import subprocess
import sys

import pytest

from pywamr.runtime.api import HostFunc
from pywamr.runtime.decoder import decode_module
from pywamr.runtime.errors import MAX_FRAMES, Exhaustion, Frame, Trap, TrapCode
from pywamr.runtime.interp import Module
from pywamr.runtime.opcodes import NAMES as OPCODES
from pywamr.runtime.types import FuncType

from module_text import wasm
from pyiwasm_support import TRAP_STATUS, engine_flags, pyiwasm

CHAIN = """(module
  (import "host" "call_back" (func $call_back (param i32) (result i32)))
  (import "host" "raise" (func $raise (param i32) (result i32)))
  (type $i32_to_i32 (func (param i32) (result i32)))
  (memory 1)
  (table funcref (elem $c $a))
  (data $seg "xyz")
  (func $a (export "a") (param i32) (result i32) (call $b (local.get 0)))
  (func $b (param i32) (result i32) (i32.add (call $c (local.get 0)) (i32.const 1)))
  (func $c (export "c") (param i32) (result i32) (i32.div_s (i32.const 7) (local.get 0)))
  (func $recurse (export "recurse") (param i32) (result i32)
    (i32.add (call $recurse (local.get 0)) (i32.const 1)))
  (func $via_table (export "via_table") (param i32 i32) (result i32)
    (call_indirect (type $i32_to_i32) (local.get 0) (local.get 1)))
  (func $via_host (export "via_host") (param i32) (result i32)
    (i32.add (call $call_back (local.get 0)) (i32.const 1)))
  (func $host_raises (export "host_raises") (param i32) (result i32)
    (call $raise (local.get 0)))
  (func $init_past_end (export "init_past_end") (param i32)
    (memory.init $seg (local.get 0) (i32.const 0) (i32.const 3)))
)"""

NAMES = {2: "a", 3: "b", 4: "c", 5: "recurse", 6: "via_table", 7: "via_host",
         8: "host_raises", 9: "init_past_end"}


def chain_module(engine, opt_level=3):
    binary = wasm(CHAIN)
    if engine == "interp":
        return Module(binary)
    pytest.importorskip("llvmlite")
    from pywamr.compiler.driver import CompileOptions, compile_wasm
    from pywamr.loader.aot_module import AotModule
    return AotModule(compile_wasm(binary, CompileOptions(opt_level=opt_level)))


ENGINES = [("interp", None), ("aot", 0), ("aot", 3)]


@pytest.fixture(params=ENGINES, ids=lambda p: p[0] + ("" if p[1] is None else f"-O{p[1]}"))
def exports(request):
    engine, opt_level = request.param
    holder = {}

    def call_back(n):
        return holder["exports"]["a"](n)

    def raise_trap(n):
        raise Trap("raised by the host")

    imports = {"host": {
        "call_back": HostFunc(FuncType(("i32",), ("i32",)), call_back),
        "raise": HostFunc(FuncType(("i32",), ("i32",)), raise_trap)}}
    holder["exports"] = Exports(chain_module(engine, opt_level).instantiate(imports).exports)
    holder["exports"].inlines = opt_level == 3
    return holder["exports"]


def trap_of(function, *args):
    with pytest.raises(Trap) as raised:
        function(*args)
    return raised.value


def functions(trap):
    return [(frame.func_index, frame.name) for frame in trap.frames]


def named(*indices):
    return [(index, NAMES[index]) for index in indices]


def is_subsequence(frames, chain):
    rest = iter(chain)
    return all(frame in rest for frame in frames)


def assert_chain(frames, chain, inlines):
    """`frames` is the call chain `chain` (innermost first), or, where LLVM `inlines`, the
    chain without some of its callers but with its innermost and outermost functions."""
    if inlines:
        assert frames[:1] == chain[:1] and frames[-1:] == chain[-1:], frames
        assert is_subsequence(frames, chain), frames
    else:
        assert frames == chain


def assert_frames(exports, trap, *indices):
    assert_chain(functions(trap), named(*indices), exports.inlines)


class Exports(dict):
    """An instance's exports, and whether LLVM may have inlined functions (AOT -O3)."""
    inlines = False


def test_three_deep_chain(exports):
    trap = trap_of(exports["a"], 0)
    assert trap.code is TrapCode.INTEGER_DIVIDE_BY_ZERO
    assert trap.message == "integer divide by zero"
    assert_frames(exports, trap, 4, 3, 2)
    assert trap.more_frames == 0
    assert exports["a"](1) == 8


def test_stack_exhaustion_keeps_the_innermost_frames(exports):
    trap = trap_of(exports["recurse"], 0)
    assert isinstance(trap, Exhaustion) and trap.code is TrapCode.CALL_STACK_EXHAUSTED
    assert functions(trap) == named(5) * MAX_FRAMES
    assert trap.more_frames > 1000


def test_frames_do_not_leak_into_the_next_trap(exports):
    trap_of(exports["recurse"], 0)
    assert functions(trap_of(exports["c"], 0)) == named(4)
    assert_frames(exports, trap_of(exports["a"], 0), 4, 3, 2)


def test_call_indirect(exports):
    assert functions(trap_of(exports["via_table"], 0, 0)) == named(4, 6)      # c traps
    assert_frames(exports, trap_of(exports["via_table"], 0, 1), 4, 3, 2, 6)
    trap = trap_of(exports["via_table"], 0, 2)                                # no element
    assert (trap.code, functions(trap)) == (TrapCode.UNDEFINED_ELEMENT, named(6))


def test_through_a_host_function(exports):
    """wasm -> host -> wasm: the inner frames, then the outer ones (the host has none)."""
    trap = trap_of(exports["via_host"], 0)
    assert trap.code is TrapCode.INTEGER_DIVIDE_BY_ZERO
    assert_frames(exports, trap, 4, 3, 2, 7)
    assert exports["via_host"](1) == 9


def test_trap_raised_by_a_host_function(exports):
    trap = trap_of(exports["host_raises"], 0)
    assert (trap.message, trap.code) == ("raised by the host", None)
    assert functions(trap) == named(8)


def test_trap_raised_by_a_runtime_helper(exports):
    trap = trap_of(exports["init_past_end"], 65535)
    assert (trap.code, functions(trap)) == (TrapCode.OUT_OF_BOUNDS_MEMORY, named(9))


# wasmtime runs in a child process: a wasmtime that has compiled and trapped in this process
# would be inherited, half working, by the children the fuzz tests fork.
WASMTIME_FRAMES = """
import json, sys, wasmtime
store = wasmtime.Store()
module = wasmtime.Module(store.engine, sys.stdin.buffer.read())
i32 = wasmtime.ValType.i32()
imports = [wasmtime.Func(store, wasmtime.FuncType([i32], [i32]), lambda n: n)
           for _ in module.imports]
instance = wasmtime.Instance(store, module, imports)
try:
    instance.exports(store)[sys.argv[1]](store, int(sys.argv[2]))
except wasmtime.Trap as trap:
    print(json.dumps([[f.func_index, f.func_name, f.module_offset] for f in trap.frames]))
"""


def wasmtime_frames(wasm_bytes, export, arg):
    """The frames of wasmtime's trap from calling `export` with `arg` (imports: identity)."""
    pytest.importorskip("wasmtime")
    done = subprocess.run([sys.executable, "-c", WASMTIME_FRAMES, export, str(arg)],
                          input=wasm_bytes, capture_output=True, check=True)
    return [Frame(*frame) for frame in json.loads(done.stdout)]


def test_interpreter_offsets_are_wasmtime_offsets():
    expected = wasmtime_frames(wasm(CHAIN), "a", 0)
    trap = trap_of(Module(wasm(CHAIN)).instantiate({"host": {
        "call_back": HostFunc(FuncType(("i32",), ("i32",)), int),
        "raise": HostFunc(FuncType(("i32",), ("i32",)), int)}}).exports["a"], 0)
    assert trap.frames == expected


FOLDED_LOADS = """(module
  (memory 1)
  (data (i32.const 16) "\\ff\\ff\\ff\\ff")
  (func (export "first") (param i32)
    (i32.store (i32.const 0) (i32.add (i32.load (local.get 0)) (i32.load (i32.const 4)))))
  (func (export "second") (param i32)
    (i32.store (i32.const 0) (i32.add (i32.load (i32.const 4)) (i32.load (local.get 0)))))
  (func (export "store") (param i32)
    (i32.store (local.get 0) (i32.add (i32.load (i32.const 0)) (i32.load (i32.const 4)))))
  (func (export "address") (param i32) (result i32)
    (i32.load8_u (i32.load (local.get 0))))
  (func (export "add_to") (param i32)
    (f64.store (local.get 0) (f64.add (f64.load (local.get 0)) (f64.load (i32.const 8)))))
  (func (export "lanes") (param i32)
    (v128.store (i32.const 0)
      (i32x4.mul (v128.load16x4_s (i32.const 0)) (v128.load16x4_s (local.get 0))))))"""


@pytest.mark.parametrize("export, arg, instruction, nth", [
    ("first", 65536, "i32.load", 0), ("second", 65536, "i32.load", 1),
    ("store", 65536, "i32.store", 0), ("address", 16, "i32.load8_u", 0),
    ("address", 65536, "i32.load", 0), ("add_to", 65536, "f64.load", 0),
    ("lanes", 65532, "v128.load16x4_s", 1)])
def test_interpreter_offset_of_a_load_folded_into_a_later_line(export, arg, instruction, nth):
    """A load is evaluated in the line of the instruction that uses it (`x[0] = y[i] + z`):
    a trap in it has the load's offset, found from the columns CPython says failed.
    (Not compared with wasmtime: Cranelift reports `second` at the i32.add and the inner
    load of `address` at the outer one.)"""
    binary = wasm(FOLDED_LOADS)
    module = Module(binary)
    index = list(module.instantiate().exports).index(export)
    trap = trap_of(module.instantiate().exports[export], arg)
    offsets = [instr.offset for instr in decode_module(binary).codes[index].body
               if instr.op == OPCODES[instruction]]
    assert trap.code is TrapCode.OUT_OF_BOUNDS_MEMORY
    assert trap.frames == [Frame(index, None, offsets[nth])]
    assert not re.search(r"\bs\d+ = ", module.function_source(index))   # all folded


def test_interpreter_offset_in_an_outlined_part():
    """Constructs nested too deep for Python run in functions of their own (outlined parts):
    the frame is still the wasm function's, at the instruction inside the part."""
    text = ('(module (func $deep (export "deep") (param i32) (result i32)'
            + " (if (i32.eqz (local.get 0)) (then" * 60
            + " (drop (i32.div_u (i32.const 1) (local.get 0)))" + "))" * 60
            + " (i32.const 0)))")
    expected = wasmtime_frames(wasm(text), "deep", 0)
    module = Module(wasm(text))
    trap = trap_of(module.instantiate().exports["deep"], 0)
    assert "def f0_1(" in module.function_source(0)
    assert trap.frames == expected


@pytest.mark.parametrize("subsection", [
    bytes([1, 3, 5, 0, 1]),          # claims 5 names, has part of one
    bytes([1, 9, 1, 0, 1]) + b"f",   # runs past the end of the section
], ids=["names cut short", "subsection too long"])
def test_malformed_name_section_is_ignored(subsection):
    """A malformed name section names nothing (spec 7.4: custom sections are not
    validated); the module still runs, its frames without names, on both engines."""
    payload = bytes([4]) + b"name" + subsection
    broken = wasm(UNNAMED) + bytes([0, len(payload)]) + payload
    frames = [trap_of(Module(broken).instantiate().exports["f"]).frames]
    pytest.importorskip("llvmlite")
    from pywamr.compiler.driver import compile_wasm
    from pywamr.loader.aot_module import AotModule
    frames.append(trap_of(AotModule(compile_wasm(broken)).instantiate().exports["f"]).frames)
    assert [[frame.name for frame in each] for each in frames] == [[None], [None]]
    assert wasm(UNNAMED).count(b"name") == 0


UNNAMED = "(module (func (export \"f\") unreachable))"


# --- pyiwasm ----------------------------------------------------------------------------------

PROGRAM = """(module
  (func $a (export "a") (param i32) (result i32) (call $b (local.get 0)))
  (func $b (param i32) (result i32) (i32.add (call $c (local.get 0)) (i32.const 1)))
  (func $c (param i32) (result i32) (i32.div_s (i32.const 7) (local.get 0)))
  (func $recurse (export "recurse") (param i32) (result i32)
    (i32.add (call $recurse (local.get 0)) (i32.const 1))))"""


@pytest.fixture(scope="module")
def program_files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("backtraces")
    files = {"interp": folder / "program.wasm"}
    files["interp"].write_bytes(wasm(PROGRAM))
    pytest.importorskip("llvmlite")
    for level in (0, 3):
        files[f"aot-O{level}"] = folder / f"program-O{level}.aot"
        subprocess.run([sys.executable, "-m", "pywamr.compiler", "--opt-level", str(level),
                        "-o", files[f"aot-O{level}"], files["interp"]], check=True)
    return files


@pytest.mark.parametrize("engine", ["interp", "aot-O0", "aot-O3"])
def test_pyiwasm_prints_the_backtrace(program_files, engine):
    done = pyiwasm("-f", "a", *engine_flags(program_files[engine]), program_files[engine], 0)
    assert (done.returncode, done.stdout) == (TRAP_STATUS, b"")
    # The interpreter's offsets are wasmtime's for this module (wasm-tools parse).
    offsets = [" at 0x42", " at 0x36", " at 0x2f"] if engine == "interp" else [""] * 3
    report = done.stderr.decode().splitlines()
    assert report[:2] == ["pyiwasm: wasm trap: integer divide by zero", "wasm backtrace:"]
    assert [line.split(": ", 1)[0] for line in report[2:]] == \
        [f"    {i}" for i in range(len(report) - 2)]
    frames = [line.split(": ", 1)[1] for line in report[2:]]
    assert_chain(frames, [f'func 2 "c"{offsets[0]}', f'func 1 "b"{offsets[1]}',
                          f'func 0 "a"{offsets[2]}'], engine == "aot-O3")


@pytest.mark.parametrize("engine", ["interp", "aot-O3"])
def test_pyiwasm_caps_the_backtrace_of_exhaustion(program_files, engine):
    done = pyiwasm("-f", "recurse", *engine_flags(program_files[engine]),
                   program_files[engine], 0)
    report = done.stderr.decode().splitlines()
    assert done.returncode == TRAP_STATUS
    assert report[:2] == ["pyiwasm: wasm trap: call stack exhausted", "wasm backtrace:"]
    assert [line.split(" at ")[0] for line in report[2:-1]] == \
        [f'    {i}: func 3 "recurse"' for i in range(MAX_FRAMES)]
    assert report[-1].startswith("    ... ") and report[-1].endswith(" more frames")


# --- AArch64 ----------------------------------------------------------------------------------

FRAMES_OF_A = r"""
import json, sys
from pywamr.loader.aot_module import AotModule
from pywamr.runtime.errors import Trap
try:
    AotModule(open(sys.argv[1], "rb").read()).instantiate().exports["a"](0)
except Trap as trap:
    print(json.dumps([trap.code.name, [list(frame) for frame in trap.frames]]))
"""


@pytest.mark.parametrize("opt_level", [0, 3])
def test_frames_on_arm64(tmp_path, opt_level):
    pytest.importorskip("llvmlite")
    from arm64_qemu import run_arm64_python
    from pywamr.compiler.driver import CompileOptions, compile_wasm
    path = tmp_path / "program-aarch64.aot"
    path.write_bytes(compile_wasm(wasm(PROGRAM), CompileOptions(target="aarch64",
                                                                opt_level=opt_level)))
    code, frames = json.loads(run_arm64_python(["-c", FRAMES_OF_A, str(path)]))
    assert code == "INTEGER_DIVIDE_BY_ZERO"
    assert_chain(frames, [[2, "c", None], [1, "b", None], [0, "a", None]], opt_level == 3)
