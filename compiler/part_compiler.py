"""Compile a module's parts (partition.py) to object images: each part is lowered to
LLVM IR, printed and parsed, optimised, turned into an ELF object and read back, and its
LLVM module freed before the next part starts, so memory follows a part, not the module.

With `jobs` > 1 the parts go to that many worker processes. Workers are forked, so they
inherit the decoded module and the target machine instead of receiving them pickled; each
sends back its part's ObjectImage and the CPU time of each phase. Results come back in part
order whatever finishes first, and a part compiles the same in any process, so the merged
image does not depend on the number of workers.
"""

import gc
import multiprocessing
import time
from contextlib import contextmanager
from dataclasses import dataclass

from .backend import emit_object, optimize, parse_and_link
from .elf_reader import read_elf_object
from .module_codegen import build_llvm_part
from .module_env import ModuleEnv

# What a part's compile spends its time on, in order (pyaotc -v, docs/compiler.md).
PART_PHASES = ("lower", "print IR", "parse IR", "optimize", "generate code", "read ELF")


@dataclass
class PartJob:
    """What every part of one module is compiled with."""
    module: object              # the decoded and validated runtime Module
    machine: object             # llvmlite TargetMachine
    arch: str
    opt_level: int
    bounds_checks: bool
    signed_addresses: bool      # memory stops at 2 GiB (addresses.py)
    fuel: bool
    interrupt_checks: bool


class PartCompiler:
    """Compiles parts of one module, one at a time, in the process it lives in."""

    def __init__(self, job):
        self.job = job
        self.menv = ModuleEnv(job.module, job.machine.triple, job.bounds_checks,
                              job.signed_addresses, job.fuel, job.interrupt_checks,
                              job.opt_level)

    def lower(self, part, progress=None, times=None):
        """The part's LLVM IR text. `times`: a PhaseTimes to record lowering and printing."""
        with cyclic_gc_paused():
            ir_module = build_llvm_part(self.menv, part, progress)
            if times is not None:
                times.lap("lower")
            text = str(ir_module)
            del ir_module
            self.menv.release_llvm_module()
            if times is not None:
                times.lap("print IR")
        return text

    def compile(self, part, progress=None):
        """(ObjectImage of `part`, {phase: CPU seconds})."""
        times = PhaseTimes()
        text = self.lower(part, progress, times)
        llvm_module = parse_and_link([text])
        del text
        times.lap("parse IR")
        optimize(llvm_module, self.job.machine, self.job.opt_level)
        times.lap("optimize")
        obj = emit_object(llvm_module, self.job.machine)
        llvm_module.close()
        times.lap("generate code")
        image = read_elf_object(obj, self.job.arch)
        times.lap("read ELF")
        return image, times.seconds


@contextmanager
def cyclic_gc_paused():
    """Python's cyclic garbage collector off (if it was on) for the block. A part's IR is
    some hundred thousand objects made at once, which set off full collections that walk
    all of them and the decoded module again and again: with the collector on, lowering
    the 1 MB module took 2.8 times as long. Nothing is left for it to do: the IR module
    is freed by reference counting (ir_text.Module.discard)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


class PhaseTimes:
    """CPU seconds of this process per phase, from one lap() to the next."""

    def __init__(self):
        self.seconds = {}
        self.last = time.process_time()

    def lap(self, phase):
        now = time.process_time()
        self.seconds[phase] = self.seconds.get(phase, 0.0) + now - self.last
        self.last = now


def compile_parts(job, parts, jobs, progress=None):
    """Yield (ObjectImage, {phase: CPU seconds}) for each part, in part order, compiled by
    min(jobs, len(parts)) processes. `progress`: called with the functions done so far."""
    workers = min(jobs, len(parts))
    done = 0
    if workers <= 1:
        compiler = PartCompiler(job)
        for part in parts:
            result = compiler.compile(part, progress and (lambda n: progress(done + n)))
            done += len(part.codes)
            yield result
        return
    context = multiprocessing.get_context("fork")
    with context.Pool(workers, initializer=start_worker, initargs=(job,)) as pool:
        for part, result in zip(parts, pool.imap(compile_in_worker, parts)):
            done += len(part.codes)
            if progress:
                progress(done)
            yield result


_worker = None      # the PartCompiler of a worker process


def start_worker(job):
    global _worker
    _worker = PartCompiler(job)


def compile_in_worker(part):
    return _worker.compile(part)


def compile_linked(job, parts, emit_ir):
    """The parts linked into one LLVM module and optimised: its IR text (`emit_ir`) or its
    ELF object, for --format llvmir|object, which are LLVM's own output for the module."""
    compiler = PartCompiler(job)
    llvm_module = parse_and_link(compiler.lower(part) for part in parts)
    optimize(llvm_module, job.machine, job.opt_level)
    if emit_ir:
        return str(llvm_module).encode()
    return emit_object(llvm_module, job.machine)
