"""How a module's function bodies are split into parts, each lowered, optimised and turned
into code on its own (in a worker process with `pyaotc -j N`), and merged into one object
image at the end (object_merge.py).

The split depends on the module alone, never on the number of workers, so the `.aot` file
is the same bytes whatever -j is. A part is a run of consecutive bodies of about PART_BYTES
bytes of wasm code (some 50,000 instructions): small enough that a part's LLVM module
(about 550 bytes of Python objects per wasm instruction, ir_text.py) bounds the compiler's
memory, and that a 1 MB module gives two workers several parts to share; big enough that a
program of a few hundred KB is one part, so that LLVM inlines across all of it. Calls
between parts are not inlined (docs/compiler.md, "Parts").

Sizes come from the bodies' size fields, not from counting instructions: the decoder keeps
the bodies it found valid as bytes (runtime/module.py, FunctionBody), and the split must
not decode the whole module at once in the process that forks the workers.
"""

from dataclasses import dataclass

PART_BYTES = 120_000


@dataclass(frozen=True)
class Part:
    index: int
    codes: range          # indices into module.codes (defined functions)
    size: int             # bytes of its bodies


def split_functions(module, part_bytes=PART_BYTES):
    """The parts of `module`, in order; at least one, even for a module without code (the
    first part also holds the adapters and handlers: module_codegen.py)."""
    parts = []
    start = size = 0
    for i, body in enumerate(module.codes):
        if size >= part_bytes:
            parts.append(Part(len(parts), range(start, i), size))
            start, size = i, 0
        size += body.size
    parts.append(Part(len(parts), range(start, len(module.codes)), size))
    return parts
