"""The process's execution environment: the one ExecEnv every instance's VMContext points
at (docs/aot-abi.md), and the conversion of the trap code compiled code leaves in it into a
Python exception once the call from Python returns.

There is one ExecEnv per process, so compiled code must not run on two threads at once.
`current()` is how the rest of the loader and runtime/limits.py reach it.
"""

import ctypes
import resource

from pywamr.runtime.aot_abi import (INTERRUPT_SIGNAL, TRAP_HOST_EXCEPTION, TRAP_INTERRUPTED,
                                    TRAP_MESSAGES, TRAP_OUT_OF_FUEL, TRAP_STACK_EXHAUSTED,
                                    ExecEnv)
from pywamr.runtime.errors import Exhaustion, FuelExhausted, Interrupted, Trap
from pywamr.runtime.fuel import UNLIMITED

EXEC_ENV = ExecEnv(fuel=UNLIMITED)
EXEC_ENV_ADDRESS = ctypes.addressof(EXEC_ENV)

_pending_exception = None   # raised by a host function, re-raised when the call unwinds

# Room left on the native stack for the Python frames below the outermost call into
# compiled code and for host functions called from it.
STACK_MARGIN = 1 << 20


def current():
    """The ExecEnv of the calling thread."""
    return EXEC_ENV


def usable_stack_size(requested):
    """The stack budget compiled code gets: what was asked for, but never more than the
    thread's stack holds, so that deep recursion ends in a trap, not a crash."""
    soft_limit, _ = resource.getrlimit(resource.RLIMIT_STACK)
    stack = soft_limit if soft_limit != resource.RLIM_INFINITY else 8 << 20
    return max(min(requested, stack - STACK_MARGIN), 64 << 10)


def trap(code):
    """Make compiled code unwind with trap `code` (used by the runtime helpers)."""
    EXEC_ENV.trap_code = code


def trap_with_exception(exception):
    """Make compiled code unwind; the call from Python then re-raises `exception`."""
    global _pending_exception
    _pending_exception = exception
    EXEC_ENV.trap_code = TRAP_HOST_EXCEPTION


def raise_pending_trap():
    """Raise the trap compiled code ended with, if any, and clear it."""
    global _pending_exception
    code = EXEC_ENV.trap_code
    if code == 0:
        return
    EXEC_ENV.trap_code = 0
    if code == TRAP_HOST_EXCEPTION:
        exception, _pending_exception = _pending_exception, None
        raise exception or Trap("host function failed")
    if code == TRAP_STACK_EXHAUSTED:
        raise Exhaustion()
    if code == TRAP_INTERRUPTED:
        if EXEC_ENV.interrupt & INTERRUPT_SIGNAL:
            # Ctrl-C: run Python's SIGINT handler now, which raises KeyboardInterrupt, rather
            # than at some later bytecode (loader/interruption.py).
            ctypes.pythonapi.PyErr_CheckSignals()
        raise Interrupted()
    if code == TRAP_OUT_OF_FUEL:
        raise FuelExhausted()
    raise Trap(TRAP_MESSAGES.get(code, f"unknown trap code {code}"))
