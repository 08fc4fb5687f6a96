"""Runs one `.wast` file: decoding and validation checks here, execution by the engine.

Started as a subprocess per file by `runner.py` (`python -m pywamr.spectest.file_runner`), so
that a crash in native code costs one file's results, not the whole run. Prints one JSON
object: {"results": [[line, command type, status, message], ...]}.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile

from pywamr.runtime.decoder import decode_module
from pywamr.runtime.errors import InvalidModule, MalformedModule, WasmError
from pywamr.runtime.validator import validate

from .convert import convert
from .engines import load_engine
from .script import run_commands

EXECUTION_COMMANDS = {"module", "register", "action", "assert_return", "assert_trap",
                      "assert_exhaustion", "assert_unlinkable", "assert_uninstantiable"}
MODULE_COMMANDS = {"module", "assert_unlinkable", "assert_uninstantiable", "assert_trap"}


def check_module(data):
    """Decode and validate; return None if fine, else the error."""
    try:
        validate(decode_module(data))
    except (MalformedModule, InvalidModule) as e:
        return e
    return None


def expect_rejection(data, error_type):
    error = check_module(data)
    if error is None:
        return "failed", f"module accepted, expected {error_type.__name__}"
    if not isinstance(error, error_type):
        return "failed", f"expected {error_type.__name__}, got {type(error).__name__}: {error}"
    return "passed", ""


def run_file(wast_path, engine, arm64_runner=None):
    script_path = convert(wast_path)
    base = os.path.dirname(script_path)
    with open(script_path) as f:
        commands = json.load(f)["commands"]

    results = {}             # line -> [line, type, status, message]
    to_execute = []
    module_ok = True         # whether the most recent `module` command decoded and validated
    for command in commands:
        kind, line = command["type"], command["line"]
        filename = command.get("filename")
        is_text = filename is not None and filename.endswith(".wat")
        if kind in ("assert_malformed", "assert_invalid"):
            if is_text:
                results[line] = [line, kind, "skipped", "text format"]
                continue
            with open(os.path.join(base, filename), "rb") as f:
                data = f.read()
            error_type = MalformedModule if kind == "assert_malformed" else InvalidModule
            results[line] = [line, kind, *expect_rejection(data, error_type)]
            continue
        if kind not in EXECUTION_COMMANDS:
            results[line] = [line, kind, "skipped", f"unsupported command {kind}"]
            continue
        if filename is not None and kind in MODULE_COMMANDS:
            with open(os.path.join(base, filename), "rb") as f:
                data = f.read()
            error = check_module(data)
            if kind == "module":
                module_ok = error is None
            if error is not None:
                results[line] = [line, kind, "failed", f"{type(error).__name__}: {error}"]
                continue
            if engine is None:
                status = "passed" if kind == "module" else "skipped"
                results[line] = [line, kind, status, "" if kind == "module" else "no engine"]
                continue
            try:
                command = dict(command, prepared=engine.prepare(data))
            except WasmError as e:
                results[line] = [line, kind, "failed", f"preparing module: {e}"]
                if kind == "module":
                    module_ok = False
                continue
        elif engine is None:
            results[line] = [line, kind, "skipped", "no engine"]
            continue
        if not module_ok and kind != "module":
            results[line] = [line, kind, "failed", "module did not load"]
            continue
        to_execute.append(command)

    if to_execute:
        if arm64_runner is None:
            outcomes = run_commands(to_execute, engine.load, prepare_host=engine.prepare)
        else:
            outcomes = run_plan_elsewhere(to_execute, engine, arm64_runner)
        kinds = {c["line"]: c["type"] for c in to_execute}
        for line, status, message in outcomes:
            results[line] = [line, kinds[line], status, message]
    return [results[line] for line in sorted(results)]


def run_plan_elsewhere(commands, engine, runner):
    """Write the prepared modules and the commands to a plan; run it with `runner`
    (a command prefix such as the qemu arm64 Python) and read back the results."""
    from .host import host_module_bytes
    with tempfile.TemporaryDirectory(prefix="pywamr-plan-") as tmp:
        def save(data, name):
            path = os.path.join(tmp, name)
            with open(path, "wb") as f:
                f.write(data)
            return path
        plan = {"engine": engine.name, "host": save(engine.prepare(host_module_bytes()), "host"),
                "commands": []}
        for i, command in enumerate(commands):
            command = dict(command)
            if "prepared" in command:
                command["prepared"] = save(command["prepared"], f"m{i}")
            plan["commands"].append(command)
        plan_path = os.path.join(tmp, "plan.json")
        out_path = os.path.join(tmp, "out.json")
        with open(plan_path, "w") as f:
            json.dump(plan, f)
        proc = subprocess.run([*runner, "-m", "pywamr.spectest.script", plan_path, out_path],
                              capture_output=True, text=True)
        if proc.returncode != 0 or not os.path.exists(out_path):
            reason = (proc.stderr.strip().splitlines() or [f"exit {proc.returncode}"])[-1]
            return [(c["line"], "failed", f"remote run failed: {reason}") for c in commands]
        with open(out_path) as f:
            return json.load(f)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("wast")
    parser.add_argument("--engine")
    parser.add_argument("--target")
    parser.add_argument("--opt-level", type=int, default=3)
    parser.add_argument("--size-level", type=int, default=3)
    parser.add_argument("--bounds-checks", choices=["on", "off"], default="off")
    args = parser.parse_args()
    engine = None
    arm64_runner = None
    if args.engine == "aot":
        engine = load_engine("aot", target=args.target, opt_level=args.opt_level,
                             size_level=args.size_level,
                             bounds_checks=args.bounds_checks == "on")
        if args.target in ("aarch64", "arm64") and os.uname().machine != "aarch64":
            from .arm64 import python_command
            arm64_runner = python_command()
    elif args.engine:
        engine = load_engine(args.engine)
    json.dump({"results": run_file(args.wast, engine, arm64_runner)}, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
