"""Symbols of loaded code for Linux `perf`, as `/tmp/perf-PID.map` (the format perf reads
for code it finds no ELF file for: `START SIZE name` in hex, one line per symbol).

With PYWAMR_PERF_MAP=1 in the environment, AotModule writes the map of each module it loads,
and `perf record` / `perf report` name the samples in compiled wasm code `aot_func_N (name)`
instead of showing bare addresses.
"""

import os

from pywamr.runtime.aot_abi import FUNC_SYMBOL_PREFIX


def write(image, names):
    """Append `image`'s code symbols; a symbol ends where the next one starts."""
    symbols = sorted(image.code_symbols(), key=lambda symbol: symbol[1])
    ends = [address for _, address in symbols[1:]] + [image.code_end]
    lines = []
    for (name, start), end in zip(symbols, ends):
        if end == start:        # a section's symbol, at its first function's address
            continue
        if name.startswith(FUNC_SYMBOL_PREFIX):
            index = int(name[len(FUNC_SYMBOL_PREFIX):])
            if index in names:
                name = f"{name} ({names[index]})"
        lines.append(f"{start:x} {end - start:x} {name}\n")
    with open(f"/tmp/perf-{os.getpid()}.map", "a") as out:
        out.writelines(lines)
