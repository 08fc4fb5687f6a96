"""pyiwasm: run a WebAssembly program, compiled: a .aot file, or a .wasm module compiled
through the compile cache (loader/cached_compile.py); or with the interpreter (--interp,
or where the compiler is not installed).

Start-up time matters: a hello world should start within a few milliseconds of `python3 -c
pass` (benchmarks/test_startup.py). So this module imports nothing at the top but os and
sys, which Python has loaded already, and then just the engine the file needs: the AOT
loader for a .aot file or a compiled .wasm, the interpreter for --interp; never the
compiler or llvmlite, which compile a .wasm in a child process. The usual command
line, FILE and its arguments, is read without argparse (which with gettext, locale and
shutil costs milliseconds); a .aot file's module is read from records with struct, not
decoded and validated as wasm (docs/aot-format.md, "Module"); the WASI host makes only the
calls the program imports; and the command ends the process without Python's finalisation
(command()). What a .aot start-up still costs is mostly imports: ctypes, and some forty
small modules of the loader, the runtime and the WASI host (about 40 us each to find and
load, and 10 us per class they define), then a millisecond or two to check, map and
instantiate the file. A .wasm found in the compile cache adds the hash of the module.
CPU time of a process this short varies by a third from hour to hour on a shared machine;
instructions do not: valgrind counts 33.5 million more for `pyiwasm hello.aot` than for
`python3 -c pass` (which also spends 18 million on the finalisation pyiwasm skips).

Exit status: the program's own (proc_exit, or 0 when _start returns); 134 after a trap (like
wasmtime, the status of an abort; the one-line message is followed by the wasm backtrace),
--timeout's included; 130 after Ctrl-C (SIGINT, which stops compiled code too:
loader/interruption.py); 1 for any error before or around the run (a bad file, a missing
import, a bad flag value, memory that cannot be had); 2 for a bad command line (argparse).
"""

import os
import sys

TRAP_STATUS = 134
ERROR_STATUS = 1
INTERRUPTED_STATUS = 130
INTERNAL_ERROR_STATUS = 70       # EX_SOFTWARE: a bug in pyiwasm itself

WASM_MAGIC = b"\0asm"

# The interpreter bounds recursion by call depth, not bytes: --stack-size is turned into a
# depth by assuming this many bytes per frame (about a small C function's wasm frame).
INTERP_FRAME_BYTES = 128


class UsageError(Exception):
    """A flag value or file pyiwasm cannot use; reported as one `pyiwasm: error:` line."""


class Options:
    """What the command line asks for. The defaults are set here only: argparse, given an
    Options, leaves the attributes it finds alone unless a flag sets them."""

    def __init__(self, file=None, args=()):
        self.file = file
        self.args = list(args)
        self.interp = False
        self.no_cache = False
        self.function = None
        self.stack_size = None
        self.timeout = None
        self.fuel = None
        self.max_memory_size = None
        self.dir = []
        self.map_dir = []
        self.env = []
        self.unknown_imports = None     # runtime/unknown_imports.py: TRAP or DEFAULT_VALUES
        self.preload = []
        self.verbose = False


def parse_args(argv):
    """The Options of `argv`. Without a flag before FILE every later word is an argument of
    the program, so argparse is needed only when argv starts with a flag (or FILE is followed
    by `--`, which argparse drops)."""
    if argv and not argv[0].startswith("-") and argv[1:2] != ["--"]:
        return Options(argv[0], argv[1:])
    return build_parser().parse_args(argv, Options())


