"""Guard-page bounds checks: the loader's half (docs/aot-abi.md, "Guard pages").

Code compiled with `--bounds-checks off` accesses memory unchecked; an access outside the
accessible pages of a linear memory's 10 GiB reservation raises SIGSEGV. The module's own
`aot_fault_handler` (compiler/guard_pages.py) turns that into trap 5 when the address lies
in a reservation listed in STATE and wasm code is running on the faulting thread, whose
ExecEnv it finds in STATE's table of threads, and otherwise reinstalls the
previous SIGSEGV action, under which the fault then recurs: a crash elsewhere in the
process stays a crash.

STATE is what the handler reads, through the external symbol GUARD_STATE_SYMBOL. The
handler is installed once per process from the first such module loaded, whose code is kept
mapped for the life of the process.
"""

import ctypes

from pywamr.runtime.aot_abi import (FAULT_HANDLER_SYMBOL, GUARD_RANGES, GUARD_THREADS,
                                    GuardState, SigAction)
from pywamr.runtime.errors import ResourceError

STATE = GuardState()
STATE_ADDRESS = ctypes.addressof(STATE)

# Linux's numbers (the signal module's enums cost every start half a millisecond to make).
SIGINT = 2
SIGSEGV = 11
SA_SIGINFO = 0x4
SA_ONSTACK = 0x08000000
_SA_NODEFER = 0x40000000     # leave SIGSEGV unblocked: the handler leaves by siglongjmp

_libc = ctypes.CDLL(None, use_errno=True)
sigaction = _libc.sigaction
sigaction.argtypes = (ctypes.c_int, ctypes.POINTER(SigAction), ctypes.POINTER(SigAction))
sigaction.restype = ctypes.c_int

_handler_image = None       # the LoadedImage whose aot_fault_handler is installed


def _free_slot(pairs, count, capacity, what):
    """The first slot of a pair table whose second word is 0 (free), else a new one."""
    slot = next((i for i in range(count) if pairs[2 * i + 1] == 0), count)
    if slot == capacity:
        raise ResourceError(f"more than {capacity} {what} at once")
    return slot


def register_reservation(start, size):
    """Make faults in [start, start + size) traps. The entry is complete before the handler
    can see it."""
    slot = _free_slot(STATE.ranges, STATE.num_ranges, GUARD_RANGES,
                      "linear memories reserving address space")
    STATE.ranges[2 * slot] = start
    STATE.ranges[2 * slot + 1] = start + size
    STATE.num_ranges = max(STATE.num_ranges, slot + 1)


def unregister_reservation(start):
    ranges = STATE.ranges
    for i in range(STATE.num_ranges):
        if ranges[2 * i] == start:
            ranges[2 * i + 1] = 0
            ranges[2 * i] = 0


def register_thread(thread, exec_env_address):
    """List `exec_env_address` as the ExecEnv of `thread` (its pthread_t); returns the slot.
    A thread has one ExecEnv, so an entry left with the same id was a dead thread's (ids are
    reused) and goes. Entries change only under the GIL, and the handler reads only the
    faulting thread's, which that thread itself wrote."""
    threads = STATE.threads
    for i in range(STATE.num_threads):
        if threads[2 * i] == thread:
            threads[2 * i] = threads[2 * i + 1] = 0
    slot = _free_slot(threads, STATE.num_threads, GUARD_THREADS, "threads running wasm")
    threads[2 * slot + 1] = exec_env_address
    threads[2 * slot] = thread
    STATE.num_threads = max(STATE.num_threads, slot + 1)
    return slot


def unregister_thread(slot, exec_env_address):
    """Free `slot`, unless register_thread gave it to another ExecEnv meanwhile."""
    threads = STATE.threads
    if threads[2 * slot + 1] == exec_env_address:
        threads[2 * slot] = threads[2 * slot + 1] = 0


def install_fault_handler(image):
    """Make `image`'s aot_fault_handler the SIGSEGV handler, unless it (or an earlier
    module's identical one) already is. Checked at every instantiation, because other code
    (e.g. faulthandler being re-enabled) may have replaced it meanwhile."""
    global _handler_image
    current = SigAction()
    sigaction(SIGSEGV, None, ctypes.byref(current))
    if _handler_image is not None and \
            current.handler == _handler_image.address_of(FAULT_HANDLER_SYMBOL):
        return
    if _handler_image is None:
        _handler_image = image
    action = SigAction(handler=_handler_image.address_of(FAULT_HANDLER_SYMBOL),
                       flags=SA_SIGINFO | SA_ONSTACK | _SA_NODEFER)
    if sigaction(SIGSEGV, ctypes.byref(action), ctypes.byref(STATE.previous)) != 0:
        raise OSError(ctypes.get_errno(), "sigaction(SIGSEGV) failed")
