"""Negative controls for the spec-test runner: engines with injected faults must fail.

A runner that passes everything proves nothing. These tests run real suite files (from
../shared/wasm-testsuite) through `run_file` with the interpreter wrapped by `FaultyEngine`,
whose hooks return wrong values, wrong or no traps, or fail a chosen module, and check that
the runner reports exactly the affected commands as failed. Each file is first run without
faults (`test_clean_engine_passes`), so a fault is the only difference. Decoding and validation
faults are injected by replacing `file_runner.check_module`. The files are small: the whole
module runs in about two seconds.
"""

import collections
import json

import pytest

from pywamr.runtime.errors import (Exhaustion, InvalidModule, LinkError, MalformedModule, Trap,
                                   WasmError)
from pywamr.runtime.interp import Module
from pywamr.spectest import file_runner
from pywamr.spectest.convert import convert
from pywamr.spectest.file_runner import run_file as run_script
from pywamr.spectest.runner import Options, check_file, default_suite_dir
from pywamr.spectest.script import message_matches, run_commands

SUITE = default_suite_dir()
WG_2_0 = SUITE / "from-spec" / "wg-2.0"

LEFT_TO_RIGHT = SUITE / "left-to-right.wast"    # 44 lines hold two assertions
TRAPS = SUITE / "traps.wast"                    # assert_trap of four kinds
BULK = SUITE / "bulk.wast"                      # "uninitialized element 2"
CALL = SUITE / "call.wast"                      # assert_exhaustion
ADDRESS = WG_2_0 / "address.wast"               # modules exporting the same names
START = SUITE / "start.wast"                    # assert_uninstantiable "unreachable"
LINKING = WG_2_0 / "linking.wast"               # named modules, register, uninstantiable
IMPORTS = WG_2_0 / "imports.wast"               # assert_unlinkable of both kinds
BINARY_LEB128 = WG_2_0 / "binary-leb128.wast"   # assert_malformed
UNREACHED_INVALID = WG_2_0 / "unreached-invalid.wast"  # assert_invalid
FILES = [LEFT_TO_RIGHT, TRAPS, BULK, CALL, ADDRESS, START, LINKING, IMPORTS, BINARY_LEB128,
         UNREACHED_INVALID]


def run_file(path, engine):
    """file_runner.run_file by the rules of the suite `path` is from: the files of wg-2.0
    are 2.0's (whose imports.wast, for one, refuses a second memory)."""
    return run_script(path, engine, version="2.0" if WG_2_0 in path.parents else "3.0")


class FaultyEngine:
    """The interpreter, behind hooks that subclasses override to inject a fault."""

    name = "interp"

    def prepare(self, wasm):
        return wasm

    def load(self, data):
        return FaultyModule(self, Module(data), data)

    def call(self, export, args):
        return export.call_bits(args)

    def instantiate(self, module, imports, data):
        return module.instantiate(imports)


class FaultyModule:
    def __init__(self, engine, module, data):
        self.engine = engine
        self.module = module
        self.data = data

    def instantiate(self, imports):
        # Registered exports come back as imports: hand the interpreter its own objects.
        imports = {module: {name: value.inner if isinstance(value, FaultyExport) else value
                            for name, value in names.items()}
                   for module, names in imports.items()}
        instance = self.engine.instantiate(self.module, imports, self.data)
        return FaultyInstance(self.engine, instance)


class FaultyInstance:
    def __init__(self, engine, instance):
        exports = instance.exports if instance is not None else {}
        self.exports = {name: FaultyExport(engine, export) for name, export in exports.items()}


class FaultyExport:
    def __init__(self, engine, inner):
        self.engine = engine
        self.inner = inner

    def call_bits(self, args):
        return self.engine.call(self.inner, args)

    def get_bits(self):
        return self.inner.get_bits()


def script(path):
    with open(convert(path)) as f:
        return json.load(f)["commands"]


def module_bytes(path, command):
    with open(convert(path).parent / command["filename"], "rb") as f:
        return f.read()


def failed(results):
    return {index for index, line, kind, status, message in results if status == "failed"}


def indices(commands, *kinds, action=None):
    """Indices of the commands of these kinds (with or without an action, if given)."""
    return {i for i, c in enumerate(commands) if c["type"] in kinds
            and (action is None or ("action" in c) == action)}


# Without faults

