"""Execution environments: one ExecEnv per thread that runs compiled code (docs/aot-abi.md),
and the conversion of the trap code compiled code leaves in it into a Python exception once
the call from Python returns.

A thread's ExecEnv is created on its first call into compiled code and passed to every
compiled function as a hidden first argument, so any number of threads run compiled code at
once, each with its own trap code, stack limit and jump buffer; instances linked by imports
use the ExecEnv of the thread that calls them. The runtime helpers and host functions run on
the thread that called them, so they find the same ExecEnv through `current()`. The record
lives as long as its thread: it is registered with the guard-page fault handler on creation
and unregistered when the thread's locals are freed.
"""

import ctypes
import os
import threading

from pywamr.runtime.aot_abi import (INTERRUPT_SIGNAL, REQUEST_INTERRUPT_SYMBOL,
                                    STACK_LIMIT_INTERRUPTED, TRAP_EXCEPTION,
                                    TRAP_HOST_EXCEPTION, TRAP_INTERRUPTED, TRAP_KINDS,
                                    TRAP_OUT_OF_FUEL, TRAP_STACK_EXHAUSTED, ExecEnv)
from pywamr.runtime.errors import (MAX_FRAMES, Exhaustion, FuelExhausted, Interrupted, Trap,
                                   WasmException)
from pywamr.runtime.fuel import UNLIMITED

from . import backtrace, guard_pages

# Room left on the native stack for the Python frames below the outermost call into
# compiled code and for host functions called from it.
STACK_MARGIN = 1 << 20
MIN_STACK_SIZE = 64 << 10

_libc = ctypes.CDLL(None)
_libc.pthread_self.restype = ctypes.c_ulong
_libc.pthread_getattr_np.argtypes = (ctypes.c_ulong, ctypes.c_void_p)
_PTHREAD_ATTR_SIZE = 128        # >= sizeof(pthread_attr_t): 56 on x86_64, 64 on aarch64
_RLIMIT_STACK = 3               # Linux, x86_64 and aarch64 alike
_RLIM_INFINITY = (1 << 64) - 1


_local = threading.local()
# (image, function): the aot_request_interrupt of the first module loaded, kept mapped
_request_interrupt = None
_REQUEST_INTERRUPT = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_uint32)


class ThreadExecEnv(ExecEnv):
    """The ExecEnv of one thread, with what the loader keeps beside it: its address (the
    hidden argument), the exception a host function raised (re-raised when the call from
    Python unwinds), and the most stack compiled code may use on this thread: an instance's
    stack budget is cut to it, so that deep recursion ends in a trap, not a crash."""

    _guard_slot = None

    def __init__(self):
        super().__init__(fuel=UNLIMITED)
        self.address = ctypes.addressof(self)
        self.pending_exception = None
        thread = _libc.pthread_self()
        self.stack_cap = max(_stack_size(thread) - STACK_MARGIN, MIN_STACK_SIZE)
        self._guard_slot = guard_pages.register_thread(thread, self.address)

    def __del__(self):
        if self._guard_slot is not None:
            guard_pages.unregister_thread(self._guard_slot, self.address)

    def request_interrupt(self, bits):
        """Set `bits` in `interrupt`, then the interrupted stack limit, from any thread, in
        the order compiled code relies on (compiler/interruption.py): through a module's
        `aot_request_interrupt` once one is loaded; before that no compiled code runs, and
        the next array call sees the bits."""
        if _request_interrupt is not None:
            _request_interrupt[1](self.address, bits)
        else:
            self.interrupt |= bits
            self.stack_limit = STACK_LIMIT_INTERRUPTED


def adopt_request_interrupt(image):
    """Request interruptions through `image`'s code from now on, unless another image's
    is in use already."""
    global _request_interrupt
    if _request_interrupt is None:
        function = _REQUEST_INTERRUPT(image.address_of(REQUEST_INTERRUPT_SYMBOL))
        _request_interrupt = (image, function)


def current():
    """The calling thread's ExecEnv, created on its first use."""
    try:
        return _local.exec_env
    except AttributeError:
        env = _local.exec_env = ThreadExecEnv()
        return env


def _stack_size(thread):
    """The size of `thread`'s stack (the main thread's: its resource limit)."""
    if threading.get_native_id() == os.getpid():
        # The process's initial thread, whose stack RLIMIT_STACK sizes: read the limit
        # directly, as pthread_getattr_np would only after parsing /proc/self/maps (a fifth
        # of a millisecond, at every start-up). Unlimited, the stack ends where the next
        # mapping begins, which only pthread_getattr_np finds.
        limit = _stack_rlimit()
        if limit is not None:
            return limit
    attr = ctypes.create_string_buffer(_PTHREAD_ATTR_SIZE)
    if _libc.pthread_getattr_np(thread, attr) == 0:
        base, size = ctypes.c_void_p(), ctypes.c_size_t()
        failed = _libc.pthread_attr_getstack(attr, ctypes.byref(base), ctypes.byref(size))
        _libc.pthread_attr_destroy(attr)
        if not failed:
            return size.value
    return _stack_rlimit() or 8 << 20


def _stack_rlimit():
    """RLIMIT_STACK's soft limit, or None where it is unlimited."""
    limit = (ctypes.c_uint64 * 2)()      # struct rlimit: soft, hard
    if _libc.getrlimit(_RLIMIT_STACK, limit) != 0 or limit[0] == _RLIM_INFINITY:
        return None
    return limit[0]


def trap_with_exception(exception):
    """Make the calling thread's compiled code unwind; its call from Python then re-raises
    `exception`. A wasm exception is thrown on in compiled code instead."""
    env = current()
    if isinstance(exception, WasmException):
        from . import exceptions    # as in raise_pending_trap: loaded by the first exception
        try:
            exceptions.throw_from_host(env, exception)
            return
        except Exception as error:      # a payload that does not fit its tag's types
            exception = error
    env.pending_exception = exception
    env.trap_code = TRAP_HOST_EXCEPTION


def _trap_of_code(code):
    from pywamr.runtime.trap_codes import TrapCode
    kind = TRAP_KINDS.get(code)
    return Trap(TrapCode[kind] if kind else f"unknown trap code {code}")


def raise_pending_trap(env):
    """Raise the trap compiled code ended with on `env`, if any, with the frames it
    recorded, and clear both."""
    code = env.trap_code
    if code == 0:
        return
    count = env.frame_count
    recorded = min(count, MAX_FRAMES)
    frames = backtrace.frames_at(env.frames[:recorded], env.trap_function)
    env.trap_code = env.frame_count = 0
    if code == TRAP_EXCEPTION:
        from . import exceptions    # not at start-up: most programs never throw
        raise exceptions.exception_from(env)
    if code == TRAP_HOST_EXCEPTION:
        exception, env.pending_exception = env.pending_exception, None
        exception = exception or Trap("host function failed")
    elif code == TRAP_STACK_EXHAUSTED:
        exception = Exhaustion()
    elif code == TRAP_INTERRUPTED:
        if env.interrupt & INTERRUPT_SIGNAL:
            # Ctrl-C: run Python's SIGINT handler now, which raises KeyboardInterrupt, rather
            # than at some later bytecode (loader/interruption.py).
            ctypes.pythonapi.PyErr_CheckSignals()
        exception = Interrupted()
    elif code == TRAP_OUT_OF_FUEL:
        exception = FuelExhausted()
    else:
        exception = _trap_of_code(code)
    if isinstance(exception, Trap):       # a host's own exception carries no wasm frames
        exception.add_frames(frames, count - recorded)
    raise exception
