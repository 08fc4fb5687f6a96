"""The WebAssembly 2.0 spec suite through `python -m pywamr.spectest`, one test per file.

Decoding and validation run on all 148 files (SIMD included). Execution runs on each engine
for the files it supports. Failures are tolerated only through tests/spec/known_failures.txt.
"""

import pytest

from pywamr.spectest.runner import (Options, check_file, default_suite_dir,
                                    load_known_failures, suite_files)

SUITE_DIR = default_suite_dir()
FILES = suite_files(SUITE_DIR)
NON_SIMD = [f for f in FILES if not f.name.startswith("simd_")]


def file_id(path):
    return path.name


def assert_file_passes(path, options):
    known = load_known_failures(options.label())
    counts, unexpected, crash = check_file(path, options, known, SUITE_DIR)
    assert not unexpected, "\n".join(unexpected[:40])
    assert counts["passed"] > 0 or counts["skipped"] > 0


def test_suite_has_148_files():
    assert len(FILES) == 148
    assert all(f.exists() for f in FILES)


@pytest.mark.parametrize("path", FILES, ids=file_id)
def test_decode_and_validate(path):
    assert_file_passes(path, Options())
