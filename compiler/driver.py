"""The compilation pipeline: decode and validate the wasm, split its functions into parts,
compile each part (lower to LLVM IR, optimise, generate the ELF object, read its image) in
this process or in worker processes, merge the parts' images, prelink them (resolve what
does not depend on where the loader maps the code), and write the `.aot` file.

    compile_wasm(wasm_bytes, CompileOptions(opt_level=3, jobs=2)) -> .aot bytes
    compile_cached(wasm_bytes) -> the same, from the compile cache when it has it
"""

import os
from dataclasses import dataclass, fields

from pywamr.runtime.compile_cache import CompileCache, options_text
from pywamr.runtime.decoder import decode_module
from pywamr.runtime.types import MAX_PAGES
from pywamr.runtime.validator import validate

from . import CompileError
from .addresses import memory_limit_pages
from .aot_writer import write_aot
from .module_codegen import refuse_simd
from .object_merge import merge_images
from .part_compiler import PartJob, compile_linked, compile_parts
from .partition import PART_BYTES, split_functions
from .prelink import prelink
from .progress import PhaseClock, Progress
from .target import create_target_machine, resolve_target

FORMATS = ("aot", "object", "llvmir")

# Below this size a module compiles in a few seconds at most: no progress reports.
PROGRESS_MIN_BYTES = 100_000


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
    jobs: int | None = None          # worker processes; None: one per core. Output is the same
    part_bytes: int = PART_BYTES   # size of a part (partition.py)


def compile_wasm(wasm: bytes, options: CompileOptions = None, show_progress=None,
                 log=None) -> bytes:
    """Compile a wasm binary. Raises MalformedModule / InvalidModule for a bad module and
    CompileError for what cannot be compiled. `show_progress`: report the phases and a bar
    on stderr; None = for a module of PROGRESS_MIN_BYTES or more. `log`: called with a line
    of text for the target and one summing up the phases' times (pyaotc -v)."""
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
    if show_progress is None:
        show_progress = len(wasm) >= PROGRESS_MIN_BYTES
    progress = Progress(0, show_progress)
    try:
        progress.phase("decoding and validating")
        module = decode_module(wasm)
        validate(module)
        if not options.simd:
            refuse_simd(module)
        clock.lap("decode and validate")

        memory_limit = memory_limit_pages(module, options.bounds_checks,
                                          options.max_memory_4gib)
        parts = split_functions(module, options.part_bytes)
        job = PartJob(module, machine, spec.arch, spec.opt_level, options.bounds_checks,
                      memory_limit < MAX_PAGES, options.fuel, options.interrupt_checks)
        if options.format != "aot":
            progress.phase(f"compiling {len(parts)} parts as one LLVM module")
            return compile_linked(job, parts, emit_ir=options.format == "llvmir")

        jobs = min(options.jobs or available_cores(), len(parts))
        progress.total = len(module.codes)
        progress.phase(f"compiling {len(parts)} parts on {jobs} "
                       f"{'process' if jobs == 1 else 'processes'}")
        images = []
        for image, part_seconds in compile_parts(job, parts, jobs, progress.update):
            images.append(image)
            clock.add(part_seconds, in_this_process=jobs == 1)
        clock.lap("receive parts")

        progress.phase("writing the .aot file")
        image = prelink(merge_images(images))
        del images
        clock.lap("merge parts")
        bounds_mode = "explicit" if options.bounds_checks else "guard-pages"
        aot = write_aot(module, image, spec.as_dict(bounds_mode, memory_limit, options.fuel,
                                                    options.interrupt_checks))
        clock.lap("write .aot")
    finally:
        progress.close()
    clock.summary(f"{len(module.codes)} functions in {len(parts)} parts, -j{jobs}")
    return aot


def available_cores():
    """The cores this process may run on: the default number of workers."""
    return len(os.sched_getaffinity(0))


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
    (always aot) and jobs (the same output) aside. pyiwasm writes its compiles' options
    the same way (loader/cached_compile.py), so the two share entries."""
    return options_text({field.name: getattr(options, field.name) for field in fields(options)
                         if field.name not in ("format", "jobs")
                         and getattr(options, field.name) != field.default})
