"""Execution of a spec script's commands against an engine.

This part needs only the runtime and the engine's loader, never the compiler, so that it can
run under another architecture's Python (`python -m pywamr.spectest.script PLAN OUT` reads a
plan written by `file_runner.py` and writes the results as JSON).

Expected error text. Every assertion that expects a failure (assert_trap, assert_exhaustion,
assert_uninstantiable, assert_unlinkable, and in `file_runner.py` assert_malformed and
assert_invalid) checks the error's class and its message, with the reference interpreter's
rule (`assert_message` in its run.ml): the engine's message must start with the expected text.
Our messages may go on with detail, such as "(at byte offset 0x1b)" or the import's name.
One exception: where the reference appends an operand to its message and the script expects
it ("uninitialized element 2"), an engine that does not track the operand may give the message
without it ("uninitialized element"); a different operand still fails. An engine message that
is merely a prefix of the expected text is not accepted: "out of bounds" would then pass for
"out of bounds memory access".

A module that fails (to decode, validate, compile, link or instantiate) leaves no current
instance, and a named one leaves its name bound to nothing: the commands after it fail with
"module ... did not load" instead of running against an earlier instance. (The reference
interpreter stops the script there; we go on, so that commands on other instances still
count.) A failed `register` likewise removes the registration it would have replaced.
"""

import json
import sys

from pywamr.runtime.errors import Exhaustion, LinkError, Trap, WasmError, WasmException

from .host import host_module_bytes, host_table64_bytes, spectest_imports
from .values import describe, matches, parse_arg


class CommandFailed(Exception):
    pass


def message_matches(message, expected):
    """Does an engine's error message satisfy a script's expected text? (See above.)"""
    if message.startswith(expected):
        return True
    head, _, operand = expected.rpartition(" ")
    return operand.isdigit() and message == head


class ScriptRunner:
    """Keeps the script's state: named instances, registrations, the current instance."""

    def __init__(self, load, prepare_host=None):
        self.load = load                     # prepared module bytes -> engine module
        self.prepare_host = prepare_host
        spectest = spectest_imports(self.host_instance(host_module_bytes()))
        self.registered = {"spectest": {**spectest, **self.table64()}}
        self.named = {}                      # name -> instance, None if its module failed
        self.definitions = {}                # name -> module of a `module definition`
        self.current = None
        self.no_current = "no module instance"     # why there is no current instance

    def host_instance(self, wasm):
        prepared = self.prepare_host(wasm) if self.prepare_host else wasm
        return self.load(prepared).instantiate({})

    def table64(self):
        """spectest's `table64`, if the engine has memory64 (else {})."""
        try:
            exports = self.host_instance(host_table64_bytes()).exports
        except WasmError:
            return {}
        return {"table64": exports["table64"]} if "table64" in exports else {}

    def run(self, command):
        """Run one command; raise CommandFailed with the reason if it does not hold."""
        handler = getattr(self, "cmd_" + command["type"])
        handler(command)

    # Modules and registration

    def instantiate(self, command):
        module = self.load(command["prepared"])
        return module.instantiate(self.registered)

    def instance(self, name):
        """The instance a command names (or the current one), if its module loaded."""
        if not name:
            if self.current is None:
                raise CommandFailed(self.no_current)
            return self.current
        if name not in self.named:
            raise CommandFailed(f"unknown module {name}")
        if self.named[name] is None:
            raise CommandFailed(f"module {name} did not load")
        return self.named[name]

    def cmd_module(self, command):
        """Instantiate; `error` in the command means it already failed to decode, validate
        or compile. Either way the previous instance stops being current first."""
        name = command.get("name")
        self.current = None
        if name:
            self.named[name] = None
        self.no_current = f"module at line {command['line']} did not load"
        error = command.get("error")
        if error is None:
            try:
                instance = self.instantiate(command)
            except WasmError as e:
                error = f"instantiation failed: {type(e).__name__}: {e}"
        if error is not None:
            raise CommandFailed(error)
        self.current = instance
        if name:
            self.named[name] = instance

    def cmd_module_definition(self, command):
        """A module compiled but not instantiated (3.0 scripts); `module_instance` makes
        instances of it."""
        name = command.get("name")
        self.definitions[name] = None
        if command.get("error") is not None:
            raise CommandFailed(command["error"])
        self.definitions[name] = self.load(command["prepared"])

    def cmd_module_instance(self, command):
        name = command.get("instance")
        self.current = None
        if name:
            self.named[name] = None
        module = self.definitions.get(command.get("module"))
        if module is None:
            raise CommandFailed(f"module {command.get('module')} did not load")
        try:
            instance = module.instantiate(self.registered)
        except WasmError as e:
            raise CommandFailed(f"instantiation failed: {type(e).__name__}: {e}")
        self.current = instance
        if name:
            self.named[name] = instance

    def cmd_register(self, command):
        self.registered.pop(command["as"], None)
        instance = self.instance(command.get("name"))
        self.registered[command["as"]] = dict(instance.exports)

    def cmd_assert_unlinkable(self, command):
        self.expect_instantiation_error(command, LinkError)

    def cmd_assert_uninstantiable(self, command):
        self.expect_instantiation_error(command, Trap)

    def expect_instantiation_error(self, command, error_type):
        text = command.get("text", "")
        try:
            self.instantiate(command)
        except error_type as e:
            if not message_matches(str(e), text):
                raise CommandFailed(f"{type(e).__name__} {str(e)!r}, expected {text!r}")
            return
        except WasmError as e:
            raise CommandFailed(f"expected {error_type.__name__} {text!r}, "
                                f"got {type(e).__name__}: {e}")
        raise CommandFailed(f"instantiated, expected {error_type.__name__} {text!r}")

    # Actions

    def perform(self, action):
        instance = self.instance(action.get("module"))
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

    def cmd_assert_exception(self, command):
        """The call throws a wasm exception that nothing catches (3.0); the script says no
        more about it."""
        try:
            results = self.perform(command["action"])
        except WasmException:
            return
        except WasmError as e:
            raise CommandFailed(f"expected an exception, got {type(e).__name__}: {e}")
        raise CommandFailed(f"returned {results}, expected an exception")

    def expect_trap(self, command, trap_type):
        text = command.get("text", "")
        try:
            results = self.perform(command["action"])
        except trap_type as e:
            if not message_matches(e.message, text):
                raise CommandFailed(f"trapped with {e.message!r}, expected {text!r}")
            return
        except WasmError as e:
            raise CommandFailed(f"expected trap {text!r}, got {type(e).__name__}: {e}")
        raise CommandFailed(f"returned {results}, expected trap {text!r}")


def run_commands(commands, load, prepare_host=None):
    """Run execution commands in order; return [(command index, status, message)], the index
    being the command's position in the script (its "index" field)."""
    runner = ScriptRunner(load, prepare_host)
    results = []
    for command in commands:
        try:
            runner.run(command)
            results.append((command["index"], "passed", ""))
        except CommandFailed as e:
            results.append((command["index"], "failed", str(e)))
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
