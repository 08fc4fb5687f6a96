"""Which wasm function each address of a trap's backtrace lies in.

Compiled code records an address inside each function on the stack when it traps
(compiler/traps.py); the frames of one trap may lie in the code of several modules, when
instances are linked by imports. Every loaded image is registered here; an address belongs
to the symbol in executable code starting last before it, and names a frame when that symbol
is a function's (`aot_func_N`, or the tail entry `aot_tail_N` of one that makes tail calls,
whose `aot_func_N` then only calls it and is no frame of its own), not an adapter's or an
entry's. Functions LLVM inlined into their callers have no frames of their own, except the
one that trapped, whose index the trap records. The index of symbols is built on the first trap after a load: start-up does
not pay for it.
"""

import bisect
import threading
import weakref

from pywamr.runtime.aot_abi import FUNC_SYMBOL_PREFIX, NO_FUNCTION, TAIL_SYMBOL_PREFIX
from pywamr.runtime.errors import Frame

_images = []        # (weak image, names) of every image registered
# Built when needed: (sorted start addresses of the images' code symbols, parallel (weak
# image, function index or None, names)), or None.
_index = None
_lock = threading.Lock()    # threads may trap while another loads a module


def register(image, names):
    """Make `image`'s functions known to backtraces; `names` maps index -> name."""
    global _index
    with _lock:
        _images.append((weakref.ref(image), names))
        _index = None


def _build_index():
    live = [(ref, image, names) for ref, names in _images if (image := ref()) is not None]
    _images[:] = [(ref, names) for ref, _, names in live]
    symbols = []
    for ref, image, names in live:
        code_symbols = image.code_symbols()
        tail_entries = {int(name[len(TAIL_SYMBOL_PREFIX):]) for name, _ in code_symbols
                        if name.startswith(TAIL_SYMBOL_PREFIX)}
        for name, address in code_symbols:
            index = None
            if name.startswith(TAIL_SYMBOL_PREFIX):
                index = int(name[len(TAIL_SYMBOL_PREFIX):])
            elif name.startswith(FUNC_SYMBOL_PREFIX):
                index = int(name[len(FUNC_SYMBOL_PREFIX):])
                if index in tail_entries:
                    index = None
            symbols.append((address, (ref, index, names)))
    symbols.sort(key=lambda symbol: symbol[0])
    return [address for address, _ in symbols], [owner for _, owner in symbols]


def frames_at(addresses, trapped=NO_FUNCTION):
    """The Frame of each address that lies in a registered function, in order, after the
    function that trapped (its index: `trapped`) where that was inlined into the first."""
    global _index
    with _lock:
        if _index is None:
            _index = _build_index()
        starts, owners = _index
    frames = []
    for address in addresses:
        at = bisect.bisect_right(starts, address) - 1
        if at < 0:
            continue
        ref, index, names = owners[at]
        image = ref()
        if index is None or image is None or not image.in_code(address):
            continue
        if not frames and trapped not in (index, NO_FUNCTION):
            frames.append(Frame(trapped, names.get(trapped), None))
        frames.append(Frame(index, names.get(index), None))
    return frames
