"""Differential fuzzing: random modules from `wasm-tools smith` run on wasmtime (the oracle),
the interpreter and the AOT engine in every configuration; any difference is a bug in one of
them (docs/fuzzing.md).

    python3 -m pywamr.fuzz --minutes 60
"""
