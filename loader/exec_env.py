"""The process's execution environment: the one ExecEnv every instance's VMContext points
at (docs/aot-abi.md), and the conversion of the trap code compiled code leaves in it into a
Python exception once the call from Python returns.

There is one ExecEnv per process, so compiled code must not run on two threads at once.
"""

import ctypes
import resource

from pywamr.runtime.aot_abi import TRAP_HOST_EXCEPTION, TRAP_KINDS, TRAP_STACK_EXHAUSTED, ExecEnv
from pywamr.runtime.errors import Exhaustion, Frame, Trap

EXEC_ENV = ExecEnv()
EXEC_ENV_ADDRESS = ctypes.addressof(EXEC_ENV)

_pending_exception = None   # raised by a host function, re-raised when the call unwinds

# Room left on the native stack for the Python frames below the outermost call into
# compiled code and for host functions called from it.
STACK_MARGIN = 1 << 20


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


def raise_pending_trap(names):
    """Raise the trap compiled code ended with, if any, with the frames it unwound (function
    names from `names`, index -> name), and clear both."""
    global _pending_exception
    env = EXEC_ENV
    code = env.trap_code
    if code == 0:
        return
    count = env.frame_count
    frames = [Frame(index, names.get(index), None) for index in env.frames[:count]]
    env.trap_code = env.frame_count = 0
    if code == TRAP_HOST_EXCEPTION:
        exception, _pending_exception = _pending_exception, None
        exception = exception or Trap("host function failed")
    elif code == TRAP_STACK_EXHAUSTED:
        exception = Exhaustion()
    else:
        exception = Trap(TRAP_KINDS.get(code, f"unknown trap code {code}"))
    if isinstance(exception, Trap):       # a host's own exception carries no wasm frames
        exception.add_frames(frames, count - len(frames))
    raise exception
