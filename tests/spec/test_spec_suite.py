"""The WebAssembly 2.0 spec suite through the runner of `python -m pywamr.spectest`, and the
root files of the 3.0 suite for the 3.0 features pywamr has (relaxed SIMD included).

Decoding and validation run on all 148 files, one test per file. Execution runs on every
engine configuration below, the files of a configuration in parallel; AOT runs in both
bounds-check modes. Failures are tolerated only through tests/spec/known_failures.txt.
"""

import os
from concurrent.futures import ThreadPoolExecutor
from typing import NamedTuple

import pytest

from pywamr.spectest.runner import (Options, check_file, default_suite_dir,
                                    load_known_failures, suite_files)

SUITE_DIR = default_suite_dir()
FILES = suite_files(SUITE_DIR)
SIMD = [f for f in FILES if f.name.startswith("simd_")]
NON_SIMD = [f for f in FILES if f not in SIMD]

# A fixed subset of the non-SIMD files that covers every instruction group (numeric,
# conversions, memory, bulk memory, tables, calls and call_indirect, control, globals, linking,
# traps, exhaustion), for the configurations that are too slow to run the whole suite
# (AArch64 under qemu). Under qemu the SIMD files run whole: all 58 take about a minute.
SUBSET = ["address.wast", "br_table.wast", "bulk.wast", "call.wast", "call_indirect.wast",
          "conversions.wast", "f32.wast", "f64.wast", "float_exprs.wast", "global.wast",
          "i32.wast", "i64.wast", "left-to-right.wast", "linking.wast", "memory_copy.wast",
          "memory_grow.wast", "memory_trap.wast", "ref_func.wast", "select.wast",
          "table_grow.wast", "table_init.wast", "traps.wast", "unreachable.wast"]
# The 3.0 root files of the features pywamr has (manifest.tsv): tail calls, typed function
# references, those that use extended constant expressions, and the 2.0 files 3.0 extends with
# typed function references (but table.wast, which also has 64-bit tables: see memory64). They
# run with 3.0's rules (runner.py --suite 3.0); under qemu, the files of the new instructions.
SUITE_3_0_NEW = ["return_call.wast", "return_call_indirect.wast", "return_call_ref.wast",
                 "call_ref.wast", "ref_as_non_null.wast", "br_on_null.wast",
                 "br_on_non_null.wast", "local_init.wast", "ref.wast", "global.wast",
                 "data.wast", "elem.wast"]
SUITE_3_0 = SUITE_3_0_NEW + [
    "br_if.wast", "br_table.wast", "func.wast", "linking.wast", "local_tee.wast",
    "ref_is_null.wast", "select.wast", "table-sub.wast", "unreached-invalid.wast",
    "unreached-valid.wast"]
# Exception handling (3.0, and the legacy proposal's files), and the 3.0 files that also use
# tags and exnref; both engines run them, AArch64 under qemu the files of the new
# instructions (all of them).
SUITE_3_0_EXCEPTIONS_NEW = ["tag.wast", "throw.wast", "throw_ref.wast", "try_table.wast",
                            "legacy/rethrow.wast", "legacy/throw.wast", "legacy/try_catch.wast",
                            "legacy/try_delegate.wast"]
SUITE_3_0_EXCEPTIONS = SUITE_3_0_EXCEPTIONS_NEW + ["exports.wast", "imports.wast"]
# Relaxed SIMD: every file of the feature (manifest.tsv), on both engines and architectures.
SUITE_3_0_RELAXED_SIMD = ["i16x8_relaxed_q15mulr_s.wast", "i32x4_relaxed_trunc.wast",
                          "i8x16_relaxed_swizzle.wast", "relaxed_dot_product.wast",
                          "relaxed_laneselect.wast", "relaxed_madd_nmadd.wast",
                          "relaxed_min_max.wast"]
# Multi-memory: every root file of the feature (manifest.tsv), simd_memory-multi.wast
# included; under qemu the files that together use every memory instruction on a memory
# other than 0 (loads and stores of every type, lanes, size, grow, copy within and between
# memories, fill, init, data.drop) and imported memories.
SUITE_3_0_MULTI_MEMORY_NEW = [
    "address0.wast", "address1.wast", "float_memory0.wast", "memory_trap1.wast",
    "memory_grow.wast", "memory_size2.wast", "memory_copy0.wast", "memory_copy1.wast",
    "memory_fill0.wast", "memory_init0.wast", "data_drop0.wast", "simd_memory-multi.wast",
    "imports4.wast", "memory_size_import.wast"]
