"""A divergence made small and kept: `wasm-tools shrink` reduces the module while a predicate
(this module, run as a script on each candidate) still sees the configuration diverge the same
way; the result goes into tests/fuzz_regressions/ with a note of what diverged, for
tests/test_fuzz_regressions.py.

"The same way" is the divergence's signature: which kind of item (a call, instantiation,
memory, a global...) and which kinds of outcome (a value, which trap, a crash). It is loose on
purpose: the shrunk module's calls and values are not the original's.
"""

import argparse
import json
import stat
import subprocess
import sys
import tempfile
from pathlib import Path

from . import compare
from .compare import REPO, check_module

REGRESSIONS = REPO / "tests" / "fuzz_regressions"
ATTEMPTS = 150
TIME_LIMIT = 300


def outcome_class(outcome):
    if isinstance(outcome, list) and outcome:
        if outcome[0] == "trap":
            return f"trap {outcome[1]}"
        return str(outcome[0])
    return "value"


def signature(diff):
    key, expected, got = diff
    return [key.split()[0], outcome_class(expected), outcome_class(got)]


def still_diverges(wasm, seed, config, sig):
    result = check_module(wasm, seed, [config])
    return any(signature(d) == sig for d in result.diffs.get(config, []))


def shrink(wasm, seed, config, sig):
    """The smallest module wasm-tools shrink finds that still diverges with `sig` (the module
    itself if it cannot shrink it within TIME_LIMIT)."""
    with tempfile.TemporaryDirectory() as tmp:
        source, output = Path(tmp, "input.wasm"), Path(tmp, "shrunk.wasm")
        source.write_bytes(wasm)
        predicate = Path(tmp, "predicate.sh")
        predicate.write_text(f"#!/bin/sh\nexec {sys.executable} -m pywamr.fuzz.shrink "
                             f"--seed {seed} --config {config} "
                             f"--signature '{json.dumps(sig)}' \"$1\"\n")
        predicate.chmod(predicate.stat().st_mode | stat.S_IXUSR)
        try:
            subprocess.run(["wasm-tools", "shrink", "--attempts", str(ATTEMPTS), str(predicate),
                            str(source), "-o", str(output)], capture_output=True,
                           timeout=TIME_LIMIT, check=True)
        except (subprocess.CalledProcessError, subprocess.TimeoutExpired):
            pass
        return output.read_bytes() if output.exists() else wasm


def keep(wasm, seed, config, original_size, folder=REGRESSIONS):
    """Write seed-<seed>.wasm and its note; return the note."""
    result = check_module(wasm, seed, [config])
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"seed-{seed}.wasm"
    path.write_bytes(wasm)
    if config in result.diffs:
        what = result.report(config)
    else:
        what = f"{config}: no longer diverges on the shrunk module (flaky?)"
    shown = path.resolve()
    if shown.is_relative_to(REPO):
        shown = shown.relative_to(REPO)
    note = (f"Fuzz seed {seed}: {config} diverged. Module shrunk from {original_size} to "
            f"{len(wasm)} bytes.\n{what}\n\nRe-run: python3 -m pywamr.fuzz --replay {shown} "
            f"--seed {seed}\n(`wasm-tools print {shown}` shows it.)\n")
    path.with_suffix(".txt").write_text(note)
    return note


def main():
    """Predicate mode for wasm-tools shrink: exit 0 when the candidate still diverges."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, required=True)
    parser.add_argument("--config", required=True)
    parser.add_argument("--signature", required=True)
    parser.add_argument("wasm")
    args = parser.parse_args()
    wasm = Path(args.wasm).read_bytes()
    # A candidate that lost its fuel counter may loop: give up on it sooner.
    compare.TIMEOUT.update(wasmtime=10, interp=20, aot=20)
    try:
        interesting = still_diverges(wasm, args.seed, args.config, json.loads(args.signature))
    except Exception:    # a candidate the harness cannot run at all is not interesting
        interesting = False
    sys.exit(0 if interesting else 1)


if __name__ == "__main__":
    main()
