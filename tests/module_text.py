"""WAT source to the bytes each engine loads, cached per text: `wasm` for the interpreter,
`aot` (compiled for this machine with pyaotc's defaults) for the AOT loader."""

import functools
import subprocess

import pytest


@functools.cache
def wasm(text):
    return subprocess.run(["wasm-tools", "parse", "-"], input=text.encode(),
                          capture_output=True, check=True).stdout


@functools.cache
def aot(text):
    pytest.importorskip("llvmlite")
    from pywamr.compiler.driver import compile_wasm
    return compile_wasm(wasm(text))
