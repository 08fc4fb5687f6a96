"""Limits on a call into wasm, and interrupting it from another thread, on both engines.

    from pywamr.runtime.limits import Limits

    with Limits(timeout=1.0) as run:          # any of timeout=, fuel=
        instance.exports["work"]()            # raises Interrupted after 1 s
    # elsewhere, while the block runs:  run.interrupt()

    with Limits(fuel=10**6) as run:           # raises FuelExhausted beyond 10**6
        instance.exports["work"]()
    run.fuel_consumed                         # exact, the same on both engines

Fuel (runtime/fuel.py) needs code that counts it: a module compiled with `pyaotc --fuel`
(CompileOptions(fuel=True)), or an interpreter `Module(wasm, fuel=True)`; calling any other
in a block with fuel raises WasmError. The budget is the block's, shared by its calls.

Inside the block, the wasm calls the calling thread makes end with the trap `Interrupted`
("interrupted", or "interrupted: timeout of 1 s") once `run.interrupt()` has been called,
from any thread, or the timeout has passed; calls made after that in the same block end the
same way at once. The instance stays usable: the next call outside the block runs normally.
A wasm call that is running a host function (Python) is interrupted when it returns to wasm.

How each engine notices:
- AOT: `interrupt()` sets INTERRUPT_REQUESTED in the thread's ExecEnv and its interrupted
  stack limit (loader/exec_env.py), which compiled code checks at the entry of each function
  that calls others and at each loop header, and traps (docs/aot-abi.md, "Interruption").
  The block's end clears the bit.
- Interpreter: generated code checks nothing (it costs nothing when no limit is used).
  `interrupt()` raises Interrupted asynchronously in the thread (PyThreadState_SetAsyncExc)
  while it runs wasm; the boundary (interp/boundary.py) raises it at entry once interrupted,
  and withdraws an undelivered one when the outermost call returns. As with any asynchronous
  exception, one that lands in the few bytecodes of that return path is not withdrawn.

Blocks do not nest, and one thread has one block at a time. The interpreter's fuel counter is
one per process (its generated code reads a module-level cell): blocks with fuel on two
threads at once must not both run interpreted code.
"""

import threading

from .errors import Interrupted, WasmError
from .fuel import UNLIMITED

_local = threading.local()


def active():
    """The Limits block the calling thread is in, or None."""
    return getattr(_local, "limits", None)


class Limits:
    def __init__(self, timeout=None, fuel=None):
        if timeout is not None and timeout < 0:
            raise ValueError("timeout must not be negative")
        if fuel is not None and fuel < 0:
            raise ValueError("fuel must not be negative")
        self.timeout = timeout
        self.fuel = fuel
        self.interrupted = False
        self.reason = None              # the timeout's, named in the trap's message
        self.fuel_consumed = 0          # up to date once the block has ended
        self._lock = threading.Lock()
        self._thread = None
        self._exec_env = None
        self._timer = None
        self._active = False
        self._in_interp = False

    def __enter__(self):
        if active() is not None:
            raise RuntimeError("Limits blocks do not nest")
        from .interp import boundary
        self._thread = threading.get_ident()
        self._interp_fuel = boundary.FUEL
        if self.fuel is not None:
            self._interp_fuel[0] = self.fuel
        _local.limits = self
        self._active = True
        if self.timeout is not None:
            self._timer = threading.Timer(self.timeout, self.interrupt,
                                          (f"timeout of {self.timeout:g} s",))
            self._timer.daemon = True
            self._timer.start()
        return self

    def __exit__(self, exc_type, exc, traceback):
        if self._timer is not None:
            self._timer.cancel()
        with self._lock:
            _local.limits = None
            self._active = False
            if self._exec_env is not None:
                from .aot_abi import INTERRUPT_REQUESTED    # (see _set_async_exc)
                self._exec_env.interrupt &= ~INTERRUPT_REQUESTED
        if self.fuel is not None:
            # Each engine's counter started at `fuel`; a block uses one engine, or the sum.
            self.fuel_consumed = self.fuel - self._interp_fuel[0]
            self._interp_fuel[0] = UNLIMITED
            if self._exec_env is not None:
                self.fuel_consumed += self.fuel - self._exec_env.fuel
                self._exec_env.fuel = UNLIMITED
        if isinstance(exc, Interrupted) and self.reason and exc.message == "interrupted":
            exc.message = f"interrupted: {self.reason}"
            exc.args = (exc.message,)
        return False

    def interrupt(self, reason=None):
        """End the block's running wasm call, and any it makes after, with Interrupted.
        Safe to call from any thread, any number of times."""
        with self._lock:
            if not self.interrupted:
                self.interrupted = True
                self.reason = reason
            if not self._active:
                return
            if self._exec_env is not None:
                from .aot_abi import INTERRUPT_REQUESTED
                self._exec_env.request_interrupt(INTERRUPT_REQUESTED)
            if self._in_interp:
                _set_async_exc(self._thread, Interrupted)

    # --- the engines' side ------------------------------------------------------------------

    def enter_aot(self, exec_env, counts_fuel):
        """The loader's outermost call from the block's thread into compiled code: the block's
        fuel and interruption go to that thread's ExecEnv (the runtime never imports the
        loader, so the loader hands it over here)."""
        self.check_fuel(counts_fuel, "this .aot module")
        with self._lock:
            if self._exec_env is None:
                self._exec_env = exec_env
                if self.fuel is not None:
                    exec_env.fuel = self.fuel
            if self.interrupted:
                from .aot_abi import INTERRUPT_REQUESTED
                exec_env.interrupt |= INTERRUPT_REQUESTED

    def check_fuel(self, counts_fuel, what):
        """Refuse a call into code that does not count the block's fuel."""
        if self.fuel is not None and not counts_fuel:
            raise WasmError(f"{what} does not count fuel: compile it with pyaotc --fuel, or "
                            "make the interpreter's Module with fuel=True")

    def enter_interp(self, counts_fuel):
        self.check_fuel(counts_fuel, "this module")
        with self._lock:
            if self.interrupted:
                raise Interrupted()
            self._in_interp = True

    def leave_interp(self):
        with self._lock:
            self._in_interp = False
            _set_async_exc(self._thread, None)


_async_exc = None


def _set_async_exc(thread, exception_class):
    """Raise `exception_class` in `thread` at its next bytecode; None withdraws it. (ctypes,
    and aot_abi, which is built on it, are imported where a Limits block first needs them:
    importing the interpreter does not pay ~2 ms for them.)"""
    global _async_exc
    if _async_exc is None:
        import ctypes
        function = ctypes.pythonapi.PyThreadState_SetAsyncExc
        function.argtypes = (ctypes.c_ulong, ctypes.c_void_p)
        _async_exc = function
    _async_exc(thread, None if exception_class is None else id(exception_class))
