"""`pyaotc`: compile a WebAssembly module ahead of time.

    pyaotc [-o OUT] [--target x86_64|aarch64|arm64|TRIPLE] [--cpu NAME]
           [--cpu-features +a,-b] [--opt-level 0-3] [--size-level 0-3]
           [--bounds-checks on|off] [--disable-simd] [--format aot|object|llvmir]
           [-j N] [-v] FILE.wasm

FILE `-` is standard input (pyiwasm compiles a .wasm this way, in a child process, and reads
the .aot from `-o -`: loader/cached_compile.py).

The command line is typer's (help, shell completion with --install-completion, option
validation), run without its standalone mode so that every failure is still one line on
stderr, `pyaotc: error: ...`: exit status 2 for a bad command line, 1 for a module that
cannot be compiled. pyiwasm stays on argparse, which its start-up can afford.
"""

import os
import sys
from typing import Literal

import typer

from pywamr.runtime import version
from pywamr.runtime.errors import WasmError
from pywamr.runtime.text_format import is_text, text_to_binary

SUFFIXES = {"aot": ".aot", "object": ".o", "llvmir": ".ll"}

SIZE_LEVEL_HELP = (
    "LLVM code model, i.e. how far code and data may be apart: x86_64 0=large 1=medium "
    "2=kernel 3=small; aarch64 0=large 1,2,3=small")

CPU_HELP = (
    "CPU to tune and select instructions for. Default without --target: the generic CPU with "
    "this machine's features less AVX-512, whose code LLVM vectorises worse (sieve 1.3x "
    "slower; docs/compiler.md); 'native': this machine's CPU with all its features. With "
    "--target: generic")

BOUNDS_CHECKS_HELP = (
    "traps are exact either way: every access is checked in code, except in loops proven in "
    "bounds at their entry. off: memory is reserved with guard pages behind the checks, which "
    "lets those loops run unchecked and vectorise; on: no reservation and no signal handler, "
    "slower")

MAX_MEMORY_HELP = (
    "how far linear memory may grow. 2g: to 2 GiB, which lets addresses be sign-extended so "
    "that LLVM can vectorise loops over them; 4g: to the wasm32 maximum. Modules whose memory "
    "may already be larger, and --bounds-checks on, get 4g")

INTERRUPT_CHECKS_HELP = (
    "on: loop headers check for Ctrl-C, pyiwasm --timeout and Limits.interrupt(), as function "
    "entries always do; off: loops do not, so a loop that calls nothing cannot be stopped")


class CommandLineError(Exception):
    """A bad command line found after parsing (exit status 2, as typer's own)."""


def print_version(value: bool):
    if value:
        print(f"pyaotc {version()}")
        raise typer.Exit()


