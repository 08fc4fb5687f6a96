"""Wasm exceptions in the interpreter: `Thrown`, an exnref and the Python exception that
carries it.

A wasm exception is a Python exception, so that it unwinds generated code, calls, imports,
other instances and tail-call trampolines as Python unwinds them, and code that does not
handle exceptions pays nothing (CPython 3.11's `try` costs nothing until something is
raised). `throw` raises `Thrown(tag, payload)`: the runtime.api.Tag object, compared by
identity (an imported tag is its exporter's object), and the payload in the interpreter's
representation, a tuple. The same object is the exnref value that catch_ref passes and
throw_ref raises again.

Handlers catch `Thrown` only, never a trap's exceptions (Trap, ZeroDivisionError,
struct.error, ...), which the spec makes uncatchable. A try_table becomes
`try: ... except Thrown as _e:` whose clause compares `_e.tag` with each catch's tag and
branches to the catch's label; a legacy try keeps the caught exception in a variable
(`_c<id>`), leaves the except clause, and runs the matching handler after the `try`
statement, so that what a handler throws is not chained to what it caught (Python would
link every exception raised in an except clause to the one being handled, and a loop of
catch and throw would grow that chain without end).

`delegate l` passes an exception on to the handlers of the l-th label out, past the handlers
in between: it sets `skip` to the number of try bodies between, and each handler that sees a
non-zero `skip` counts it down and raises the exception again without looking at it. Only
functions that delegate emit that check; `skip` is back at 0 when the exception leaves
the function.

At the API the exception is a runtime.errors.WasmException, with the payload as friendly
values: boundary.py turns a Thrown that leaves wasm into one, and the adapter of a host
function turns one the host raises into a Thrown (`thrown_from_api`); an exnref crossing
the API (a result, an argument, a global) converts the same way.
"""

from ..errors import Trap, TrapCode, WasmException
from ..values import from_bits, to_bits


class Thrown(Exception):
    """A wasm exception inside the interpreter, and its exnref (see above)."""

    def __init__(self, tag, payload):
        super().__init__(tag, payload)
        self.tag = tag
        self.payload = payload
        self.skip = 0           # try bodies a delegate still passes it past

    def to_api(self):
        """The runtime.errors.WasmException of this exception."""
        from .externs import TO_BITS
        params = self.tag.type.params
        return WasmException(self.tag, [from_bits(t, TO_BITS[t](v))
                                        for t, v in zip(params, self.payload)])


def thrown_from_api(error):
    """The Thrown of a runtime.errors.WasmException."""
    from .externs import FROM_BITS
    params = error.tag.type.params
    return Thrown(error.tag, tuple(FROM_BITS[t](to_bits(t, v))
                                   for t, v in zip(params, error.values)))


def throw_ref(exn):
    """throw_ref: raise the exception of an exnref again, with a fresh traceback (the old one
    would grow with every rethrow)."""
    if exn is None:
        raise Trap(TrapCode.NULL_EXCEPTION_REFERENCE)
    exn.skip = 0
    raise exn.with_traceback(None)
