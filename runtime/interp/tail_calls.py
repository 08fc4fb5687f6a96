"""Tail calls in the interpreter (`return_call`, `return_call_indirect`): constant stack.

A wasm call is a Python call, so the Python frames are the wasm stack, and Python has no tail
calls. A function whose body makes tail calls is therefore translated as `t<k>`, which
returns `TailCall(target, args)` at each tail call instead of making it, and its callable
`f<k>` is `trampoline(t<k>)`: it runs the body and then each requested call in turn, in
one frame. The target is the callee's own `Function.tail`: `t<j>` for a function that makes
tail calls too, whose requests this same trampoline then carries out (so a chain of tail
calls through any number of functions, signatures and instances never grows the stack),
and for any other function its ordinary callable, whose result ends the chain.

Functions without tail calls are translated as before and pay nothing; an ordinary call of
a function that makes tail calls pays the trampoline's frame. The trampoline is plain Python
from this file, so backtraces (which keep the frames of translated code) do not show it: a
function that tail-called is gone from the stack, as in compiled code and wasmtime.
"""


class TailCall:
    """A tail call a body asks its trampoline to make."""

    __slots__ = ("target", "args")

    def __init__(self, target, args):
        self.target = target
        self.args = args


def trampoline(body):
    """The callable of a function whose body is `body` (see above)."""
    def call(*args):
        result = body(*args)
        while type(result) is TailCall:
            result = result.target(*result.args)
        return result
    return call