def build_parser():
    import argparse
    parser = argparse.ArgumentParser(
        prog="pyiwasm",
        description="Run a WebAssembly program with WASI (wasi_snapshot_preview1). FILE is a "
                    ".aot file made by pyaotc, or a .wasm module, which is compiled as "
                    "pyaotc would (with --fuel if given), once: the .aot file is kept in the "
                    "compile cache for the next run. Without the compiler (pip install "
                    "'pywamr[compiler]') a .wasm module runs in the interpreter. The kind is "
                    "told by the file's content, not its name.",
        epilog="The program sees no file system and no environment unless granted with "
               "--dir, --map-dir and --env. The compile cache is $PYWAMR_CACHE_DIR, else "
               "$XDG_CACHE_HOME/pywamr, else ~/.cache/pywamr; it keeps at most "
               "$PYWAMR_CACHE_MAX_BYTES bytes (default 512 MiB), the least recently used "
               "entries going first. Exit status: the program's own; 134 after a trap; 1 on "
               "an error such as a malformed file, a missing import or too little memory.")
    from pywamr.runtime import add_version_flag
    add_version_flag(parser)
    parser.add_argument("--interp", action="store_true",
                        help="run FILE, which must be a .wasm module, with the pure-Python "
                             "interpreter instead of compiling it")
    parser.add_argument("--no-cache", action="store_true",
                        help="compile a .wasm FILE afresh, neither reading nor writing the "
                             "compile cache")
    parser.add_argument("-f", "--function", "--invoke", metavar="NAME",
                        help="call the exported function NAME instead of _start; ARGS are its "
                             "arguments, parsed by its parameter types (integers and v128 "
                             "in decimal or 0x hex, a v128's lane 0 in the low bits; floats "
                             "also as nan, inf, -inf or hex floats); each result is printed "
                             "on its own line, a v128 as 32 hex digits")
    parser.add_argument("--stack-size", type=int, metavar="N",
                        help="stack size in bytes: the native stack given to compiled code; "
                             "with the interpreter, it allows N/%d nested calls"
                             % INTERP_FRAME_BYTES)
    parser.add_argument("--timeout", type=float, metavar="SECONDS",
                        help="end the run with the trap 'interrupted: timeout of SECONDS s' "
                             "once it has run that long (a .aot file needs the interrupt "
                             "checks pyaotc compiles in by default)")
    parser.add_argument("--fuel", type=int, metavar="N",
                        help="end the run with the trap 'all fuel consumed' once it would "
                             "execute more than N instructions (runtime/fuel.py); -v prints "
                             "the count. A .aot file must be compiled with pyaotc --fuel; a "
                             ".wasm FILE is compiled so")
    parser.add_argument("--max-memory-size", type=int, metavar="BYTES",
                        help="let the program's memory grow to at most BYTES (whole 64 KiB "
                             "pages); memory.grow fails (returns -1) beyond it")
    parser.add_argument("--dir", action="append", metavar="PATH",
                        help="give the program the host directory PATH, which it sees as "
                             "PATH (repeatable)")
    parser.add_argument("--map-dir", action="append", metavar="GUEST::HOST",
                        help="give the program the host directory HOST, which it sees as "
                             "GUEST (repeatable)")
    parser.add_argument("--env", action="append", metavar="NAME=VALUE",
                        help="set an environment variable for the program (repeatable); "
                             "a bare NAME passes on pyiwasm's own value, if it has one; the "
                             "program inherits nothing else")
    parser.add_argument("--preload", action="append", metavar="NAME=FILE.py",
                        help="make the functions of the Python file FILE.py the imports of "
                             "module NAME: each import NAME.F calls F with the import's "
                             "parameters as Python numbers (repeatable)")
    from pywamr.runtime.unknown_imports import DEFAULT_VALUES, TRAP
    unknown = parser.add_mutually_exclusive_group()
    unknown.add_argument("--trap-unknown-imports", dest="unknown_imports",
                         action="store_const", const=TRAP,
                         help="define each imported function nobody provides as one that "
                              "traps when called, instead of refusing the module")
    unknown.add_argument("--default-values-unknown-imports", dest="unknown_imports",
                         action="store_const", const=DEFAULT_VALUES,
                         help="define each imported function nobody provides as one that "
                              "returns zeros (null references)")
    parser.add_argument("-v", "--verbose", action="store_true",
                        help="report the engine, whether a .wasm FILE was found in the compile "
                             "cache or compiled (and how long that took), and the load and run "
                             "times on stderr")
    parser.add_argument("file", metavar="FILE",
                        help="the .aot, .wasm or .wat file to run (.wat needs wasm-tools)")
    parser.add_argument("args", nargs=argparse.REMAINDER, metavar="ARGS",
                        help="arguments for the program (argv[1:], after FILE's name as "
                             "argv[0]) or, with -f, for the function")
    return parser


def parse_preopens(options):
    """[(guest path, host path)] from --dir and --map-dir, in command-line order per flag."""
    preopens = [(path, path) for path in options.dir]
    for mapping in options.map_dir:
        guest, separator, host = mapping.partition("::")
        if not separator or not guest or not host:
            raise UsageError(f"bad --map-dir {mapping!r}: expected GUEST::HOST")
        preopens.append((guest, host))
    return preopens


