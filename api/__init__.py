"""pywamr: WebAssembly for Python, compiled ahead of time through LLVM or interpreted.

    import pywamr

    engine = pywamr.Engine()                    # "auto": compiled if pywamr[compiler] is
    module = pywamr.Module.from_file(engine, "lib.wasm")        # installed, else interpreted
    linker = pywamr.Linker(engine)
    linker.define_wasi(pywamr.WasiConfig())
    instance = linker.instantiate(module)
    instance.exports["add"](1, 2)

The concepts are wasmtime-py's, without its Store: an instance and the instances it links
to form a group that one thread runs in at a time (runtime/api.py). docs/api.md has the
whole API and a table from wasmtime-py's names to these.

This package is the public face; the engines live in pywamr.loader (compiled code),
pywamr.runtime.interp (the interpreter) and pywamr.compiler (pyaotc), and share
pywamr.runtime.

`import pywamr` itself imports nothing: every tool and engine module is inside this
package, and `pyiwasm hello.aot` must not pay milliseconds of start-up for an API it does
not use. A name is imported the first time it is looked up (PEP 562's module __getattr__);
a module brings in the engine it runs on, and neither the compiler nor the interpreter is
imported before a module needs it.
"""

TYPE_CHECKING = False    # typing.TYPE_CHECKING, without importing typing at start-up

# Where each public name is defined.
_DEFINED_IN = {
    "Engine": ".engine",
    "Module": ".module", "ImportType": ".module", "ExportType": ".module",
    "Linker": ".linker",
    "Instance": ".instance",
    "WasiConfig": ".wasi_config", "INHERIT": ".wasi_config",
    "Func": "pywamr.runtime.api", "HostFunc": "pywamr.runtime.api",
    "Memory": "pywamr.runtime.api", "Global": "pywamr.runtime.api",
    "Table": "pywamr.runtime.api",
    "Tag": "pywamr.runtime.api",
    "FuncType": "pywamr.runtime.types", "GlobalType": "pywamr.runtime.types",
    "MemoryType": "pywamr.runtime.types", "TableType": "pywamr.runtime.types",
    "TagType": "pywamr.runtime.types",
    "Limits": "pywamr.runtime.limits",
    "WasmError": "pywamr.runtime.errors", "MalformedModule": "pywamr.runtime.errors",
    "InvalidModule": "pywamr.runtime.errors", "AotFormatError": "pywamr.runtime.errors",
    "LinkError": "pywamr.runtime.errors", "Trap": "pywamr.runtime.errors",
    "TrapCode": "pywamr.runtime.errors", "Frame": "pywamr.runtime.errors",
    "Interrupted": "pywamr.runtime.errors", "FuelExhausted": "pywamr.runtime.errors",
    "ResourceError": "pywamr.runtime.errors", "WasmException": "pywamr.runtime.errors",
    "ConcurrentCallError": "pywamr.runtime.errors", "WasiExit": "pywamr.runtime.errors",
    "WasiConfigError": "pywamr.runtime.wasi",
    "CompileError": "pywamr.compiler",
}

__all__ = list(_DEFINED_IN)


def __getattr__(name):
    import importlib
    where = _DEFINED_IN.get(name)
    if where is None:
        raise AttributeError(f"module 'pywamr' has no attribute {name!r}")
    value = getattr(importlib.import_module(where, __name__), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(__all__))


if TYPE_CHECKING:       # what type checkers and IDEs read instead of __getattr__
    from pywamr.compiler import CompileError
    from pywamr.runtime.api import Func, Global, HostFunc, Memory, Table, Tag
    from pywamr.runtime.errors import (AotFormatError, ConcurrentCallError, Frame,
                                       FuelExhausted, Interrupted, InvalidModule, LinkError,
                                       MalformedModule, ResourceError, Trap, TrapCode,
                                       WasiExit, WasmError, WasmException)
    from pywamr.runtime.limits import Limits
    from pywamr.runtime.types import FuncType, GlobalType, MemoryType, TableType, TagType
    from pywamr.runtime.wasi import WasiConfigError

    from .engine import Engine
    from .instance import Instance
    from .linker import Linker
    from .module import ExportType, ImportType, Module
    from .wasi_config import INHERIT, WasiConfig
