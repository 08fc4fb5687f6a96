"""pyaotc: the ahead-of-time compiler, wasm -> LLVM IR (llvmlite) -> native ELF object -> `.aot`.

This package's top level imports nothing heavy, so `pyaotc` can explain a missing llvmlite
in one line. The pipeline lives in `driver.py`; the wasm-to-LLVM lowering in
`translator.py` and the modules it dispatches to.
"""

from pywamr.runtime.errors import WasmError


class CompileError(WasmError):
    """The module cannot be compiled (unsupported feature, bad option, LLVM failure)."""
