"""Ctrl-C in compiled code: the loader's half (docs/aot-abi.md, "Interruption").

Every module defines `aot_interrupt_handler` (compiler/interruption.py). Installed for
SIGINT in front of the handler Python put there, it sets INTERRUPT_SIGNAL in the main
thread's ExecEnv, so that compiled code running there traps "interrupted" at its next
check, and then calls Python's handler. When the call has returned, the loader runs
Python's signal handlers at once (exec_env.raise_pending_trap), which raises
KeyboardInterrupt in the calling thread, as in pure Python.

The handler is installed only in front of a handler that is a function: with SIGINT ignored
or left to the default action there is nothing to chain to (the default ends the process
anyway). Like the fault handler, it is installed once per process from the first module
loaded, whose code stays mapped, and installed again when something (`signal.signal`) has
replaced it since.
"""

import ctypes
import threading

from pywamr.runtime.aot_abi import INTERRUPT_HANDLER_SYMBOL, InterruptState, SigAction

from .exec_env import current
from .guard_pages import SA_ONSTACK, SA_SIGINFO, SIGINT, sigaction

STATE = InterruptState()
STATE_ADDRESS = ctypes.addressof(STATE)

_SIG_IGN = 1
_handler_image = None       # the LoadedImage whose aot_interrupt_handler is installed


def install_interrupt_handler(image):
    """Put `image`'s aot_interrupt_handler (or the one installed before) in front of the
    SIGINT handler, if that is a function and not ours already."""
    global _handler_image
    if threading.current_thread() is not threading.main_thread():
        return          # only the main thread gets SIGINT in Python; see the first call there
    current_action = SigAction()
    sigaction(SIGINT, None, ctypes.byref(current_action))
    if _handler_image is not None and \
            current_action.handler == _handler_image.address_of(INTERRUPT_HANDLER_SYMBOL):
        return
    if current_action.handler <= _SIG_IGN:
        return
    if _handler_image is None:
        _handler_image = image
    STATE.exec_env = ctypes.addressof(current())
    STATE.previous = current_action
    action = SigAction(handler=_handler_image.address_of(INTERRUPT_HANDLER_SYMBOL),
                       mask=current_action.mask,
                       flags=current_action.flags | SA_SIGINFO | SA_ONSTACK)
    if sigaction(SIGINT, ctypes.byref(action), None) != 0:
        raise OSError(ctypes.get_errno(), "sigaction(SIGINT) failed")
