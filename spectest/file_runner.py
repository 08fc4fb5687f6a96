"""Runs one `.wast` file: decoding and validation checks here, execution by the engine.

Started as a subprocess per file by `runner.py` (`python -m pywamr.spectest.file_runner`), so
that a crash in native code costs one file's results, not the whole run. Prints one JSON
object: {"results": [[index, line, command type, status, message], ...]}, one entry per command
of the script (json-from-wast's conversion, convert.py), in order. Results are keyed by the
command's index in the script, not by its line: a line may hold several assertions
(`left-to-right.wast` has 44 such lines), and each one counts. The line is kept for reporting
and for known-failure ids.

assert_malformed and assert_invalid of binary modules check the error class (MalformedModule
or InvalidModule) and the message against the script's expected text, with the rule described
in `script.py` (the engine's message starts with the expected text). Text-format modules the
converter could not encode (`module quote` with malformed text) are skipped: their text is
not ours to parse.

`version` selects the rules modules are judged by: "2.0" for the 2.0 suite, whose files
expect some modules that 3.0 accepts to be invalid (extended constant expressions), "3.0"
for the root files of the 3.0 suite.

A `module` that fails to decode, validate or compile is still passed to the engine's script
runner, marked with its error, so that the runner drops the previous instance (see
`script.py`): later commands fail instead of running against an older module.
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
from .script import message_matches, run_commands

EXECUTION_COMMANDS = {"module", "module_definition", "module_instance", "register", "action",
                      "assert_return", "assert_trap", "assert_exhaustion", "assert_unlinkable",
                      "assert_uninstantiable", "assert_exception"}
MODULE_COMMANDS = {"module", "module_definition", "assert_unlinkable", "assert_uninstantiable",
                   "assert_trap"}


def check_module(data, version="3.0"):
    """Decode and validate; return None if fine, else the error."""
    try:
        validate(decode_module(data, version), version=version)
    except (MalformedModule, InvalidModule) as e:
        return e
    return None


def binary_filename(command):
    """The binary module of a command, or None for text the converter could not encode."""
    if command.get("module_type") == "text":
        return command.get("binary_filename")
    return command.get("filename")


def expect_rejection(data, error_type, text, version):
    error = check_module(data, version)
    if error is None:
        return "failed", f"module accepted, expected {error_type.__name__} {text!r}"
    if not isinstance(error, error_type):
        return "failed", (f"expected {error_type.__name__} {text!r}, "
                          f"got {type(error).__name__}: {error}")
    if not message_matches(str(error), text):
        return "failed", f"{type(error).__name__} {str(error)!r}, expected {text!r}"
    return "passed", ""


def read_module(base, filename):
    with open(os.path.join(base, filename), "rb") as f:
        return f.read()


def run_file(wast_path, engine, arm64_runner=None, version="3.0"):
    """Run every command of one script; return one result per command, in order."""
    script_path = convert(wast_path)
    base = os.path.dirname(script_path)
    with open(script_path) as f:
        commands = json.load(f)["commands"]

    results = [None] * len(commands)     # index -> [index, line, type, status, message]
    to_execute = []
    for index, command in enumerate(commands):
        kind, line = command["type"], command["line"]
        filename = binary_filename(command)

        def record(status, message=""):
            results[index] = [index, line, kind, status, message]

        if kind in ("assert_malformed", "assert_invalid"):
            if filename is None:
                record("skipped", "text format")
            else:
                error_type = MalformedModule if kind == "assert_malformed" else InvalidModule
                record(*expect_rejection(read_module(base, filename), error_type,
                                         command.get("text", ""), version))
            continue
        if kind not in EXECUTION_COMMANDS:
            record("skipped", f"unsupported command {kind}")
            continue
        command = dict(command, index=index)
        if filename is not None and kind in MODULE_COMMANDS:
            data = read_module(base, filename)
            error = check_module(data, version)
            message = None if error is None else f"{type(error).__name__}: {error}"
            if engine is None:
                if message is not None:
                    record("failed", message)
                elif kind in ("module", "module_definition"):
                    record("passed")
                else:
                    record("skipped", "no engine")
                continue
            if message is None:
                try:
                    command["prepared"] = engine.prepare(data)
                except WasmError as e:
                    message = f"preparing module: {e}"
            if message is not None:
                if kind in ("module", "module_definition"):
                    # The script runner must see it fail, to drop the previous instance.
                    to_execute.append(dict(command, error=message))
                else:
                    record("failed", message)
                continue
        elif engine is None:
            record("skipped", "no engine")
            continue
        to_execute.append(command)

    if to_execute:
        if arm64_runner is None:
            outcomes = run_commands(to_execute, engine.load, prepare_host=engine.prepare)
        else:
            outcomes = run_plan_elsewhere(to_execute, engine, arm64_runner)
        for index, status, message in outcomes:
            command = commands[index]
            results[index] = [index, command["line"], command["type"], status, message]
    missing = [i for i, result in enumerate(results) if result is None]
    if missing:
        raise RuntimeError(f"no result for commands {missing}")
    return results


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
            return [(c["index"], "failed", f"remote run failed: {reason}") for c in commands]
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
    parser.add_argument("--compile-jobs", type=int)
    parser.add_argument("--part-bytes", type=int)
    parser.add_argument("--suite", choices=["2.0", "3.0"], default="3.0")
    args = parser.parse_args()
    engine = None
    arm64_runner = None
    if args.engine == "aot":
        engine = load_engine("aot", target=args.target, opt_level=args.opt_level,
                             size_level=args.size_level,
                             bounds_checks=args.bounds_checks == "on",
                             compile_jobs=args.compile_jobs,
                             part_bytes=args.part_bytes)
        if args.target in ("aarch64", "arm64") and os.uname().machine != "aarch64":
            from .arm64 import python_command
            arm64_runner = python_command()
    elif args.engine:
        engine = load_engine(args.engine)
    json.dump({"results": run_file(args.wast, engine, arm64_runner, args.suite)}, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
