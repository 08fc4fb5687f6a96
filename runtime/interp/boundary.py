"""The one place where Python calls into generated code, and traps come out of it.

Generated code lets a few Python exceptions stand for traps instead of checking before every
operation: an out-of-range load or store raises struct.error or IndexError, an integer
division by zero raises ZeroDivisionError, and a recursion too deep raises RecursionError.
Here they become the spec's traps. Every wasm call is one Python frame, so the wasm call depth
is bounded by raising Python's recursion limit to the current depth plus `max_call_depth`
while wasm runs (the outermost entry sets it; re-entries from host functions share it).
"""

import struct
import sys

from ..errors import Exhaustion, Trap

DEFAULT_MAX_CALL_DEPTH = 20000
HEADROOM = 200             # frames for helpers and translation below the deepest wasm frame

_entered = 0


def _python_depth():
    depth = 0
    frame = sys._getframe()
    while frame is not None:
        depth += 1
        frame = frame.f_back
    return depth


def call_into_wasm(function, args, max_call_depth=None):
    """Call a generated (or host) function with interpreter values; return its result."""
    global _entered
    saved_limit = None
    if not _entered:
        saved_limit = sys.getrecursionlimit()
        depth = max_call_depth or DEFAULT_MAX_CALL_DEPTH
        sys.setrecursionlimit(_python_depth() + depth + HEADROOM)
    _entered += 1
    try:
        return function(*args)
    except ZeroDivisionError:
        raise Trap("integer divide by zero") from None
    except (struct.error, IndexError):
        raise Trap("out of bounds memory access") from None
    except RecursionError:
        raise Exhaustion() from None
    finally:
        _entered -= 1
        if saved_limit is not None:
            sys.setrecursionlimit(saved_limit)
