"""`pyiwasm app.wasm`: the module compiled, from the compile cache (runtime/compile_cache.py)
or by pyaotc now.

A hit costs a hash of the module and a read of its entry, and imports nothing but the
cache. A miss runs pyaotc in a child process, which writes the .aot file to a pipe: this
process never imports the compiler or llvmlite, and does not keep LLVM's memory for
the run. The compile is pyaotc's default one, with --fuel when the run counts fuel: its
interrupt checks let --timeout and Ctrl-C stop the code, as for any default .aot file.
"""

import sys

from pywamr.runtime import compiler_installed
from pywamr.runtime.compile_cache import CompileCache, options_text
from pywamr.runtime.errors import AotFormatError

from .aot_module import AotModule
from .cli import UsageError

INSTALL_HINT = "pip install 'pywamr[compiler]'"


def compiled_module(wasm, options):
    """The AotModule of `wasm`, the binary module of options.file: the cached one, else
    compiled now and stored (not with --no-cache); None where the compiler is not installed
    and nothing is cached, after a one-line notice that the interpreter runs it."""
    cache = key = None
    if not options.no_cache:
        try:
            cache = CompileCache()
        except ValueError as error:         # a bad PYWAMR_CACHE_MAX_BYTES
            raise UsageError(str(error)) from None
        key = cache.key(wasm, options_text({"fuel": True} if options.fuel is not None else {}))
        aot = cache.load(key)
        if aot is not None:
            try:
                module = AotModule(aot)
            except AotFormatError as error:     # damaged, or for CPU features this one lacks
                _note(options, f"{options.file}: compile cache entry {cache.path(key)} "
                               f"refused ({error}): compiling again")
            else:
                _note(options, f"{options.file}: compile cache hit, {cache.path(key)}")
                return module
    if not compiler_installed():
        print(f"pyiwasm: note: pyaotc is not installed ({INSTALL_HINT}): {options.file} runs "
              f"in the interpreter", file=sys.stderr, flush=True)
        return None
    import time
    started = time.perf_counter()
    aot = compile_in_child(wasm, options.file, options.fuel is not None)
    compiled = f"{options.file}: compiled in {(time.perf_counter() - started) * 1e3:.0f} ms"
    if cache is None:
        _note(options, f"{compiled}, not stored (--no-cache)")
    elif cache.store(key, aot):
        _note(options, f"{compiled}, stored in the compile cache, {cache.path(key)}")
    else:
        _note(options, f"{compiled}, not stored: cannot write to {cache.directory}")
    return AotModule(aot)


def compile_in_child(wasm, file, fuel):
    """The .aot file of the module `wasm` (from `file`), which `python -m pywamr.compiler`
    reads from a pipe and writes to another: the bytes compiled are the bytes of the key,
    even if the file changes meanwhile or is a pipe itself. A module it cannot compile is a
    UsageError with pyaotc's one line."""
    import subprocess
    command = [sys.executable, "-m", "pywamr.compiler", *(["--fuel"] if fuel else []),
               "-o", "-", "-"]
    done = subprocess.run(command, input=wasm, capture_output=True)
    if done.returncode != 0:
        lines = done.stderr.decode(errors="replace").strip().splitlines()
        last = lines[-1] if lines else "no message"
        if last.startswith("pyaotc: error: -: "):          # about the module
            raise UsageError(f"{file}: {last.removeprefix('pyaotc: error: -: ')}")
        if last.startswith("pyaotc: error: "):
            raise UsageError(last.removeprefix("pyaotc: error: "))
        raise UsageError(f"pyaotc failed on {file} (exit status {done.returncode}): {last}")
    return done.stdout


def _note(options, line):
    if options.verbose:
        print(f"pyiwasm: {line}", file=sys.stderr, flush=True)
