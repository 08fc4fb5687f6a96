"""The examples of docs/api.md run as doctests, from the repository's root (they read
build/samples/), with the default engine. The pywamr examples share one namespace, in
order; the wasmtime-py example beside them runs on its own, in wasmtime itself, in a
process of its own."""

import doctest
import re
import subprocess
import sys

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


def test_the_examples_of_docs_api_md_run(monkeypatch, tmp_path):
    build_samples()
    monkeypatch.chdir(ROOT)
    parser = doctest.DocTestParser()
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    shared = {}
    blocks = 0
    for line, text in examples():
        blocks += 1
        if "wasmtime." in text:
            run_in_wasmtime(text, tmp_path / f"wasmtime-{line + 1}.txt")
            continue
        test = parser.get_doctest(text, shared, f"docs/api.md:{line + 1}", str(DOC), line)
        runner.run(test, clear_globs=False)
        shared = test.globs             # a DocTest runs in a copy of the names it is given
    assert blocks >= 8
    results = runner.summarize(verbose=False)
    assert results.failed == 0, f"{results.failed} of {results.attempted} examples failed"


def run_in_wasmtime(text, path):
    """The wasmtime-py example, in a process of its own: wasmtime's WASI starts threads
    (tokio's), and a process with threads must not fork, as the fuzz tests' sandbox does."""
    pytest.importorskip("wasmtime")
    path.write_text(text)
    done = subprocess.run([sys.executable, "-m", "doctest", "-o", "ELLIPSIS", str(path)],
                          cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
