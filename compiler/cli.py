"""`pyaotc`: compile a WebAssembly module ahead of time.

    pyaotc [-o OUT] [--target x86_64|aarch64|arm64|TRIPLE] [--cpu NAME]
           [--cpu-features +a,-b] [--opt-level 0-3] [--size-level 0-3]
           [--bounds-checks on|off] [--disable-simd] [--format aot|object|llvmir] FILE.wasm

FILE `-` is standard input (pyiwasm compiles a .wasm this way, in a child process, and reads
the .aot from `-o -`: loader/cached_compile.py).

Every failure is one line on stderr, `pyaotc: error: ...`: exit status 2 for a bad command
line, 1 for a module that cannot be compiled.
"""

import argparse
import os
import sys

from pywamr.runtime import add_version_flag
from pywamr.runtime.errors import WasmError
from pywamr.runtime.text_format import is_text, text_to_binary

SUFFIXES = {"aot": ".aot", "object": ".o", "llvmir": ".ll"}

SIZE_LEVEL_HELP = (
    "LLVM code model, i.e. how far code and data may be apart: x86_64 0=large 1=medium "
    "2=kernel 3=small; aarch64 0=large 1,2,3=small (default 3)")


class OneLineParser(argparse.ArgumentParser):
    """argparse, but a usage error is the single line `pyaotc: error: ...`."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message}\n")


def build_parser():
    parser = OneLineParser(
        prog="pyaotc",
        description="Compile a WebAssembly module to native code (an .aot file for pyiwasm).")
    add_version_flag(parser)
    parser.add_argument("file", metavar="FILE.wasm",
                        help="the WebAssembly module: binary, or text (.wat, read with "
                             "wasm-tools); '-' = stdin, which needs -o")
    parser.add_argument("-o", dest="output", metavar="OUT",
                        help="output file (default: FILE with .aot, .o or .ll; '-' = stdout)")
    parser.add_argument("--target", metavar="TARGET",
                        help="x86_64, aarch64, arm64 or an LLVM triple (default: this machine)")
    parser.add_argument("--cpu", metavar="NAME",
                        help="CPU to tune and select instructions for. Default without "
                             "--target: the generic CPU with this machine's features less "
                             "AVX-512, whose code LLVM vectorises worse (sieve 1.3x slower; "
                             "docs/compiler.md); 'native': this machine's CPU with all its "
                             "features. With --target: generic")
    parser.add_argument("--cpu-features", metavar="+a,-b",
                        help="CPU features to add (+) or remove (-)")
    parser.add_argument("--opt-level", type=int, choices=range(4), default=3, metavar="0-3",
                        help="LLVM optimisation level (default 3)")
    parser.add_argument("--size-level", type=int, choices=range(4), default=3, metavar="0-3",
                        help=SIZE_LEVEL_HELP)
    parser.add_argument("--bounds-checks", choices=("on", "off"), default="off",
                        help="traps are exact either way: every access is checked in code, "
                             "except in loops proven in bounds at their entry. off (default): "
                             "memory is reserved with guard pages behind the checks, which lets "
                             "those loops run unchecked and vectorise; on: no reservation and no "
                             "signal handler, slower")
    parser.add_argument("--max-memory", choices=("2g", "4g"), default="2g",
                        help="how far linear memory may grow. 2g (default): to 2 GiB, which "
                             "lets addresses be sign-extended so that LLVM can vectorise loops "
                             "over them; 4g: to the wasm32 maximum. Modules whose memory may "
                             "already be larger, and --bounds-checks on, get 4g")
    parser.add_argument("--disable-simd", action="store_true",
                        help="refuse modules that use SIMD (v128) instead of compiling them")
    parser.add_argument("--interrupt-checks", choices=("on", "off"), default="on",
                        help="on (default): loop headers check for Ctrl-C, pyiwasm --timeout "
                             "and Limits.interrupt(), as function entries always do; off: "
                             "loops do not, so a loop that calls nothing cannot be stopped")
    parser.add_argument("--fuel", action="store_true",
                        help="count fuel (executed instructions), so that pyiwasm --fuel N can "
                             "bound a run; costs run time")
    parser.add_argument("-j", "--jobs", type=int, metavar="N",
                        help="worker processes (default: one per core); the output is the "
                             "same for every N")
    parser.add_argument("-v", "--verbose", action="store_true",
                        help="report the target and the time of each phase on stderr")
    parser.add_argument("--format", choices=tuple(SUFFIXES), default="aot",
                        help="aot (default), object (the ELF object), llvmir (optimised IR)")
    return parser


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.file == "-" and not args.output:
        parser.error("reading the module from standard input (-) needs -o OUT")
    output = args.output or os.path.splitext(args.file)[0] + SUFFIXES[args.format]
    if output != "-" and os.path.abspath(output) == os.path.abspath(args.file):
        parser.error(f"the output {output} would overwrite the input")
    try:
        from .driver import CompileOptions, compile_wasm
    except ImportError as exc:
        if exc.name in ("llvmlite", "lief") or "llvmlite" in str(exc) or "lief" in str(exc):
            return _fail("the compiler needs llvmlite and lief: pip install 'pywamr[compiler]'")
        raise
    try:
        if args.file == "-":
            wasm = sys.stdin.buffer.read()
        else:
            with open(args.file, "rb") as f:
                wasm = f.read()
    except OSError as exc:
        return _fail(f"cannot read {args.file}: {exc.strerror}")
    options = CompileOptions(target=args.target, cpu=args.cpu, cpu_features=args.cpu_features,
                             opt_level=args.opt_level, size_level=args.size_level,
                             bounds_checks=args.bounds_checks == "on",
                             max_memory_4gib=args.max_memory == "4g",
                             simd=not args.disable_simd, fuel=args.fuel,
                             interrupt_checks=args.interrupt_checks == "on", format=args.format,
                             jobs=args.jobs)
    try:
        if is_text(wasm):
            wasm = text_to_binary(wasm)
        result = compile_wasm(wasm, options, log=_log if args.verbose else None)
    except WasmError as exc:
        return _fail(f"{args.file}: {exc}")
    try:
        if output == "-":
            sys.stdout.buffer.write(result)
            sys.stdout.buffer.flush()
        else:
            with open(output, "wb") as f:
                f.write(result)
    except OSError as exc:
        return _fail(f"cannot write {output}: {exc.strerror}")
    return 0


def _log(line):
    print(f"pyaotc: {line}", file=sys.stderr, flush=True)


def _fail(message):
    print(f"pyaotc: error: {message}", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
