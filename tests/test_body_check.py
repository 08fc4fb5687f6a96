"""Tests of the decoder's fast pass over function bodies (runtime/body_check.py).

The fast pass may leave any body to the reference path (decoder + validator), but must never
accept one the reference path refuses, and a module's verdict, error message included, must
be the reference path's. Each module here goes through both: as pywamr loads it, and with
the fast pass switched off. The modules are every binary module of the spec suite (valid,
assert_invalid, assert_malformed; 2.0 and the 3.0 root files), real C programs, and mutants
of both with bytes of their code changed.
"""

import json
import random
import sys
from pathlib import Path

import pytest

from pywamr.runtime import body_check
from pywamr.runtime.decoder import decode_module
from pywamr.runtime.errors import InvalidModule, MalformedModule
from pywamr.runtime.validator import build_context, check_function, validate
from pywamr.spectest.convert import convert
from pywamr.spectest.file_runner import binary_filename
from pywamr.spectest.runner import default_suite_dir, suite_files

from pyiwasm_support import build_samples

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
import big_module       # noqa: E402  (the generator of the decoding benchmark's module)


def load(data, version):
    """The decoded and validated module, or (error class name, message)."""
    try:
        module = decode_module(data, version)
        validate(module, version=version)
    except (MalformedModule, InvalidModule) as error:
        return type(error).__name__, str(error)
    return module


def reference_load(data, version):
    """`load` with the fast pass refusing every body."""
    check_bodies = body_check.BodyChecker.check_bodies
    body_check.BodyChecker.check_bodies = lambda self, data, pos, *args: pos
    try:
        return load(data, version)
    finally:
        body_check.BodyChecker.check_bodies = check_bodies


def compare(data, version, name):
    """Differences between the two paths on one module (a list of lines); and how many
    bodies the fast pass accepted."""
    fast, reference = load(data, version), reference_load(data, version)
    if isinstance(fast, tuple) or isinstance(reference, tuple):
        if fast != reference:
            return [f"{name}: fast path {fast}, reference path {reference}"], 0
        return unsound_bodies(data, version, name), 0
    problems = []
    for i, (code, expected) in enumerate(zip(fast.codes, reference.codes)):
        if expected.known_valid:
            problems.append(f"{name}: the fast pass ran on the reference path")
        if code.body != expected.body or code.locals != expected.locals:
            problems.append(f"{name}: function body {i} decodes differently")
    return problems, sum(code.known_valid for code in fast.codes)


def unsound_bodies(data, version, name):
    """For a module refused: the bodies the fast pass accepted that the validator refuses,
    if the module decodes and its context can be built (the error may come before the
    bodies, which then go unchecked by `compare`)."""
    try:
        module = decode_module(data, version)
        context = build_context(module, version)
    except (MalformedModule, InvalidModule):
        return []
    problems = []
    first = module.num_imported_funcs
    for i, code in enumerate(module.codes):
        if code.known_valid:
            try:
                check_function(context, first + i, code)
            except InvalidModule as error:
                problems.append(f"{name}: body {i} accepted by the fast pass: {error}")
    return problems


def suite_modules(version):
    """(name, bytes) of every binary module of the suite's files of `version`."""
    suite_dir = default_suite_dir()
    for wast in suite_files(suite_dir, version):
        script = convert(wast)
        for command in json.loads(script.read_text())["commands"]:
            filename = binary_filename(command)
            if filename and filename.endswith(".wasm"):
                path = script.parent / filename
                if path.exists():
                    yield f"{wast.name}:{command['line']}", path.read_bytes()


@pytest.mark.parametrize("version", ["2.0", "3.0"])
def test_spec_modules_get_the_reference_verdict(version):
    problems, accepted, modules = [], 0, 0
    for name, data in suite_modules(version):
        found, count = compare(data, version, name)
        problems += found
        accepted += count
        modules += 1
    assert modules > 1000
    assert accepted > 1000          # the fast pass does take part
    assert not problems, "\n".join(problems[:40])


@pytest.fixture(scope="module")
def programs():
    """The C samples' modules, and a small module of big_module's generated code."""
    samples = build_samples()
    modules = {path.name: path.read_bytes() for path in sorted(samples.glob("*.wasm"))}
    modules["big_module"] = big_module.generate(0.05)
    return modules