@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_clean_engine_passes(path):
    results = run_file(path, FaultyEngine())
    assert [r[0] for r in results] == list(range(len(script(path))))
    assert not failed(results), [r for r in results if r[3] == "failed"][:5]


def test_every_assertion_of_left_to_right_is_counted():
    commands = script(LEFT_TO_RIGHT)
    assertions = [c for c in commands if c["type"].startswith("assert_")]
    per_line = collections.Counter(c["line"] for c in assertions)
    assert sum(n == 2 for n in per_line.values()) == 44

    results = run_file(LEFT_TO_RIGHT, FaultyEngine())
    counted = [r for r in results if r[2].startswith("assert_") and r[3] == "passed"]
    assert len(counted) == len(assertions)
    assert [(r[1], r[2]) for r in results] == [(c["line"], c["type"]) for c in commands]


def test_decode_only_run_counts_every_command():
    results = run_file(LEFT_TO_RIGHT, None)
    assert len(results) == len(script(LEFT_TO_RIGHT))
    assert collections.Counter(r[3] for r in results) == {"passed": 1, "skipped": 95}


# Execution faults

class WrongValues(FaultyEngine):
    def call(self, export, args):
        return [r ^ 1 if isinstance(r, int) else r for r in export.call_bits(args)]


def test_wrong_values_fail_every_assert_return():
    commands = script(LEFT_TO_RIGHT)
    expected = indices(commands, "assert_return")
    assert len(expected) == 95
    assert failed(run_file(LEFT_TO_RIGHT, WrongValues())) == expected


class NoTraps(FaultyEngine):
    def call(self, export, args):
        try:
            return export.call_bits(args)
        except Trap:
            return []


@pytest.mark.parametrize("path", [TRAPS, CALL], ids=lambda p: p.name)
def test_missing_traps_fail(path):
    commands = script(path)
    expected = indices(commands, "assert_trap", "assert_exhaustion", action=True)
    assert expected
    assert failed(run_file(path, NoTraps())) == expected


# Each trap message replaced by another one.
OTHER_TRAP = {"integer divide by zero": "integer overflow",
              "integer overflow": "integer divide by zero",
              "invalid conversion to integer": "integer overflow",
              "out of bounds memory access": "out of bounds table access",
              "out of bounds table access": "out of bounds memory access",
              "unreachable": "undefined element",
              "undefined element": "unreachable",
              "indirect call type mismatch": "unreachable"}


def other_trap(message):
    if message.startswith("uninitialized element"):
        return "undefined element"
    return OTHER_TRAP[message]


class WrongTraps(FaultyEngine):
    def call(self, export, args):
        try:
            return export.call_bits(args)
        except Exhaustion:
            raise Trap("call stack exhausted") from None        # right text, wrong class
        except Trap as e:
            raise Trap(other_trap(e.message)) from None


@pytest.mark.parametrize("path", [TRAPS, BULK, CALL], ids=lambda p: p.name)
def test_wrong_traps_fail(path):
    commands = script(path)
    expected = indices(commands, "assert_trap", "assert_exhaustion", action=True)
    assert expected
    assert failed(run_file(path, WrongTraps())) == expected


class FirstWordOfTrap(FaultyEngine):
    """Gives only the first word of each trap message: a prefix of the expected text."""

    def call(self, export, args):
        try:
            return export.call_bits(args)
        except Trap as e:
            raise Trap(e.message.split()[0]) from None


def test_truncated_trap_messages_fail():
    commands = script(TRAPS)
    expected = {i for i in indices(commands, "assert_trap", action=True)
                if " " in commands[i]["text"]}
    assert expected
    assert failed(run_file(TRAPS, FirstWordOfTrap())) == expected


@pytest.mark.parametrize("message,expected,accepted", [
    ("integer too large (at byte offset 0x13)", "integer too large", True),
    ("unknown import 'spectest' 'nope'", "unknown import", True),
    ("uninitialized element 2", "uninitialized element 2", True),
    ("uninitialized element", "uninitialized element 2", True),     # operand not tracked
    ("uninitialized element 3", "uninitialized element 2", False),  # another operand
    ("uninitialized", "uninitialized element 2", False),
    ("out of bounds", "out of bounds memory access", False),
    ("out of bounds table access", "out of bounds memory access", False),
    ("", "unreachable", False),
])
def test_message_rule(message, expected, accepted):
    assert message_matches(message, expected) == accepted


# Instantiation faults

