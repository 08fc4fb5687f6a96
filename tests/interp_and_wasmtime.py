"""What the random-module tests of the interpreter share: a module from text (wat2wasm),
one export run on the interpreter and on wasmtime from the same memory, wasmtime run in a
child process, and a longer campaign of seeds from the command line."""

import pickle
import subprocess
import tempfile
from pathlib import Path

from pywamr.fuzz.sandbox import run_forked
from pywamr.runtime.errors import Trap
from pywamr.runtime.interp import Module

PAGE = 65536


def compile_wat(text):
    with tempfile.TemporaryDirectory() as tmp:
        wat, wasm = Path(tmp, "m.wat"), Path(tmp, "m.wasm")
        wat.write_text(text)
        subprocess.run(["wat2wasm", str(wat), "-o", str(wasm)], check=True,
                       capture_output=True)
        return wasm.read_bytes()


def in_child(function, *args):
    """function(*args), run in a forked child: wasmtime must never start in pytest's own
    process, whose forks run wasmtime in the fuzz harness (fuzz/sandbox.py), and neither
    its compile threads nor its trap handling survive a fork (a compile waits forever, a
    trap kills the child)."""
    events = run_forked(_emit_result, (function, args), timeout=120)
    if events and events[-1][0] == "result":
        return pickle.loads(bytes.fromhex(events[-1][1]))
    raise AssertionError(f"the child running {function.__name__}: {events}")


def _emit_result(function, args, emit):
    emit(["result", pickle.dumps(function(*args)).hex()])


def run_on_both(binary, args, widths, memory, result_bits):
    """[interp result, interp memory, wasmtime result, wasmtime memory] of the export `run`
    called with `args` (unsigned, of `widths` bits) on a module whose one page of memory
    starts as `memory`; a result is its low `result_bits` bits, or a trap's message."""
    found = []
    instance = Module(binary).instantiate()
    instance.exports["memory"].write(memory, 0)
    try:
        found.append(instance.exports["run"].call_bits(args)[0])
    except Trap as trap:
        found.append(trap.message)
    found.append(instance.exports["memory"].read(0, PAGE))
    return found + in_child(_run_wasmtime, binary, args, widths, memory, result_bits)


def _run_wasmtime(binary, args, widths, memory, result_bits):
    import wasmtime
    found = []
    store = wasmtime.Store()
    exports = wasmtime.Instance(store, wasmtime.Module(store.engine, binary), []).exports(store)
    exports["memory"].write(store, memory, 0)
    signed = [a - (1 << width) if a >> (width - 1) else a for a, width in zip(args, widths)]
    try:
        found.append(exports["run"](store, *signed) % 2**result_bits)
    except wasmtime.Trap:
        found.append("out of bounds memory access")
    found.append(bytes(exports["memory"].read(store, 0, PAGE)))
    return found


def campaign(check_seed, argv):
    """`python tests/test_X.py FIRST_SEED COUNT`: check_seed(seed) (None, or what differs)
    for COUNT seeds from FIRST_SEED on, printing each difference."""
    first, count = int(argv[1]), int(argv[2])
    failures = 0
    for seed in range(first, first + count):
        problem = check_seed(seed)
        if problem:
            failures += 1
            print(f"seed {seed}:\n{problem}\n", flush=True)
    print(f"{failures} of {count} seeds differ")