def test_real_programs_are_checked_by_the_fast_pass(programs):
    for name, data in programs.items():
        problems, accepted = compare(data, "3.0", name)
        assert not problems, "\n".join(problems)
        # The compilers' code is what the fast pass is for: nearly all of it.
        assert accepted >= 0.9 * len(decode_module(data).codes), name


def mutants(data, rng, count):
    """Copies of `data` with one to three bytes of the code section and after changed."""
    start = decode_module(data).codes[0].offset
    for _ in range(count):
        mutant = bytearray(data)
        for _ in range(rng.randint(1, 3)):
            position = rng.randrange(start, len(data))
            mutant[position] = rng.choice([rng.randrange(256), mutant[position] ^ 0x80,
                                           0x0B, 0x00, 0x40, 0x7F, 0x20, 0x0D])
        yield bytes(mutant)


# Each version its own mutants: both rules see as many different modules as one would with
# twice the mutants, in half the time (the reference path is most of this file's time).
@pytest.mark.parametrize("version, seed", [("2.0", 20), ("3.0", 22)])
def test_mutants_of_real_programs_get_the_reference_verdict(programs, version, seed):
    rng = random.Random(seed)
    problems, refused = [], 0
    for name, data in programs.items():
        for i, mutant in enumerate(mutants(data, rng, 75)):
            found, _ = compare(mutant, version, f"{name} mutant {i}")
            problems += found
            refused += isinstance(load(mutant, version), tuple)
    assert refused > 100            # mutants that the fast pass had to leave alone
    assert not problems, "\n".join(problems[:40])


def test_mutants_of_spec_modules_get_the_reference_verdict():
    rng = random.Random(21)
    valid = []
    for name, data in suite_modules("2.0"):
        try:
            if decode_module(data).codes:
                valid.append((name, data))
        except MalformedModule:
            pass
    problems = []
    for name, data in rng.sample(valid, 300):
        for i, mutant in enumerate(mutants(data, rng, 10)):
            problems += compare(mutant, "2.0", f"{name} mutant {i}")[0]
    assert not problems, "\n".join(problems[:40])


def test_a_body_is_decoded_on_first_use_only():
    data = big_module.generate(0.01)
    module = decode_module(data)
    code = module.codes[3]
    assert code.known_valid and code._body is None
    assert code.body[-1].op == 0x0B and code._body is code.body
    assert data[code.body[0].offset] == code.body[0].op


def test_long_forms_are_checked_by_the_fast_pass():
    """A body over 16 KB (a three-byte size), locals declared with two-byte counts (not in
    the decoder's cache of one-byte declarations), the longest constants, and a body after
    them: all taken by the fast pass, with the reference's verdict."""
    op, uleb, sleb = big_module.op, big_module.uleb, big_module.sleb
    long_code = b"".join(op("local.get", uleb(150)) + op("local.set", uleb(199))
                         for _ in range(3000))
    constants = b"".join([
        op("i32.const", sleb(-2**31)), op("i32.const", sleb(2**31 - 1)), op("i32.add"),
        op("i64.const", sleb(-2**63)), op("i64.const", sleb(2**63 - 1)), op("i64.add"),
        op("i32.wrap_i64"), op("i32.add"), op("call", uleb(1)), op("drop")])
    bodies = [
        big_module.vector([uleb(200) + bytes([big_module.I32])]) + long_code + constants
        + op("local.get", uleb(0)) + op("end"),
        big_module.vector([]) + op("local.get", uleb(0)) + op("end"),
    ]
    functype = bytes([0x60]) + big_module.vector([bytes([big_module.I32])]) * 2
    data = b"".join([
        b"\0asm", (1).to_bytes(4, "little"),
        big_module.section(1, big_module.vector([functype])),
        big_module.section(3, big_module.vector([uleb(0)] * len(bodies))),
        big_module.section(10, big_module.vector([uleb(len(b)) + b for b in bodies])),
    ])
    assert len(bodies[0]) >= 1 << 14
    problems, accepted = compare(data, "3.0", "long forms")
    assert not problems, "\n".join(problems)
    assert accepted == len(bodies)
