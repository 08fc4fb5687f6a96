"""Linker: the imports of the modules a program instantiates, gathered by name.

A Linker holds definitions, (module, name) -> extern, made from Python functions, the exports
of other instances, whole Python modules, the WASI host and the unknown-import policies;
`instantiate` picks from them what a module imports. The engines check what it picks
(runtime/instantiation.py): a missing or mistyped import is a LinkError.
"""

from collections.abc import Callable

from pywamr.runtime import unknown_imports
from pywamr.runtime.api import HostFunc, host_functions
from pywamr.runtime.types import FuncType
from pywamr.runtime.wasi.host import EMSCRIPTEN_GROWTH, EMSCRIPTEN_MODULE, MODULE_NAME

from .engine import Engine
from .instance import Instance
from .module import Module
from .wasi_config import WasiConfig


class Linker:
    def __init__(self, engine: Engine):
        self.engine = engine
        self.allow_shadowing = False
        self._items = {}             # (module, name) -> extern
        self._host_modules = {}      # module name -> {name: callable}
        self._wasi = None

    def define(self, module: str, name: str, item) -> None:
        """Make `item` (a HostFunc, a Tag, or a Func, Memory, Table, Global or Tag an
        instance exports) the import `module`.`name`."""
        key = (module, name)
        if key in self._items and not self.allow_shadowing:
            raise ValueError(f"{module}.{name} is already defined (set allow_shadowing to "
                             "replace it)")
        self._items[key] = item

    def define_func(self, module: str, name: str, ty: FuncType, func: Callable) -> None:
        """Make the Python function `func`, of FuncType `ty`, the import `module`.`name`.
        It takes and returns Python values (ints, floats; a tuple for several results); an
        exception it raises reaches the caller of the wasm function as it is."""
        self.define(module, name, HostFunc(ty, func))

    def define_instance(self, name: str, instance: Instance) -> None:
        """Make every export of `instance` an import of module `name`."""
        for field, item in instance.exports.items():
            self.define(name, field, item)

    def define_host_module(self, name: str, functions: object) -> None:
        """Make the functions in `functions` (a dict, or an object such as a Python module,
        whose attributes are taken) the imports of module `name`, each typed as the
        importing module declares it (pyiwasm --preload does this with a file)."""
        if not isinstance(functions, dict):
            functions = vars(functions)
        self._host_modules[name] = functions

    def define_wasi(self, config: WasiConfig | None = None) -> None:
        """Provide WASI preview1 (wasi_snapshot_preview1) to the modules this linker
        instantiates, each instance with a host of its own made from `config` (default:
        a WasiConfig() that grants nothing). The instance's memory is given to its host, and
        a reactor's `_initialize` is called, by `instantiate`."""
        self._wasi = config if config is not None else WasiConfig()

    def define_unknown_imports_as_traps(self, module: Module) -> None:
        """Define each function `module` imports that this linker lacks as one that traps
        when called (wasmtime's --trap-unknown-imports)."""
        self._define_unknown_imports(module, unknown_imports.TRAP)

    def define_unknown_imports_as_default_values(self, module: Module) -> None:
        """Define each function `module` imports that this linker lacks as one that returns
        zeros (null for references) (wasmtime's --default-values-unknown-imports)."""
        self._define_unknown_imports(module, unknown_imports.DEFAULT_VALUES)

    def instantiate(self, module: Module, *, max_memory_size: int | None = None) -> Instance:
        """A new instance of `module`: its imports from this linker, its start function
        run, its WASI host ready. LinkError for a missing or mistyped import, Trap if
        instantiation traps, WasiExit if the start function or `_initialize` exits.
        `max_memory_size`: bytes its own memories may grow to at most."""
        described = module.described
        host, files = None, []
        if self._wasi is not None and _uses_wasi(described):
            host, files = self._wasi.open_host()
        try:
            imports = host.imports_of(described) if host is not None else {}
            for name, functions in self._host_modules.items():
                imports.setdefault(name, {}).update(host_functions(described, name,
                                                                   functions))
            for imp in described.imports:
                item = self._items.get((imp.module, imp.name))
                if item is not None:
                    imports.setdefault(imp.module, {})[imp.name] = item
            loaded = module.loaded.instantiate(imports, max_memory_size=max_memory_size)
            return Instance(module, loaded, host, files)
        except BaseException:
            if host is not None:
                host.close()
            for file in files:
                file.close()
            raise

    def _define_unknown_imports(self, module, policy):
        described = module.described
        provided = {}
        for imp in described.imports:
            if (imp.module, imp.name) in self._items or self._wasi_provides(imp) or \
                    callable(self._host_modules.get(imp.module, {}).get(imp.name)):
                provided.setdefault(imp.module, {})[imp.name] = None
        unknown_imports.define_unknown_imports(described, provided, policy)
        for name, fields in provided.items():
            for field, item in fields.items():
                if item is not None:
                    self._items[(name, field)] = item

    def _wasi_provides(self, imp):
        return self._wasi is not None and _is_wasi_import(imp)


def _is_wasi_import(imp):
    return imp.module == MODULE_NAME or (imp.module, imp.name) == (EMSCRIPTEN_MODULE,
                                                                   EMSCRIPTEN_GROWTH)


def _uses_wasi(module):
    return any(_is_wasi_import(imp) for imp in module.imports)