SUITE_3_0_MULTI_MEMORY = SUITE_3_0_MULTI_MEMORY_NEW + [
    "align0.wast", "binary0.wast", "data0.wast", "data1.wast", "exports0.wast",
    "float_exprs0.wast", "float_exprs1.wast", "imports0.wast", "imports1.wast",
    "imports2.wast", "imports3.wast", "linking0.wast", "linking1.wast", "linking2.wast",
    "linking3.wast", "load0.wast", "load1.wast", "load2.wast", "memory-multi.wast",
    "memory_size0.wast", "memory_size1.wast", "memory_size3.wast", "memory_trap0.wast",
    "start0.wast", "store0.wast", "store1.wast", "store2.wast", "traps0.wast"]
# Memory64: the root files of the feature (manifest.tsv) and the 3.0 versions of 2.0 files that
# use it too, on both engines; under qemu the files that together use every instruction on a
# 64-bit memory or table (loads and stores of every type, size, grow, copy within and between
# 32- and 64-bit memories and tables, fill, init, table get/set/size/grow, call_indirect) and
# imported 64-bit memories. table_init64.wast is left out: it needs GC (arrayref).
SUITE_3_0_MEMORY64_NEW = [
    "address64.wast", "endianness64.wast", "float_memory64.wast", "load64.wast",
    "memory_trap64.wast", "memory_grow64.wast", "memory_copy64.wast", "memory_fill64.wast",
    "memory_init64.wast", "bulk64.wast", "memory64-imports.wast", "call_indirect64.wast",
    "table_copy64.wast", "table_copy_mixed.wast", "table_fill64.wast", "table_get64.wast",
    "table_grow64.wast", "table_set64.wast", "table_size64.wast"]
SUITE_3_0_MEMORY64 = [
    "align.wast", "memory.wast", "table.wast",
    "address64.wast", "align64.wast", "binary_leb128_64.wast", "bulk64.wast",
    "call_indirect64.wast", "endianness64.wast", "float_memory64.wast", "load64.wast",
    "memory64-imports.wast", "memory64.wast", "memory_copy64.wast", "memory_fill64.wast",
    "memory_grow64.wast", "memory_init64.wast", "memory_redundancy64.wast",
    "memory_trap64.wast", "table64.wast", "table_copy64.wast", "table_copy_mixed.wast",
    "table_fill64.wast", "table_get64.wast", "table_grow64.wast", "table_set64.wast",
    "table_size64.wast"]
FILE_SETS = {"all": FILES, "subset": [f for f in NON_SIMD if f.name in SUBSET], "simd": SIMD,
             "3.0": [SUITE_DIR / name for name in SUITE_3_0],
             "3.0-new": [SUITE_DIR / name for name in SUITE_3_0_NEW],
             "3.0-exceptions": [SUITE_DIR / name for name in SUITE_3_0_EXCEPTIONS],
             "3.0-exceptions-new": [SUITE_DIR / name for name in SUITE_3_0_EXCEPTIONS_NEW],
             "3.0-relaxed-simd": [SUITE_DIR / name for name in SUITE_3_0_RELAXED_SIMD],
             "3.0-multi-memory": [SUITE_DIR / name for name in SUITE_3_0_MULTI_MEMORY],
             "3.0-multi-memory-new": [SUITE_DIR / name for name in SUITE_3_0_MULTI_MEMORY_NEW],
             "3.0-memory64": [SUITE_DIR / name for name in SUITE_3_0_MEMORY64],
             "3.0-memory64-new": [SUITE_DIR / name for name in SUITE_3_0_MEMORY64_NEW]}


class Config(NamedTuple):
    engine: str
    files: str                      # a key of FILE_SETS
    target: str = None
    opt: int = 3
    size: int = 3
    bounds_checks: str = "off"      # AOT: guard pages (the default) or "on": explicit checks

    def id(self):
        if self.engine == "interp":
            return "interp" if self.files == "all" else f"interp-{self.files}"
        checks = "-checks" if self.bounds_checks == "on" else ""
        files = "" if self.files == "all" else f"-{self.files}"
        return f"aot-{self.target}-O{self.opt}-s{self.size}{checks}{files}"


EXECUTION_CONFIGS = [Config("interp", "all")]
EXECUTION_CONFIGS += [Config("aot", "all", "x86_64", opt, size)
                      for opt in (3, 0) for size in (3, 2, 1, 0)]
