"""Instance: a module instantiated by a Linker, with its exports and its WASI host.

The exports are the engine's own objects (runtime/api.py's Func, Memory, Table, Global),
so a call costs no more through this API than through the engine.

The instance finishes what WASI asks of the embedder: the host gets the exported memory,
and a reactor's `_initialize` (exported as [] -> []) runs before anything else is called. A
command is run by calling `_start`, which raises WasiExit when the program calls
proc_exit (also with status 0) and returns when main returns.
"""

import types
import weakref

from pywamr.runtime.api import Func, Global, Memory, Table
from pywamr.runtime.types import FuncType


class Instance:
    exports: "types.MappingProxyType[str, Func | Memory | Table | Global]"

    def __init__(self, module, loaded, wasi_host=None, files=()):
        self.module = module
        self.loaded = loaded                    # the engine's instance
        self.exports = types.MappingProxyType(loaded.exports)
        if wasi_host is not None:
            # Closed with the engine's instance, which every exported function keeps alive:
            # `linker.instantiate(module).exports` may be all that a caller keeps.
            weakref.finalize(loaded, _close, wasi_host, list(files))
            memory = self.exports.get("memory")
            if isinstance(memory, Memory):
                wasi_host.bind_memory(memory)
        initialize = self.exports.get("_initialize")
        if isinstance(initialize, Func) and initialize.type == FuncType((), ()):
            initialize()

    def __repr__(self):
        return f"<Instance of {self.module!r}>"


def _close(wasi_host, files):
    wasi_host.close()
    for file in files:
        file.close()
