"""The one place where Python calls into generated code, and traps come out of it.

Generated code lets a few Python exceptions stand for traps instead of checking before every
operation: an out-of-range load or store raises struct.error or IndexError, an integer
division by zero raises ZeroDivisionError, and a recursion too deep raises RecursionError.
Here they become the spec's traps. Every wasm call is one Python frame, so the wasm call depth
is bounded by raising Python's recursion limit to the current depth plus `max_call_depth`
while wasm runs (the outermost entry sets it; re-entries from host functions share it).

A host function may raise those same exceptions for reasons of its own. Its adapter
(externs.host_function) wraps them in a HostError, which generated code lets through and
which is unwrapped here: the caller gets the host's exception as it was raised.
"""

import struct
import sys

from .. import limits
from ..errors import Exhaustion, FuelExhausted, Trap
from ..fuel import UNLIMITED

DEFAULT_MAX_CALL_DEPTH = 20000
HEADROOM = 200             # frames for helpers, translation and host functions below the
                           # deepest wasm frame

# The exceptions that stand for traps when generated code raises them.
TRAP_EXCEPTIONS = (ZeroDivisionError, struct.error, IndexError, RecursionError)

_entered = 0

# The fuel left, for code translated with fuel (runtime/fuel.py); limits.Limits sets it.
FUEL = [UNLIMITED]


def out_of_fuel():
    raise FuelExhausted()


class HostError(Exception):
    """Carries an exception raised by a host function through generated code to the boundary,
    so that it is not taken for a trap on the way."""

    def __init__(self, error):
        super().__init__(error)
        self.error = error


def _python_depth():
    depth = 0
    frame = sys._getframe()
    while frame is not None:
        depth += 1
        frame = frame.f_back
    return depth


def _descend(levels):
    if levels:
        _descend(levels - 1)


def host_error(error):
    """What the adapter of a host function raises for `error`, one of TRAP_EXCEPTIONS raised
    by the host: a HostError, except for a RecursionError where less than half of HEADROOM is
    left below the recursion limit. Then the wasm calls below the host went past
    max_call_depth, and that is call stack exhaustion. (The room left is probed, not the
    frames counted, because a call through C, such as that of a HostFunc's `fn`, counts
    twice towards the limit.)"""
    if isinstance(error, RecursionError):
        try:
            _descend(HEADROOM // 2)
        except RecursionError:
            return error
    return HostError(error)


def call_into_wasm(function, args, max_call_depth=None, counts_fuel=False):
    """Call a generated (or host) function with interpreter values; return its result.
    `counts_fuel`: whether the function's module was translated with fuel."""
    global _entered
    saved_limit = None
    run = None
    if not _entered:
        run = limits.active()
        if run is not None:
            run.enter_interp(counts_fuel)   # may raise Interrupted: see runtime/limits.py
        saved_limit = sys.getrecursionlimit()
        depth = max_call_depth or DEFAULT_MAX_CALL_DEPTH
        sys.setrecursionlimit(_python_depth() + depth + HEADROOM)
    _entered += 1
    try:
        return function(*args)
    except HostError as carrier:
        error = carrier.error
    except ZeroDivisionError:
        raise Trap("integer divide by zero") from None
    except (struct.error, IndexError):
        raise Trap("out of bounds memory access") from None
    except RecursionError:
        raise Exhaustion() from None
    finally:
        if run is not None:
            run.leave_interp()
        _entered -= 1
        if saved_limit is not None:
            sys.setrecursionlimit(saved_limit)
    # Raised outside the handler, which would make the carrier its __context__.
    raise error
