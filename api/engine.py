"""Which engine runs a program: compiled code (the AOT loader) or the interpreter.

`auto`, the default, compiles when it can, as `pyiwasm app.wasm` does: when the compiler
extra is installed, a .wasm module is compiled ahead of time, through the compile cache
(docs/compile-cache.md), and runs natively; without it, the interpreter runs it. A `.aot`
file always runs on the loader, which needs nothing but the standard library.
"""

import os

from pywamr.runtime import compiler_installed

AOT, INTERP, AUTO = "aot", "interp", "auto"


class Engine:
    """How modules are run. `kind`: "auto", "aot" or "interp" (see the module docstring).

    The other settings are for compiled code and are ignored by the interpreter:
    `opt_level` (0-3) is pyaotc's; `fuel` makes modules count fuel, for Limits(fuel=N), on
    either engine (it costs speed); `cache` is True (the user's compile cache), False, or a
    directory to keep compiled modules in."""

    def __init__(self, kind: str = AUTO, *, opt_level: int = 3, fuel: bool = False,
                 cache: "bool | str | os.PathLike" = True):
        if kind not in (AUTO, AOT, INTERP):
            raise ValueError(f"unknown engine {kind!r}: choose auto, aot or interp")
        if kind == AUTO:
            kind = AOT if compiler_installed() else INTERP
        if opt_level not in (0, 1, 2, 3):
            raise ValueError(f"opt_level must be 0 to 3, not {opt_level!r}")
        self.kind = kind
        self.opt_level = opt_level
        self.fuel = fuel
        self.cache = cache

    def compile(self, wasm: bytes) -> bytes:
        """The .aot bytes of a wasm module for this machine, from the cache when it has
        them. MalformedModule / InvalidModule for a bad module, CompileError for one that
        cannot be compiled."""
        if not compiler_installed():
            from pywamr.compiler import CompileError
            raise CompileError("compiling a module needs the compiler extra: pip install "
                               "'pywamr[compiler]' (or use Engine(\"interp\"))")
        from pywamr.compiler.driver import CompileOptions, compile_cached
        from pywamr.runtime.compile_cache import CompileCache
        cache = self.cache
        if cache is True:
            cache = None                  # compile_cached's default: the user's cache
        elif cache is not False:
            cache = CompileCache(cache)
        options = CompileOptions(opt_level=self.opt_level, fuel=self.fuel)
        return compile_cached(bytes(wasm), options, cache=cache)

    def __repr__(self):
        return f"Engine({self.kind!r})"
