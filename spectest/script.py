"""Execution of a spec script's commands against an engine.

This part needs only the runtime and the engine's loader, never the compiler, so that it can
run under another architecture's Python (`python -m pywamr.spectest.script PLAN OUT` reads a
plan written by `file_runner.py` and writes the results as JSON).
"""

import json
import sys

from pywamr.runtime.errors import Exhaustion, LinkError, Trap, WasmError

from .host import host_module_bytes, spectest_imports
from .values import describe, matches, parse_arg


class CommandFailed(Exception):
    pass


class ScriptRunner:
    """Keeps the script's state: named instances, registrations, the current instance."""

    def __init__(self, load, prepare_host=None):
        self.load = load                     # prepared module bytes -> engine module
        host_bytes = prepare_host(host_module_bytes()) if prepare_host else host_module_bytes()
        host_instance = self.load(host_bytes).instantiate({})
        self.registered = {"spectest": spectest_imports(host_instance)}
        self.named = {}
        self.current = None

    def run(self, command):
        """Run one command; raise CommandFailed with the reason if it does not hold."""
        handler = getattr(self, "cmd_" + command["type"])
        handler(command)

    # Modules and registration

    def instantiate(self, command):
        module = self.load(command["prepared"])
        return module.instantiate(self.registered)

    def cmd_module(self, command):
        try:
            instance = self.instantiate(command)
        except WasmError as e:
            raise CommandFailed(f"instantiation failed: {e}")
        self.current = instance
        if command.get("name"):
            self.named[command["name"]] = instance

    def cmd_register(self, command):
        instance = self.named[command["name"]] if command.get("name") else self.current
        self.registered[command["as"]] = dict(instance.exports)

    def cmd_assert_unlinkable(self, command):
        self.expect_instantiation_error(command, LinkError)

    def cmd_assert_uninstantiable(self, command):
        self.expect_instantiation_error(command, Trap)

    def expect_instantiation_error(self, command, error_type):
        try:
            self.instantiate(command)
        except error_type:
            return
        except WasmError as e:
            raise CommandFailed(f"expected {error_type.__name__}, got {type(e).__name__}: {e}")
        raise CommandFailed(f"instantiated, expected {error_type.__name__}")

    # Actions

    def perform(self, action):
        instance = self.named[action["module"]] if action.get("module") else self.current
        if instance is None:
            raise CommandFailed("no module instance")
        export = instance.exports.get(action["field"])
        if export is None:
            raise CommandFailed(f"unknown export {action['field']!r}")
        if action["type"] == "get":
            return [export.get_bits()]
        return export.call_bits([parse_arg(a) for a in action["args"]])

    def cmd_action(self, command):
        try:
            self.perform(command["action"])
        except WasmError as e:
            raise CommandFailed(f"{type(e).__name__}: {e}")

    def cmd_assert_return(self, command):
        try:
            results = self.perform(command["action"])
        except WasmError as e:
            raise CommandFailed(f"{type(e).__name__}: {e}")
        expected = command["expected"]
        if len(results) != len(expected) or not all(
                matches(e, r) for e, r in zip(expected, results)):
            got = ", ".join(describe(e["type"], r) for e, r in zip(expected, results))
            raise CommandFailed(f"got [{got}], expected {expected}")

    def cmd_assert_trap(self, command):
        if "action" not in command:             # a module whose instantiation traps
            return self.expect_instantiation_error(command, Trap)
        self.expect_trap(command, Trap)

    def cmd_assert_exhaustion(self, command):
        self.expect_trap(command, Exhaustion)

    def expect_trap(self, command, trap_type):
        text = command.get("text", "")
        try:
            results = self.perform(command["action"])
        except trap_type as e:
            # The reference interpreter sometimes appends an operand ("uninitialized element
            # 2"); an engine that names the same trap without it matches too.
            if not (e.message.startswith(text) or text.startswith(e.message + " ")):
                raise CommandFailed(f"trapped with {e.message!r}, expected {text!r}")
            return
        except WasmError as e:
            raise CommandFailed(f"expected trap {text!r}, got {type(e).__name__}: {e}")
        raise CommandFailed(f"returned {results}, expected trap {text!r}")


def run_commands(commands, load, prepare_host=None):
    """Run execution commands in order; return [(line, status, message)]."""
    runner = ScriptRunner(load, prepare_host)
    results = []
    for command in commands:
        try:
            runner.run(command)
            results.append((command["line"], "passed", ""))
        except CommandFailed as e:
            results.append((command["line"], "failed", str(e)))
    return results


def main(argv):
    """Run a plan file under this Python (used for other architectures)."""
    plan_path, out_path = argv
    with open(plan_path) as f:
        plan = json.load(f)
    from .engines import load_engine
    engine = load_engine(plan["engine"])

    def load(path):
        with open(path, "rb") as f:
            return engine.load(f.read())

    results = run_commands(plan["commands"], load, prepare_host=lambda _: plan["host"])
    with open(out_path, "w") as f:
        json.dump(results, f)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
