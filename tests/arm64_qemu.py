"""The arm64 Python under qemu-user, for the tests (build-scripts/arm64.py, loaded by path)."""

import importlib.util
import json
from pathlib import Path

_SCRIPT = Path(__file__).resolve().parent.parent / "build-scripts" / "arm64.py"
_spec = importlib.util.spec_from_file_location("pywamr_arm64_runner", _SCRIPT)
arm64 = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(arm64)


def run_arm64_python(args, input=None, cwd=None):
    """Run `python3.11 *args` on the arm64 root; its stdout, or AssertionError with its stderr
    when it fails."""
    process = arm64.run_arm64(args, input=input, capture_output=True, text=True, cwd=cwd)
    assert process.returncode == 0, f"arm64 python {args} failed:\n{process.stderr}"
    return process.stdout


_RUN_CALLS = r"""
import json, sys
from pywamr.loader.aot_module import AotModule
from pywamr.runtime.errors import Trap
request = json.load(sys.stdin)
answers = []
for path in request["files"]:
    with open(path, "rb") as file:
        exports = AotModule(file.read()).instantiate({}).exports
    run = []
    for name, args in request["calls"]:
        try:
            run.append(exports[name](*args))
        except Trap as trap:
            run.append(trap.code.value)
    answers.append(run)
json.dump(answers, sys.stdout)
"""


def run_calls_on_arm64(paths, calls):
    """Call each (export name, args) of `calls` on a fresh instance of every `.aot` file of
    `paths` under the arm64 Python; per file, the results (tuples as lists, as JSON has them)
    or the trap message of each call."""
    request = json.dumps({"files": [str(path) for path in paths], "calls": calls})
    return json.loads(run_arm64_python(["-c", _RUN_CALLS], input=request))
