"""The wasmtime rows, through the wasmtime package from PyPI (which ships no CLI).

    python wasmtime_run.py compile X.wasm X.cwasm   # Cranelift compile, serialized to disk
    python wasmtime_run.py run X.cwasm ARGS...       # load the precompiled module, run _start

so that compile time and run time are measured apart, like pyaotc and pyiwasm.
"""

import sys

import wasmtime


def compile_module(wasm_path, cwasm_path):
    engine = wasmtime.Engine()
    module = wasmtime.Module.from_file(engine, wasm_path)
    with open(cwasm_path, "wb") as f:
        f.write(module.serialize())


def run_module(cwasm_path, args):
    engine = wasmtime.Engine()
    module = wasmtime.Module.deserialize_file(engine, cwasm_path)
    linker = wasmtime.Linker(engine)
    linker.define_wasi()
    store = wasmtime.Store(engine)
    wasi = wasmtime.WasiConfig()
    wasi.argv = [cwasm_path, *args]
    wasi.inherit_stdout()
    wasi.inherit_stderr()
    store.set_wasi(wasi)
    instance = linker.instantiate(store, module)
    try:
        instance.exports(store)["_start"](store)
    except wasmtime.ExitTrap as exit_:
        return exit_.code
    return 0


def main(argv):
    if len(argv) == 3 and argv[0] == "compile":
        compile_module(argv[1], argv[2])
        return 0
    if len(argv) >= 2 and argv[0] == "run":
        return run_module(argv[1], argv[2:])
    sys.exit("usage: wasmtime_run.py compile X.wasm X.cwasm | run X.cwasm [ARGS...]")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
