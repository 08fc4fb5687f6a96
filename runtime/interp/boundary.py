"""The one place where Python calls into generated code, and traps come out of it.

Generated code lets a few Python exceptions stand for traps instead of checking before every
operation: an out-of-range load or store raises struct.error or IndexError, an integer
division by zero raises ZeroDivisionError, and a recursion too deep raises RecursionError.
Here they become the spec's traps. Every wasm call is one Python frame, so the wasm call depth
is bounded by raising Python's recursion limit to the current depth plus `max_call_depth`
while wasm runs (a thread's outermost entry sets it; re-entries from host functions share it).
The limit is one for all threads, while each thread counts its own depth: with several
threads in wasm it is the largest any of them asked for, so a thread may go deeper than its
`max_call_depth` asks, never less deep; it is put back when the last thread leaves.

A trap records the wasm frames it unwound (Trap.frames) from the Python traceback it
carries: every wasm function is a Python function of a "<wasm function ...>" code object,
so the boundary collects those frames between itself and the next boundary inward (a host
function's call back into wasm), which recorded its own. Nothing is spent until a trap.

A wasm exception no handler caught (exceptions.Thrown) leaves as the API's WasmException.

A host function may raise those same exceptions for reasons of its own. Its adapter
(externs.host_function) wraps them in a HostError, which generated code lets through and
which is unwrapped here: the caller gets the host's exception as it was raised.
"""

import itertools
import struct
import sys
import threading

from .. import limits
from ..errors import Exhaustion, Frame, FuelExhausted, Trap, TrapCode
from ..fuel import UNLIMITED
from . import layout
from .exceptions import Thrown

DEFAULT_MAX_CALL_DEPTH = 20000
HEADROOM = 200             # frames for helpers, translation and host functions below the
                           # deepest wasm frame

# The exceptions that stand for traps when generated code raises them.
TRAP_EXCEPTIONS = (ZeroDivisionError, struct.error, IndexError, RecursionError)

_thread = threading.local()      # entered: how many calls into wasm the thread is inside
_limits_lock = threading.Lock()
_wanted_limits = {}              # thread id -> the recursion limit its outermost call wants
_saved_limit = None              # the limit before the first thread entered

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
    entered = getattr(_thread, "entered", 0)
    run = None
    if not entered:
        run = limits.active()
        if run is not None:
            run.enter_interp(counts_fuel)   # may raise Interrupted: see runtime/limits.py
        _raise_limit(_python_depth() + (max_call_depth or DEFAULT_MAX_CALL_DEPTH) + HEADROOM)
    _thread.entered = entered + 1
    try:
        return function(*args)
    except HostError as carrier:
        error = carrier.error
    except Trap as trap:
        trap.add_frames(_wasm_frames(trap.__traceback__))
        raise
    except ZeroDivisionError as cause:
        error = _trap(Trap(TrapCode.INTEGER_DIVIDE_BY_ZERO), cause)
    except (struct.error, IndexError) as cause:
        error = _trap(Trap(TrapCode.OUT_OF_BOUNDS_MEMORY), cause)
    except RecursionError as cause:
        error = _trap(Exhaustion(), cause)
    except Thrown as thrown:
        error = thrown.to_api()
    finally:
        if run is not None:
            run.leave_interp()
        _thread.entered = entered
        if not entered:
            _restore_limit()
    # Raised outside the handler, which would make the exception caught its __context__.
    raise error


def _trap(trap, cause):
    trap.add_frames(_wasm_frames(cause.__traceback__))
    return trap


def _wasm_frames(traceback):
    """The wasm frames, innermost first, of `traceback` as caught by call_into_wasm: those
    after its own frame, up to the next call_into_wasm."""
    frames = []
    entry = traceback.tb_next
    while entry is not None:
        code = entry.tb_frame.f_code
        if code is _BOUNDARY:
            break
        if code.co_filename.startswith(layout.FUNCTION_FILENAME):
            index, _, part = code.co_name[1:].partition("_")
            index = int(index)
            module = entry.tb_frame.f_globals[layout.MODULE]
            frame = Frame(index, module.decoded.func_names.get(index),
                          module.code_offset(index, entry.tb_lineno, _columns(entry)))
            if part:                # an outlined part runs in its function's wasm frame
                frames[-1] = frame
            else:
                frames.append(frame)
        entry = entry.tb_next
    frames.reverse()
    return frames


def _columns(entry):
    """The columns (start, end) of the source of the instruction a traceback entry stopped
    at (a line may evaluate several wasm loads)."""
    positions = entry.tb_frame.f_code.co_positions()
    return next(itertools.islice(positions, entry.tb_lasti // 2, None), (None,) * 4)[2:]


def _raise_limit(wanted):
    global _saved_limit
    with _limits_lock:
        if not _wanted_limits:
            _saved_limit = sys.getrecursionlimit()
        _wanted_limits[threading.get_ident()] = wanted
        sys.setrecursionlimit(max(_wanted_limits.values()))


def _restore_limit():
    with _limits_lock:
        del _wanted_limits[threading.get_ident()]
        sys.setrecursionlimit(max(_wanted_limits.values(), default=_saved_limit))


_BOUNDARY = call_into_wasm.__code__
