"""An `.aot` file, checked and loaded: the entry point of the loader.

    module = AotModule(open("prog.aot", "rb").read())
    instance = module.instantiate({"env": {"log": HostFunc(...)}})
    instance.exports["main"]()

Loading checks the container (aot_file.py, which also reads the module's metadata), that
this machine can run the code (host.py), that the module is valid and the code's
(module_check.py), and maps and relocates the code once (image.py, which checks every
relocation first); every instance then shares that code. Nothing is mapped before every
check has passed.
"""

import ctypes
import os

from pywamr.runtime import aot_abi
from pywamr.runtime.errors import AotFormatError
from pywamr.runtime.types import MAX_PAGES

from . import backtrace, unwind_tables
from .aot_file import corrupted, read_aot
from .exec_env import adopt_request_interrupt
from .guard_pages import install_fault_handler
from .interruption import install_interrupt_handler
from .host import check_target
from .image import LoadedImage, relocation_module
from .instance import DEFAULT_STACK_SIZE, Instance
from .module_check import check_module, check_symbols

# void aot_array_call_T(ExecEnv* env, void* code, VMContext* ctx, u64* argv)
_ARRAY_CALL = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p,
                               ctypes.c_void_p)

CODE_MODELS = ("small", "kernel", "medium", "large", "tiny", "default")


def _check_target_fields(target):
    if target.bounds_checks not in ("explicit", "guard-pages"):
        raise AotFormatError(f"unknown bounds-check mode {target.bounds_checks!r}")
    if not 0 < target.memory_limit <= MAX_PAGES:
        raise corrupted(f"memory limit of {target.memory_limit} pages")
    if target.code_model not in CODE_MODELS:
        raise corrupted(f"unknown code model {target.code_model!r}")
    if not (0 <= target.opt_level <= 3 and 0 <= target.size_level <= 3):
        raise corrupted(f"opt level {target.opt_level}, size level {target.size_level}")


class AotModule:
    def __init__(self, aot_bytes):
        aot = read_aot(aot_bytes)
        check_target(aot.target.arch, aot.target.features)
        _check_target_fields(aot.target)
        self.module = aot.module
        check_module(aot, self.module)
        self._array_call_names = check_symbols(aot, self.module,
                                               relocation_module(aot.target.arch))
        self.target = aot.target
        self.image = LoadedImage(aot)
        unwind_tables.register(self.image)
        backtrace.register(self.image, self.module.func_names)
        if os.environ.get("PYWAMR_PERF_MAP", "") not in ("", "0"):
            from . import perf_map      # not imported when off: start-up would pay for it
            perf_map.write(self.image, self.module.func_names)
        adopt_request_interrupt(self.image)
        self._array_calls = {}

    def instantiate(self, imports: dict = None, stack_size: int = DEFAULT_STACK_SIZE,
                    max_memory_size: int = None):
        """A new Instance; LinkError for a missing or mistyped import, Trap if a segment
        does not fit or the start function traps."""
        if self.target.bounds_checks == "guard-pages":
            install_fault_handler(self.image)
        install_interrupt_handler(self.image)
        return Instance(self, imports, stack_size, max_memory_size)

    def array_call(self, type_index):
        """The entry point calling a function of type `type_index` with a u64 argv."""
        entry = self._array_calls.get(type_index)
        if entry is None:
            name = self._array_call_names.get(type_index,
                                               aot_abi.array_call_symbol(type_index))
            entry = _ARRAY_CALL(self.image.address_of(name))
            self._array_calls[type_index] = entry
        return entry
