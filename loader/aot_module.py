"""An `.aot` file, checked and loaded: the entry point of the loader.

    module = AotModule(open("prog.aot", "rb").read())
    instance = module.instantiate({"env": {"log": HostFunc(...)}})
    instance.exports["main"]()

Loading checks the container (aot_file.py), that this machine can run the code (host.py),
decodes the module's metadata, and maps and relocates the code once (image.py); every
instance then shares that code.
"""

import ctypes

from pywamr.runtime.decoder import decode_module
from pywamr.runtime.errors import AotFormatError, MalformedModule
from pywamr.runtime.types import MAX_PAGES

from .aot_file import read_aot
from .guard_pages import install_fault_handler
from .host import check_target
from .image import LoadedImage
from .instance import DEFAULT_STACK_SIZE, Instance

# void aot_array_call_T(void* code, VMContext* ctx, u64* argv)
_ARRAY_CALL = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p)


class AotModule:
    def __init__(self, aot_bytes):
        aot = read_aot(aot_bytes)
        check_target(aot.target.arch, aot.target.features)
        if aot.target.bounds_checks not in ("explicit", "guard-pages"):
            raise AotFormatError(f"unknown bounds-check mode {aot.target.bounds_checks!r}")
        if not 0 < aot.target.memory_limit <= MAX_PAGES:
            raise AotFormatError(f"corrupted .aot file: memory limit of "
                                 f"{aot.target.memory_limit} pages")
        try:
            self.module = decode_module(aot.module_bytes)
        except MalformedModule as error:
            raise AotFormatError(f"corrupted .aot file: its wasm module: {error}") from None
        self.target = aot.target
        self.image = LoadedImage(aot)
        self._array_calls = {}

    def instantiate(self, imports: dict = None, stack_size: int = DEFAULT_STACK_SIZE):
        """A new Instance; LinkError for a missing or mistyped import, Trap if a segment
        does not fit or the start function traps."""
        if self.target.bounds_checks == "guard-pages":
            install_fault_handler(self.image)
        return Instance(self, imports, stack_size)

    def array_call(self, type_index):
        """The entry point calling a function of type `type_index` with a u64 argv."""
        entry = self._array_calls.get(type_index)
        if entry is None:
            entry = _ARRAY_CALL(self.image.address_of(self._array_call_symbol(type_index)))
            self._array_calls[type_index] = entry
        return entry

    def _array_call_symbol(self, type_index):
        """The compiler may emit the entry once per distinct signature: any type index with
        an equal function type will do."""
        wanted = self.module.types[type_index]
        for index in [type_index] + list(range(len(self.module.types))):
            name = f"aot_array_call_{index}"
            if self.module.types[index] == wanted and name in self.image.symbols:
                return name
        return f"aot_array_call_{type_index}"    # address_of() names it in the error
