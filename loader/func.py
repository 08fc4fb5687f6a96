"""Calling compiled functions from Python.

Every call goes through the module's `aot_array_call_T` entry for the function's type with
an array of u64 slots (docs/aot-abi.md, slots.py), so floats cross bit-exactly; the
host_call trampoline (helpers.py) reads and writes the same slots in the other direction.
"""

import ctypes

from pywamr.runtime import limits
from pywamr.runtime.aot_abi import FuncRef, slot_count
from pywamr.runtime.api import Func

from .exec_env import current, raise_pending_trap
from .slots import read_slots, write_slots


class AotFunc(Func):
    """A function of an instance's function index space (defined or imported), callable
    from Python and usable as a funcref value."""

    def __init__(self, instance, func_index):
        self.instance = instance
        self.index = func_index
        self.type = instance.func_types[func_index]
        self.funcref_address = instance.funcref_address(func_index)
        record = FuncRef.from_address(self.funcref_address)   # fixed once instantiated
        self._code, self._ctx = record.code, record.ctx
        self._array_call = instance.array_call(instance.module.func_type_indices()[func_index])
        self._slots = max(slot_count(self.type.params), slot_count(self.type.results), 1)

    @property
    def group(self):
        return self.instance.group

    def call_bits(self, args):
        params = self.type.params
        if len(args) != len(params):
            raise TypeError(f"expected {len(params)} arguments, got {len(args)}")
        argv = (ctypes.c_uint64 * self._slots)()
        write_slots(params, args, argv)
        entered = self.group.enter()
        try:
            env = current()
            if not env.depth:  # the thread's outermost call: its stack budget applies
                env.stack_size = min(self.instance.stack_size, env.stack_cap)
                run = limits.active()
                if run is not None:
                    run.enter_aot(env, self.instance.aot_module.target.fuel)
            self._array_call(env.address, self._code, self._ctx, argv)
            raise_pending_trap(env)
        finally:
            if entered is not None:
                entered.leave()
        return read_slots(self.type.results, argv)

    def __repr__(self):
        return f"<AotFunc {self.index} {self.type}>"
