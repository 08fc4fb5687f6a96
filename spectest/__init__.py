"""The WebAssembly spec-test runner: `python -m pywamr.spectest [--engine interp|aot] [PATH ...]`.

It converts `.wast` scripts with wast2json, checks decoding and validation itself, and hands
the execution commands (assert_return, assert_trap, ...) to an engine. See `runner.py`.
"""