EXECUTION_CONFIGS += [Config("aot", "all", "x86_64", opt, 3, "on") for opt in (3, 0)]
EXECUTION_CONFIGS += [Config("aot", "subset", "aarch64", 3, size) for size in (3, 1, 0)]
EXECUTION_CONFIGS += [Config("aot", "subset", "aarch64", 3, 3, "on")]
EXECUTION_CONFIGS += [Config("aot", "simd", "aarch64", 3, size) for size in (3, 0)]
EXECUTION_CONFIGS += [Config("interp", "3.0")]
EXECUTION_CONFIGS += [Config("interp", "3.0-exceptions")]
EXECUTION_CONFIGS += [Config("interp", "3.0-memory64")]
EXECUTION_CONFIGS += [Config("aot", "3.0", "x86_64", opt, 3) for opt in (3, 0)]
EXECUTION_CONFIGS += [Config("aot", "3.0-new", "aarch64", opt, 3) for opt in (3, 0)]
EXECUTION_CONFIGS += [Config("aot", "3.0-exceptions", "x86_64", opt, 3) for opt in (3, 0)]
EXECUTION_CONFIGS += [Config("aot", "3.0-exceptions-new", "aarch64", opt, 3) for opt in (3, 0)]
EXECUTION_CONFIGS += [Config("interp", "3.0-relaxed-simd")]
EXECUTION_CONFIGS += [Config("aot", "3.0-relaxed-simd", target, opt, 3)
                      for target in ("x86_64", "aarch64") for opt in (3, 0)]
EXECUTION_CONFIGS += [Config("interp", "3.0-multi-memory")]
EXECUTION_CONFIGS += [Config("aot", "3.0-multi-memory", "x86_64", opt, 3) for opt in (3, 0)]
EXECUTION_CONFIGS += [Config("aot", "3.0-multi-memory", "x86_64", 3, 3, "on")]
EXECUTION_CONFIGS += [Config("aot", "3.0-multi-memory-new", "aarch64", opt, 3) for opt in (3, 0)]
EXECUTION_CONFIGS += [Config("aot", "3.0-memory64", "x86_64", opt, 3) for opt in (3, 0)]
EXECUTION_CONFIGS += [Config("aot", "3.0-memory64", "x86_64", 3, 3, "on")]
EXECUTION_CONFIGS += [Config("aot", "3.0-memory64-new", "aarch64", opt, 3) for opt in (3, 0)]


def unexpected_results(files, options):
    known = load_known_failures(options.label())
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        outcomes = pool.map(lambda f: check_file(f, options, known, SUITE_DIR), files)
        return [entry for _, unexpected, _ in outcomes for entry in unexpected]


def test_suite_lists_148_files_and_the_subsets_exist():
    assert len(FILES) == 148 and all(f.exists() for f in FILES)
    assert len(SIMD) == 58
    assert len(FILE_SETS["subset"]) == len(SUBSET)
    assert all(f.exists() for f in FILE_SETS["3.0"]) and len(FILE_SETS["3.0"]) == 22
    assert all(f.exists() for f in FILE_SETS["3.0-exceptions"])
    assert all(f.exists() for f in FILE_SETS["3.0-relaxed-simd"])
    assert all(f.exists() for f in FILE_SETS["3.0-multi-memory"])
    assert len(set(SUITE_3_0_MULTI_MEMORY)) == 42
    assert all(f.exists() for f in FILE_SETS["3.0-memory64"])
    assert set(SUITE_3_0_MEMORY64_NEW) <= set(SUITE_3_0_MEMORY64)


@pytest.mark.parametrize("path, version", [(f, "2.0") for f in FILES]
                         + [(f, "3.0") for f in FILE_SETS["3.0"] + FILE_SETS["3.0-exceptions"]
                            + FILE_SETS["3.0-relaxed-simd"] + FILE_SETS["3.0-multi-memory"]
                            + FILE_SETS["3.0-memory64"]],
                         ids=lambda p: getattr(p, "name", p))
def test_decode_and_validate(path, version):
    known = load_known_failures("none")
    counts, unexpected, _ = check_file(path, Options(version=version), known, SUITE_DIR)
    assert not unexpected, "\n".join(unexpected[:40])
    assert counts["passed"] + counts["skipped"] > 0


@pytest.mark.parametrize("config", EXECUTION_CONFIGS, ids=Config.id)
def test_execution(config):
    options = Options(config.engine, config.target, config.opt, config.size, config.bounds_checks,
                      version="3.0" if config.files.startswith("3.0") else "2.0")
    unexpected = unexpected_results(FILE_SETS[config.files], options)
    assert not unexpected, f"{len(unexpected)} unexpected:\n" + "\n".join(unexpected[:60])
