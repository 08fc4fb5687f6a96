"""The fast interpreter: each function is translated on its first call into a Python function
(see docs/interpreter.md).

    from pywamr.runtime.interp import Module
    instance = Module(wasm_bytes).instantiate({"env": {...}})
    instance.exports["main"]()
"""

from .codegen import Unsupported
from .externs import Function, Global, Memory, Table
from .instance import Instance
from .module import Module

__all__ = ["Module", "Instance", "Function", "Memory", "Table", "Global", "Unsupported"]
