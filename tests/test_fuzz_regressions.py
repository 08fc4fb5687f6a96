"""Every module the fuzzer once saw diverge (tests/fuzz_regressions/, shrunk, with a note of
what diverged) must now run the same on wasmtime and on every configuration of ours."""

from pathlib import Path

import pytest

pytest.importorskip("wasmtime")

from pywamr.fuzz.compare import AOT, ARM64, arm64_available, check_module    # noqa: E402

FILES = sorted((Path(__file__).parent / "fuzz_regressions").glob("*.wasm"))


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_kept_divergence_now_agrees(path):
    seed = int(path.stem.split("-")[1])    # seed-<seed>.wasm: the seed picks the arguments
    configs = ["interp", *AOT, *(ARM64 if arm64_available() else [])]
    result = check_module(path.read_bytes(), seed, configs)
    assert result.skipped is None
    assert not result.diffs, "\n".join(result.report(config) for config in result.diffs)