class WrongInstantiationTraps(FaultyEngine):
    def instantiate(self, module, imports, data):
        try:
            return module.instantiate(imports)
        except Trap as e:
            raise Trap(other_trap(e.message)) from None


class InstantiationNeverTraps(FaultyEngine):
    def instantiate(self, module, imports, data):
        try:
            return module.instantiate(imports)
        except Trap:
            return None             # an instance without exports


class WrongLinkErrors(FaultyEngine):
    def instantiate(self, module, imports, data):
        try:
            return module.instantiate(imports)
        except LinkError as e:
            swapped = ("incompatible import type" if str(e).startswith("unknown import")
                       else "unknown import")
            raise LinkError(swapped) from None


class LinkErrorsAsTraps(FaultyEngine):
    def instantiate(self, module, imports, data):
        try:
            return module.instantiate(imports)
        except LinkError as e:
            raise Trap(str(e)) from None


@pytest.mark.parametrize("engine", [WrongInstantiationTraps, InstantiationNeverTraps],
                         ids=lambda e: e.__name__)
@pytest.mark.parametrize("path", [START, LINKING], ids=lambda p: p.name)
def test_uninstantiable_checks_the_trap(path, engine):
    commands = script(path)
    expected = (indices(commands, "assert_uninstantiable")
                | indices(commands, "assert_trap", action=False))
    assert expected
    assert failed(run_file(path, engine())) == expected


@pytest.mark.parametrize("engine", [WrongLinkErrors, LinkErrorsAsTraps],
                         ids=lambda e: e.__name__)
def test_unlinkable_checks_the_error(engine):
    commands = script(IMPORTS)
    expected = indices(commands, "assert_unlinkable")
    assert {commands[i]["text"] for i in expected} == {"unknown import",
                                                        "incompatible import type"}
    assert failed(run_file(IMPORTS, engine())) == expected


class FailsOneModule(FaultyEngine):
    """Fails to instantiate the module with these bytes (or, with `at_prepare`, to compile
    it), as an engine bug would."""

    def __init__(self, data, at_prepare=False):
        self.data = data
        self.at_prepare = at_prepare

    def prepare(self, wasm):
        if self.at_prepare and wasm == self.data:
            raise WasmError("injected compile failure")
        return wasm

    def instantiate(self, module, imports, data):
        if data == self.data:
            raise LinkError("injected link failure")
        return module.instantiate(imports)


def uses_current_instance(commands, index):
    """The commands after module command `index`, up to the next module, that act on the
    current instance."""
    used = set()
    for i in range(index + 1, len(commands)):
        command = commands[i]
        if command["type"] == "module":
            break
        if ("action" in command and not command["action"].get("module")
                or command["type"] == "register" and not command.get("name")):
            used.add(i)
    return used


@pytest.mark.parametrize("at_prepare", [False, True], ids=["instantiate", "prepare"])
def test_commands_after_a_failed_module_fail(at_prepare):
    # The module of address.wast line 223 exports the same functions as the one before; run
    # against that one instead, 72 of the 126 commands that follow it would pass.
    commands = script(ADDRESS)
    failing = next(i for i, c in enumerate(commands)
                   if c["type"] == "module" and c["line"] == 223)
    engine = FailsOneModule(module_bytes(ADDRESS, commands[failing]), at_prepare)
    results = run_file(ADDRESS, engine)
    after = uses_current_instance(commands, failing)
    assert len(after) == 126
    assert failed(results) == after | {failing}
    assert all("did not load" in results[i][4] for i in after)


def test_failed_named_module_fails_only_its_own_commands():
    # linking.wast: $Mf is registered as "Mf" and imported by $Nf; commands on $Nf fail too,
    # commands on the other instances still pass.
    commands = script(LINKING)
    mf = next(i for i, c in enumerate(commands)
              if c["type"] == "module" and c.get("name") == "Mf")
    results = run_file(LINKING, FailsOneModule(module_bytes(LINKING, commands[mf])))
    uses = {i for i, c in enumerate(commands)
            if c.get("name") in ("Mf", "Nf") or c.get("action", {}).get("module") in
            ("Mf", "Nf")}
    assert failed(results) == uses
    assert {commands[i]["type"] for i in uses} >= {"module", "register", "assert_return"}
    assert all("did not load" in results[i][4] for i in uses if commands[i]["type"] != "module")


