"""The examples of docs/api.md run as doctests, from the repository's root (they read
build/samples/), with the default engine. The pywamr examples share one namespace, in
order; the wasmtime-py example beside them runs on its own, in wasmtime itself."""

import doctest
import re

import pytest

from pyiwasm_support import ROOT, build_samples

DOC = ROOT / "docs" / "api.md"
BLOCK = re.compile(r"```pycon\n(.*?)```", re.DOTALL)


def examples():
    """(line, text) for each pycon block of the doc: its first line's number (from 0) and
    its text."""
    text = DOC.read_text()
    for block in BLOCK.finditer(text):
        yield text.count("\n", 0, block.start(1)), block.group(1)


def test_the_examples_of_docs_api_md_run(monkeypatch):
    build_samples()
    monkeypatch.chdir(ROOT)
    parser = doctest.DocTestParser()
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    shared = {}
    blocks = 0
    for line, text in examples():
        uses_wasmtime = "wasmtime." in text
        if uses_wasmtime:
            pytest.importorskip("wasmtime")
        test = parser.get_doctest(text, {} if uses_wasmtime else shared,
                                  f"docs/api.md:{line + 1}", str(DOC), line)
        runner.run(test, clear_globs=False)
        if not uses_wasmtime:
            shared = test.globs         # a DocTest runs in a copy of the names it is given
        blocks += 1
    assert blocks >= 8
    results = runner.summarize(verbose=False)
    assert results.failed == 0, f"{results.failed} of {results.attempted} examples failed"