def parse_env(assignments):
    """The program's environment: NAME=VALUE, or NAME for pyiwasm's own value (as wasmtime's
    --env NAME; nothing when pyiwasm has none)."""
    env = {}
    for assignment in assignments:
        name, separator, value = assignment.partition("=")
        if not name:
            raise UsageError(f"bad --env {assignment!r}: expected NAME=VALUE or NAME")
        if separator:
            env[name] = value
        elif name in os.environ:
            env[name] = os.environ[name]
    return env


def parse_value(valtype, text):
    """A command-line argument -> the bit pattern of a `valtype` value."""
    import struct
    try:
        if valtype in ("i32", "i64", "v128"):
            bits = {"i32": 32, "i64": 64, "v128": 128}[valtype]
            value = int(text, 0)
            if not -(1 << (bits - 1)) <= value < (1 << bits):
                raise ValueError("out of range")
            return value & ((1 << bits) - 1)
        if valtype in ("f32", "f64"):
            try:
                value = float(text)               # decimal, nan, inf, -inf
            except ValueError:
                value = float.fromhex(text)       # 0x1.8p1
            if valtype == "f64":
                return struct.unpack("<Q", struct.pack("<d", value))[0]
            return struct.unpack("<I", struct.pack("<f", value))[0]
    except (ValueError, OverflowError):
        raise UsageError(f"bad {valtype} argument {text!r}") from None
    raise UsageError(f"cannot pass a {valtype} value from the command line")


def format_value(valtype, bits):
    """A result's bit pattern -> the text printed for it: integers in signed decimal, floats
    as the shortest decimal that reads back to the same value, NaNs as nan or nan:0xPAYLOAD
    (spec-test notation) when the payload is not the canonical one."""
    import math
    import struct
    if valtype in ("i32", "i64"):
        width = 32 if valtype == "i32" else 64
        return str(bits - (1 << width) if bits >> (width - 1) else bits)
    if valtype in ("f32", "f64"):
        if valtype == "f32":
            value = struct.unpack("<f", struct.pack("<I", bits))[0]
            sign, payload, quiet = bits >> 31, bits & 0x7FFFFF, 0x400000
        else:
            value = struct.unpack("<d", struct.pack("<Q", bits))[0]
            sign, payload, quiet = bits >> 63, bits & 0xFFFFFFFFFFFFF, 0x8000000000000
        if math.isnan(value):
            text = "nan" if payload == quiet else f"nan:{payload:#x}"
            return "-" + text if sign else text
        if valtype == "f32" and not math.isinf(value):
            for digits in range(1, 10):     # the shortest that round-trips through f32
                short = float(f"{value:.{digits}g}")
                if struct.pack("<f", short) == struct.pack("<f", value):
                    value = short
                    break
        return repr(value)
    if valtype == "v128":
        return f"{bits:#034x}"
    return "null" if bits is None else "ref"


