"""Which wasm function each address of a trap's backtrace lies in.

Compiled code records an address inside each function on the stack when it traps
(compiler/traps.py); the frames of one trap may lie in the code of several modules, when
instances are linked by imports. Every loaded image registers the start of each of its
symbols in executable code here; an address belongs to the symbol starting last before it,
and names a frame when that symbol is a function's (`aot_func_N`), not an adapter's or an
entry's. Functions LLVM inlined into their callers have no frames of their own, except the
one that trapped, whose index the trap records.
"""

import bisect
import weakref

from pywamr.runtime.aot_abi import FUNC_SYMBOL_PREFIX, NO_FUNCTION
from pywamr.runtime.errors import Frame

_starts = []        # sorted start addresses of every registered image's code symbols
_owners = []        # parallel: (weak image, function index or None, names)


def register(image, names):
    """Make `image`'s functions known to backtraces; `names` maps index -> name."""
    _forget_unmapped()
    ref = weakref.ref(image)
    for name, address in image.code_symbols():
        index = int(name[len(FUNC_SYMBOL_PREFIX):]) if name.startswith(FUNC_SYMBOL_PREFIX) else None
        at = bisect.bisect_right(_starts, address)
        _starts.insert(at, address)
        _owners.insert(at, (ref, index, names))


def _forget_unmapped():
    """Drop the symbols of images that are gone: their addresses may be mapped again."""
    live = [i for i, (ref, _, _) in enumerate(_owners) if ref() is not None]
    _starts[:] = [_starts[i] for i in live]
    _owners[:] = [_owners[i] for i in live]


def frames_at(addresses, trapped=NO_FUNCTION):
    """The Frame of each address that lies in a registered function, in order, after the
    function that trapped (its index: `trapped`) where that was inlined into the first."""
    frames = []
    for address in addresses:
        at = bisect.bisect_right(_starts, address) - 1
        if at < 0:
            continue
        ref, index, names = _owners[at]
        image = ref()
        if index is None or image is None or not image.in_code(address):
            continue
        if not frames and trapped not in (index, NO_FUNCTION):
            frames.append(Frame(trapped, names.get(trapped), None))
        frames.append(Frame(index, names.get(index), None))
    return frames