def test_failed_register_leaves_no_stale_registration():
    # linking.wast's first commands, $Mf reloaded and failing: registering it again as "Mf"
    # fails, and $Nf, which imports from "Mf", must not link to the first $Mf.
    commands = script(LINKING)
    mf, register_mf, nf = commands[0:3]
    assert (mf.get("name"), register_mf["as"], nf.get("name")) == ("Mf", "Mf", "Nf")
    mf_bytes, nf_bytes = module_bytes(LINKING, mf), module_bytes(LINKING, nf)
    plan = [dict(mf, index=0, prepared=mf_bytes), dict(register_mf, index=1),
            dict(mf, index=2, error="injected failure"), dict(register_mf, index=3),
            dict(nf, index=4, prepared=nf_bytes)]
    outcomes = run_commands(plan, Module)
    assert [status for _, status, _ in outcomes] == ["passed", "passed", "failed", "failed",
                                                     "failed"]
    assert "unknown import" in outcomes[4][2]


# Decoding and validation faults

def rewrite_rejections(monkeypatch, rewrite):
    """Make the runner see `rewrite(error)` instead of each decoding or validation error."""
    check_module = file_runner.check_module

    def rewritten(data, version):
        error = check_module(data, version)
        return error if error is None else rewrite(error)
    monkeypatch.setattr(file_runner, "check_module", rewritten)


@pytest.mark.parametrize("rewrite", [
    lambda e: type(e)("some other reason"),
    lambda e: type(e)(e.reason.split()[0]),                       # a prefix of the reason
    lambda e: (InvalidModule if isinstance(e, MalformedModule) else MalformedModule)(e.reason),
    lambda e: None,                                               # accepted
], ids=["wrong-reason", "truncated-reason", "wrong-class", "accepted"])
@pytest.mark.parametrize("path", [BINARY_LEB128, UNREACHED_INVALID], ids=lambda p: p.name)
def test_rejections_check_class_and_reason(monkeypatch, path, rewrite):
    commands = script(path)
    expected = {i for i in indices(commands, "assert_malformed", "assert_invalid")
                if commands[i]["filename"].endswith(".wasm")}
    assert len(expected) > 20
    rewrite_rejections(monkeypatch, rewrite)
    assert failed(run_file(path, None)) == expected


def test_module_that_does_not_decode_fails_later_commands(monkeypatch):
    # left-to-right.wast has one module: if it does not decode, nothing can pass.
    commands = script(LEFT_TO_RIGHT)
    monkeypatch.setattr(file_runner, "check_module",
                        lambda data, version: MalformedModule("injected"))
    results = run_file(LEFT_TO_RIGHT, FaultyEngine())
    assert failed(results) == set(range(len(commands)))
    assert all("did not load" in r[4] for r in results[1:])


# The run's bookkeeping (one subprocess per call)

def test_known_failures_must_fail_and_exist():
    known = {"left-to-right.wast:181": "listed but passes",
             "left-to-right.wast:9999": "no such line"}
    _, unexpected, _ = check_file(LEFT_TO_RIGHT, Options("interp"), known, SUITE)
    assert sorted(unexpected) == [
        "left-to-right.wast:181: passes but is listed as a known failure",
        "left-to-right.wast:9999: listed as a known failure, but no command there"]


DEFINITIONS = """
(module definition $M
  (global (export "glob") (mut i32) (i32.const 0))
  (func (export "inc") (result i32)
    (global.set 0 (i32.add (global.get 0) (i32.const 1))) (global.get 0)))
(module instance $I1 $M)
(module instance $I2 $M)
(assert_return (invoke $I1 "inc") (i32.const 1))
(assert_return (invoke $I1 "inc") (i32.const 2))
(assert_return (invoke $I2 "inc") (i32.const 1))
(register "I2" $I2)
(module (import "I2" "glob" (global (mut i32))) (func (export "g") (result i32) (global.get 0)))
(assert_return (invoke "g") (i32.const 1))
"""


def test_module_definitions_make_separate_instances(tmp_path):
    """3.0 scripts: `module definition` compiles, each `module instance` instantiates anew."""
    path = tmp_path / "definitions.wast"
    path.write_text(DEFINITIONS)
    results = run_file(path, FaultyEngine())
    assert [kind for _, _, kind, _, _ in results][:3] == ["module_definition", "module_instance",
                                                          "module_instance"]
    assert not failed(results) and len(results) == 9