def load_instance(data, options, host):
    """Pick the engine by the file's magic and the flags, load the module and instantiate
    it with the WASI host's functions."""
    settings = {"max_memory_size": options.max_memory_size}
    if data[:1] != b"\0":       # neither binary (.wasm, .aot) begins otherwise
        from pywamr.runtime.text_format import is_text, text_to_binary
        if is_text(data):
            data = text_to_binary(data)
    if data[:4] == WASM_MAGIC and not options.interp:
        from pywamr.loader.cached_compile import compiled_module
        module = compiled_module(data, options)
        if module is not None:
            return "AOT loader", instantiate_aot(module, options, host, settings)
    if data[:4] == WASM_MAGIC:
        from pywamr.runtime.interp import Module
        module = Module(data, fuel=options.fuel is not None)
        if options.stack_size is not None:
            settings["max_call_depth"] = max(1, options.stack_size // INTERP_FRAME_BYTES)
        return "interpreter", module.instantiate(imports(host, module.decoded, options),
                                                 **settings)
    if options.interp:
        raise UsageError(f"{options.file}: --interp needs a WebAssembly (.wasm) module")
    from pywamr.loader.aot_module import AotModule
    return "AOT loader", instantiate_aot(AotModule(data), options, host, settings)


def instantiate_aot(module, options, host, settings):
    """An instance of the AotModule `module`, once its code is known to obey the flags."""
    if options.timeout is not None and not module.target.interrupt_checks:
        raise UsageError(f"{options.file} was compiled with --interrupt-checks off: "
                         "--timeout cannot stop it")
    if options.fuel is not None and not module.target.fuel:
        raise UsageError(f"{options.file} was compiled without fuel counting: --fuel needs "
                         "pyaotc --fuel")
    if options.stack_size is not None:
        settings["stack_size"] = options.stack_size
    return module.instantiate(imports(host, module.module, options), **settings)


def preloaded(name, path, module):
    """{field: HostFunc} for the functions `module` imports from `name`, taken from the
    Python file at `path`: each a function of the file, typed as the import declares."""
    import runpy
    from pywamr.runtime.api import host_functions
    try:
        namespace = runpy.run_path(path)
    except OSError as error:
        raise UsageError(f"cannot read --preload file {path}: {error.strerror}") from None
    except Exception as error:      # the file's own code failed as it was run
        raise UsageError(f"--preload file {path}: {type(error).__name__}: {error}") from None
    return host_functions(module, name, namespace, adapt=failing_as_trap)


def failing_as_trap(where, function):
    """`function`, with an exception it raises turned into a trap that names it, as
    wasmtime reports a host function's error: the run ends with status 134, not as if
    pyiwasm itself had failed."""
    from pywamr.runtime.errors import Trap, WasmException

    def call(*args):
        try:
            return function(*args)
        except (Trap, WasmException):     # a WasmException is thrown into wasm
            raise
        except Exception as error:
            raise Trap(f"host function {where} failed: {type(error).__name__}: {error}") \
                from error
    return call


def imports(host, module, options):
    """The imports object of `module` (a runtime Module): what the WASI host gives it, the
    --preload files' functions, and functions made up for the other imports under
    --trap-unknown-imports or --default-values-unknown-imports."""
    provided = host.imports_of(module)
    for assignment in options.preload:
        name, separator, path = assignment.partition("=")
        if not separator or not name or not path:
            raise UsageError(f"bad --preload {assignment!r}: expected NAME=FILE.py")
        provided[name] = preloaded(name, path, module)
    if options.unknown_imports is not None:
        from pywamr.runtime.unknown_imports import define_unknown_imports
        define_unknown_imports(module, provided, options.unknown_imports)
    return provided


def call_function(instance, name, texts):
    """-f NAME ARGS: call the export with parsed arguments and print its results."""
    func = instance.exports.get(name)
    if func is None or not hasattr(func, "call_bits"):
        raise UsageError(f"no exported function {name!r}")
    params = func.type.params
    if len(texts) != len(params):
        raise UsageError(f"{name} takes {len(params)} argument(s) ({' '.join(params)}), "
                         f"got {len(texts)}")
    args = [parse_value(valtype, text) for valtype, text in zip(params, texts)]
    results = func.call_bits(args)
    for valtype, bits in zip(func.type.results, results):
        print(format_value(valtype, bits))


def execute(instance, options):
    """Run _start, or -f NAME after _initialize (the WASI reactor convention)."""
    if options.function:
        initialize = wasi_entry(instance, "_initialize", options)
        if initialize is not None:
            initialize.call_bits([])
        call_function(instance, options.function, options.args)
        return
    start = wasi_entry(instance, "_start", options)
    if start is None:
        raise UsageError(f"{options.file} exports no _start function "
                         "(use -f NAME to call another export)")
    start.call_bits([])


def wasi_entry(instance, name, options):
    """The export `name` (_start or _initialize), or None; WASI has it take and return
    nothing, and anything else exported under that name is refused."""
    func = instance.exports.get(name)
    if func is not None and (not hasattr(func, "call_bits") or func.type.params
                             or func.type.results):
        raise UsageError(f"{options.file}: its {name} export is not a function of type "
                         "[] -> []")
    return func


def run(options):
    """Load, instantiate and run; return the exit status. Errors propagate to main()."""
    import contextlib
    import time
    from pywamr.runtime.wasi import WasiHost

    preopens = parse_preopens(options)
    env = parse_env(options.env)
    if options.stack_size is not None and options.stack_size <= 0:
        raise UsageError(f"bad --stack-size {options.stack_size}: must be positive")
    if options.timeout is not None and not options.timeout > 0:
        raise UsageError(f"bad --timeout {options.timeout:g}: must be positive")
    if options.fuel is not None and options.fuel < 0:
        raise UsageError(f"bad --fuel {options.fuel}: must not be negative")
    if options.max_memory_size is not None and options.max_memory_size < 0:
        raise UsageError(f"bad --max-memory-size {options.max_memory_size}: must not be "
                         "negative")
    try:
        with open(options.file, "rb") as file:
            data = file.read()
    except OSError as error:
        raise UsageError(f"cannot read {options.file}: {error.strerror}") from None
    program_args = [] if options.function else options.args
    limits = contextlib.nullcontext()
    if options.timeout is not None or options.fuel is not None:
        from pywamr.runtime.limits import Limits
        limits = Limits(timeout=options.timeout, fuel=options.fuel)
    started = time.perf_counter()
    try:
        with WasiHost([options.file] + program_args, env, preopens) as host, limits:
            return _run_in(host, data, options, started)
    finally:
        if options.verbose and options.fuel is not None:
            print(f"pyiwasm: fuel consumed: {limits.fuel_consumed}", file=sys.stderr,
                  flush=True)


def _run_in(host, data, options, started):
    """The run inside the WASI host and the limits."""
    import time
    from pywamr.runtime.api import Memory
    from pywamr.runtime.errors import Trap, WasiExit, WasmError, WasmException
    status = 0
    try:
        try:
            engine, instance = load_instance(data, options, host)
        except (Trap, WasiExit, WasmException):
            raise                 # from a start function: the program's own doing
        except WasmError as error:    # malformed, invalid, bad .aot, link error
            raise UsageError(f"{options.file}: {error}") from None
        memory = instance.exports.get("memory")
        if memory is not None:
            if not isinstance(memory, Memory):
                raise UsageError(f"{options.file}: its memory export is not a memory")
            host.bind_memory(memory)
        loaded = time.perf_counter()
        if options.verbose:
            print(f"pyiwasm: {options.file}: {engine}, loaded in "
                  f"{(loaded - started) * 1e3:.1f} ms", file=sys.stderr, flush=True)
        execute(instance, options)
    except WasiExit as exit_request:
        status = exit_request.code & 0xFF     # what the OS keeps of it, as natively
    if options.verbose:
        print(f"pyiwasm: ran in {(time.perf_counter() - started) * 1e3:.1f} ms in all, "
              f"exit status {status}", file=sys.stderr, flush=True)
    return status


def main(argv=None):
    options = parse_args(sys.argv[1:] if argv is None else argv)
    from pywamr.runtime.errors import Trap, WasmError, WasmException
    try:
        status = run(options)
    except Trap as trap:
        status = _report("wasm trap", trap, TRAP_STATUS)
        if trap.frames and sys.stderr is not None:
            print(trap.backtrace(), file=sys.stderr, flush=True)
    except WasmException as exception:    # the program's own doing, as a trap is
        status = _report("uncaught wasm exception", exception.detail, TRAP_STATUS)
    except (WasmError, UsageError) as error:
        status = _report("error", error, ERROR_STATUS)
    except MemoryError:
        # Python itself ran out (e.g. under ulimit -v): not a bug, and not the program's trap.
        status = _report("error", "out of memory", ERROR_STATUS)
    except KeyboardInterrupt:
        status = _report("interrupted", "SIGINT", INTERRUPTED_STATUS)
    except Exception as error:        # a bug in pyiwasm: still one line, details with -v
        if options.verbose:
            import traceback
            traceback.print_exc()
        status = _report("internal error", f"{type(error).__name__}: {error}",
                         INTERNAL_ERROR_STATUS)
    _flush_stdout()
    return status


def command():
    """The `pyiwasm` command (its console script, `python -m pywamr.loader`): main(), then
    the end of the process without Python's finalisation, which frees every module and
    object one by one for milliseconds, as long as the whole run of a hello world. What it
    would do that matters is done by then: the WASI host has closed the program's files, the
    program wrote to file descriptors directly, and main() flushed Python's streams (stderr
    again here, for a warning Python may have printed)."""
    status = main()
    if sys.stderr is not None:
        sys.stderr.flush()
    os._exit(status)


def _flush_stdout():
    """Results printed by -f must come out before anything else (sys.stdout is None when
    pyiwasm was started with fd 1 closed)."""
    if sys.stdout is not None:
        sys.stdout.flush()


def _report(kind, message, status):
    _flush_stdout()
    first_line = (str(message) or type(message).__name__).splitlines()[0]
    if sys.stderr is not None:
        print(f"pyiwasm: {kind}: {first_line}", file=sys.stderr, flush=True)
    return status


if __name__ == "__main__":
    sys.exit(main())
