"""The compilation pipeline: decode and validate the wasm, lower it to LLVM IR, optimise,
generate the ELF object, extract its image, and write the `.aot` file.

    compile_wasm(wasm_bytes, CompileOptions(opt_level=3)) -> .aot bytes
    compile_cached(wasm_bytes) -> the same, from the compile cache when it has it
"""

import sys
from dataclasses import dataclass, fields

from pywamr.runtime.compile_cache import CompileCache, options_text
from pywamr.runtime.decoder import decode_module
from pywamr.runtime.types import MAX_PAGES
from pywamr.runtime.validator import validate

from . import CompileError
from .addresses import memory_limit_pages
from .aot_writer import write_aot
from .backend import emit_object, optimize, parse_and_link
from .elf_reader import read_elf_object
from .module_codegen import build_llvm_modules
from .progress import PhaseClock, Progress
from .target import create_target_machine, resolve_target

FORMATS = ("aot", "object", "llvmir")

# Below this many function bodies a module compiles too fast for a progress bar to help.
PROGRESS_MIN_FUNCTIONS = 500


@dataclass
class CompileOptions:
    target: str | None = None        # None: this machine; else x86_64, aarch64, arm64, a triple
    cpu: str | None = None
    cpu_features: str | None = None  # '+a,-b'
    opt_level: int = 3
    size_level: int = 3
    bounds_checks: bool = False      # False: guard pages (see guard_pages.py)
    max_memory_4gib: bool = False    # False: memory stops at 2 GiB (see addresses.py)
    simd: bool = True                # False: refuse modules that use v128 (--disable-simd)
    fuel: bool = False               # True: count fuel (runtime/fuel.py, --fuel)
    interrupt_checks: bool = True    # False: no Ctrl-C, timeout or interrupt() in the code
    format: str = "aot"              # 'aot' | 'object' (ELF) | 'llvmir' (optimised IR text)


def compile_wasm(wasm: bytes, options: CompileOptions = None, show_progress=None,
                 log=None) -> bytes:
    """Compile a wasm binary. Raises MalformedModule / InvalidModule for a bad module and
    CompileError for what cannot be compiled. `show_progress`: None = when stderr is a
    terminal and the module has PROGRESS_MIN_FUNCTIONS functions or more. `log`: called
    with a line of text for the target and for each phase's time (pyaotc -v)."""
    clock = PhaseClock(log)
    options = options or CompileOptions()
    if options.format not in FORMATS:
        raise CompileError(f"unknown output format {options.format!r}; choose from "
                           f"{', '.join(FORMATS)}")
    spec = resolve_target(options.target, options.cpu, options.cpu_features,
                          options.opt_level, options.size_level)
    machine = create_target_machine(spec, check_names=bool(options.cpu or options.cpu_features))
    clock.note(f"target {spec.triple}, cpu {spec.cpu}, features {spec.features or '(none)'}, "
               f"-O{spec.opt_level}")
    module = decode_module(wasm)
    validate(module)
    clock.lap("decode and validate")

    memory_limit = memory_limit_pages(module, options.bounds_checks, options.max_memory_4gib)
    if show_progress is None:
        show_progress = sys.stderr.isatty() and len(module.codes) >= PROGRESS_MIN_FUNCTIONS
    progress = Progress(len(module.codes), "lowering", enabled=show_progress)
    try:
        parts = build_llvm_modules(module, spec.triple, options.bounds_checks,
                                   memory_limit < MAX_PAGES, options.simd, progress.update,
                                   options.fuel, options.interrupt_checks)
        llvm_module = parse_and_link(str(part) for part in parts)   # lowers as it goes
        clock.lap(f"lower {len(module.codes)} functions to LLVM IR and parse it")
        progress.phase("optimizing")
        optimize(llvm_module, machine, spec.opt_level)
        clock.lap("optimize")
        if options.format == "llvmir":
            return str(llvm_module).encode()
        progress.phase("generating code")
        obj = emit_object(llvm_module, machine)
        clock.lap("generate code")
    finally:
        progress.close()
    if options.format == "object":
        return obj
    image = read_elf_object(obj, spec.arch)
    bounds_mode = "explicit" if options.bounds_checks else "guard-pages"
    aot = write_aot(module, image, spec.as_dict(bounds_mode, memory_limit, options.fuel,
                                                options.interrupt_checks))
    clock.lap("write the .aot file")
    return aot


def compile_cached(wasm: bytes, options: CompileOptions = None, cache=None) -> bytes:
    """compile_wasm() through the compile cache (runtime/compile_cache.py): the .aot file
    stored for this module, options, machine and pywamr version, else a new one, stored.
    `cache`: None for CompileCache() (the user's cache directory), a CompileCache, or False
    to compile without one. Only the aot format is cached."""
    options = options or CompileOptions()
    if options.format != "aot":
        raise CompileError(f"only .aot files are cached, not the {options.format} format")
    if cache is False:
        return compile_wasm(wasm, options)
    if cache is None:
        cache = CompileCache()
    key = cache.key(wasm, cache_options_text(options))
    aot = cache.load(key)
    if aot is None:
        aot = compile_wasm(wasm, options)
        cache.store(key, aot)
    return aot


def cache_options_text(options):
    """The compile cache's text of `options`: its fields not at their defaults, format
    aside (always aot). pyiwasm writes its compiles' options the same way
    (loader/cached_compile.py), so the two share entries."""
    return options_text({field.name: getattr(options, field.name) for field in fields(options)
                         if field.name != "format"
                         and getattr(options, field.name) != field.default})