def compile_command(
    file: str = typer.Argument(..., metavar="FILE.wasm",
                               help="the WebAssembly module: binary, or text (.wat, read with "
                                    "wasm-tools); '-' = stdin, which needs -o"),
    output: str = typer.Option(None, "-o", metavar="OUT",
                               help="output file (default: FILE with .aot, .o or .ll; "
                                    "'-' = stdout)"),
    target: str = typer.Option(None, metavar="TARGET",
                               help="x86_64, aarch64, arm64 or an LLVM triple "
                                    "(default: this machine)"),
    cpu: str = typer.Option(None, metavar="NAME", help=CPU_HELP),
    cpu_features: str = typer.Option(None, metavar="+a,-b",
                                     help="CPU features to add (+) or remove (-)"),
    opt_level: int = typer.Option(3, min=0, max=3, metavar="0-3",
                                  help="LLVM optimisation level"),
    size_level: int = typer.Option(3, min=0, max=3, metavar="0-3", help=SIZE_LEVEL_HELP),
    bounds_checks: Literal["on", "off"] = typer.Option("off", help=BOUNDS_CHECKS_HELP),
    max_memory: Literal["2g", "4g"] = typer.Option("2g", help=MAX_MEMORY_HELP),
    disable_simd: bool = typer.Option(False, "--disable-simd",
                                      help="refuse modules that use SIMD (v128) instead of "
                                           "compiling them"),
    interrupt_checks: Literal["on", "off"] = typer.Option("on", help=INTERRUPT_CHECKS_HELP),
    fuel: bool = typer.Option(False, "--fuel",
                              help="count fuel (executed instructions), so that pyiwasm "
                                   "--fuel N can bound a run; costs run time"),
    jobs: int = typer.Option(None, "-j", "--jobs", min=1, metavar="N",
                             help="worker processes (default: one per core); the output is "
                                  "the same for every N"),
    verbose: bool = typer.Option(False, "-v", "--verbose",
                                 help="report the target, and the time of each phase, the "
                                      "wall time and the peak memory in one line, on stderr"),
    output_format: Literal["aot", "object", "llvmir"] = typer.Option(
        "aot", "--format", help="aot, object (the ELF object), llvmir (optimised IR)"),
    show_version: bool = typer.Option(False, "--version", callback=print_version,
                                      is_eager=True, help="print the version and exit"),
):
    """Compile a WebAssembly module to native code (an .aot file for pyiwasm)."""
    if file == "-" and not output:
        raise CommandLineError("reading the module from standard input (-) needs -o OUT")
    output = output or os.path.splitext(file)[0] + SUFFIXES[output_format]
    if output != "-" and os.path.abspath(output) == os.path.abspath(file):
        raise CommandLineError(f"the output {output} would overwrite the input")
    try:
        from .driver import CompileOptions, compile_wasm
    except ImportError as exc:
        if exc.name == "llvmlite" or "llvmlite" in str(exc):
            raise typer.Exit(fail("the compiler needs llvmlite: pip install 'pywamr[compiler]'"))
        raise
    try:
        if file == "-":
            wasm = sys.stdin.buffer.read()
        else:
            with open(file, "rb") as f:
                wasm = f.read()
    except OSError as exc:
        raise typer.Exit(fail(f"cannot read {file}: {exc.strerror}"))
    options = CompileOptions(target=target, cpu=cpu, cpu_features=cpu_features,
                             opt_level=opt_level, size_level=size_level,
                             bounds_checks=bounds_checks == "on",
                             max_memory_4gib=max_memory == "4g", simd=not disable_simd,
                             fuel=fuel, interrupt_checks=interrupt_checks == "on",
                             format=output_format, jobs=jobs)
    try:
        if is_text(wasm):
            wasm = text_to_binary(wasm)
        result = compile_wasm(wasm, options, log=log if verbose else None)
    except WasmError as exc:
        raise typer.Exit(fail(f"{file}: {exc}"))
    try:
        if output == "-":
            sys.stdout.buffer.write(result)
            sys.stdout.buffer.flush()
        else:
            with open(output, "wb") as f:
                f.write(result)
    except OSError as exc:
        raise typer.Exit(fail(f"cannot write {output}: {exc.strerror}"))


def build_command():
    """The command typer makes of compile_command."""
    app = typer.Typer(add_completion=True, pretty_exceptions_enable=False)
    app.command(context_settings={"help_option_names": ["-h", "--help"]})(compile_command)
    return typer.main.get_command(app)


def main(argv=None):
    """Run pyaotc; returns the exit status."""
    command = build_command()
    try:
        # Without standalone mode, typer.Exit comes back as the status it carries.
        status = command.main(args=sys.argv[1:] if argv is None else list(argv),
                              prog_name="pyaotc", standalone_mode=False)
    except CommandLineError as exc:
        return fail(str(exc), status=2)
    except typer.TyperException as exc:    # a usage error found by typer: exit status 2
        return fail(one_line(exc.format_message()), status=exc.exit_code)
    except typer.Exit as exc:
        return exc.exit_code
    except typer.Abort:
        return 130
    return status or 0


def one_line(message):
    return " ".join(message.split())


def log(line):
    print(f"pyaotc: {line}", file=sys.stderr, flush=True)


def fail(message, status=1):
    """Print the error line; returns the exit status, by default that of a module that
    cannot be compiled."""
    print(f"pyaotc: error: {message}", file=sys.stderr)
    return status


if __name__ == "__main__":
    sys.exit(main())
