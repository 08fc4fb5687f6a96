"""The mutant run of issue #13: corrupt one `.aot` file in many ways, load and run each
mutant as `pyiwasm` does, and count what happens.

    python3 -m pywamr.fuzz.aot_mutants --count 10000 --seed 1
    python3 -m pywamr.fuzz.aot_mutants --count 500 --aot app.aot --jobs 2

Each mutant changes the container or the module's metadata inside it, never the contents of
the object's sections (the code, trusted as a shared library's is), and gets its checksum
recomputed, so that it reaches the checks behind the checksum: random byte flips, field-aware
changes of sizes, counts, indices, offsets and addends (aot_fields.py maps every field), and
truncations. Every mutant runs in a forked child of this process, which has the loader
already imported: the child runs `pyiwasm FILE` (loader/cli.py's main) with its output in
files, under a timeout and an address-space limit. Outcomes:

    ok        the program ran (its exit status and output may differ from the original's)
    error     exit status 1 with one line `pyiwasm: error: ...`: refused, as it should be
              (a status of 1 without a `pyiwasm:` line is the program's own: ok)
    trap      exit status 134, a wasm trap
    internal  a traceback, an internal error (status 70) or an error of more than one line
    crash     killed by a signal (SIGSEGV, SIGBUS, ...)
    hang      still running at the timeout

Goal: no internal and no hang; crashes only from changes that keep a relocation addend or a
symbol's value within its bounds, which no check can tell from the compiler's
(docs/aot-format.md, "Trust"). Without --aot or --wasm the sample is tests/samples/hello.c,
built with clang-19 for wasm32-wasi and compiled with pyaotc.
"""

import argparse
import collections
import faulthandler
import json
import os
import random
import resource
import signal
import struct
import subprocess
import sys
import tempfile
import time
import zlib
from pathlib import Path

from pywamr.runtime.aot_layout import CHECKSUM_OFFSET, CHECKSUMMED_FROM, HEADER

from .aot_fields import map_aot, pack_int

OUTCOMES = ("ok", "error", "trap", "internal", "crash", "hang")
TIMEOUT = 10                    # seconds per mutant
ADDRESS_SPACE = 64 << 30        # per child: guard pages reserve 10 GiB per memory
ROOT = Path(__file__).resolve().parent.parent

# How often each kind of mutation is picked.
KINDS = {"flip": 4, "field": 5, "truncate": 1}


# ---------------------------------------------------------------------------------------------
# Mutations

def mutate(data, fields, rng):
    """(mutant bytes, description) for one random mutation of `data`, checksum recomputed."""
    kind = rng.choices(list(KINDS), weights=list(KINDS.values()))[0]
    mutable = [f for f in fields if f.kind not in ("code", "checksum")]
    if kind == "flip":
        out, what = _flip(data, mutable, rng)
    elif kind == "field":
        out, what = _set_field(data, [f for f in mutable if f.value is not None], rng)
    else:
        out, what = _truncate(data, fields, rng)
    return with_checksum(out), f"{kind}: {what}"


def with_checksum(data):
    data = bytearray(data)
    struct.pack_into("<I", data, CHECKSUM_OFFSET, zlib.crc32(data[CHECKSUMMED_FROM:]))
    return bytes(data)


def _flip(data, mutable, rng):
    """One byte of a mutable field: one bit flipped, or a random value."""
    sizes = [f.size for f in mutable]
    field = rng.choices(mutable, weights=sizes)[0]
    position = field.start + rng.randrange(field.size)
    out = bytearray(data)
    out[position] ^= 1 << rng.randrange(8) if rng.random() < 0.7 else rng.randrange(1, 256)
    return out, (f"{field.label} byte {position - field.start}: "
                 f"{data[position]:#04x} -> {out[position]:#04x}")


def _set_field(data, fields, rng):
    """A numeric field set to a value chosen for its kind: near the old one, at the edges of
    what it indexes, or extreme."""
    for _ in range(100):
        field = rng.choice(fields)
        value = _interesting_value(field, rng)
        raw = pack_int(field.kind, value, field.size)
        if raw is not None and value != field.value:
            out = bytearray(data)
            out[field.start:field.start + field.size] = raw
            return out, f"{field.label}: {field.value} -> {value}"
    return bytearray(data), "nothing"


def _interesting_value(field, rng):
    v, bits = field.value, 8 * field.size
    candidates = [0, 1, v + 1, v - 1, v + rng.randint(-64, 64), v ^ (1 << rng.randrange(bits)),
                  v * 2, v // 2, (1 << (bits - 1)) - 1, (1 << bits) - 1, rng.getrandbits(bits)]
    if field.limit is not None:                         # an index or offset into something
        candidates += [field.limit, field.limit + 1, field.limit - 1,
                       rng.randrange(field.limit + 1)]
    if field.label.endswith(".addend"):
        candidates += [v + rng.choice([-1, 1]) * rng.choice([1, 4, 16, 17, 256, 4096, 1 << 20,
                                                             1 << 31, 1 << 40]), -v]
    if field.label.endswith((".size", ".stored", "payload_length", ".length", ".count")):
        candidates += [v + (1 << rng.randrange(bits)), 1 << 59, 576460752303431680]
    value = rng.choice(candidates)
    if field.kind == "i64":
        return (value + (1 << 63)) % (1 << 64) - (1 << 63)
    return value % (1 << bits)


def _truncate(data, fields, rng):
    """The file cut short (its payload length fixed), or one of its five sections cut short
    (its size fixed too)."""
    out = bytearray(data)
    sizes = [f for f in fields if f.label.startswith("section") and f.label.endswith(".size")]
    if rng.random() < 0.5 or not sizes:
        cut = rng.randrange(HEADER.size, len(data))
        del out[cut:]
        what = f"file cut at {cut} of {len(data)}"
    else:
        size_field = rng.choice(sizes)
        body = size_field.start + size_field.size
        keep = rng.randrange(size_field.value) if size_field.value else 0
        del out[body + keep:body + size_field.value]
        out[size_field.start:body] = keep.to_bytes(8, "little")
        what = f"{size_field.label[:-5]} cut to {keep} of {size_field.value} bytes"
    struct.pack_into("<Q", out, 16, len(out) - HEADER.size)
    return out, what


# ---------------------------------------------------------------------------------------------
# Running one mutant

def run_mutant(path, timeout=TIMEOUT):
    """Run `pyiwasm path` in a forked child: (outcome, exit status or signal name, first
    line of stderr, stdout)."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:
            _child(path, out.fileno(), err.fileno(), timeout)
        _, status = os.waitpid(pid, 0)
        out.seek(0)
        err.seek(0)
        stdout = out.read().decode("utf-8", "replace")
        stderr = err.read().decode("utf-8", "replace")
    return classify(status, stderr) + (stdout,)


def _child(path, out, err, timeout):
    try:
        os.dup2(os.open(os.devnull, os.O_RDONLY), 0)
        os.dup2(out, 1)
        os.dup2(err, 2)
        sys.stdout = open(1, "w", closefd=False)      # not whatever the parent had (pytest's)
        sys.stderr = open(2, "w", closefd=False)
        faulthandler.disable()          # pytest's would print a crash on a copy of stderr
        resource.setrlimit(resource.RLIMIT_AS, (ADDRESS_SPACE, ADDRESS_SPACE))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        signal.alarm(timeout)           # its default action ends the child: a hang
        from pywamr.loader.cli import main
        status = main([str(path)])
        sys.stdout.flush()
        sys.stderr.flush()
    except BaseException:
        import traceback
        traceback.print_exc()
        sys.stderr.flush()
        status = 70
    os._exit(status)


def classify(status, stderr):
    """(outcome, detail, first line of stderr) from a wait status and the child's stderr."""
    lines = stderr.strip().splitlines()
    first = lines[0] if lines else ""
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        name = signal.Signals(sig).name if sig in signal.Signals._value2member_map_ else str(sig)
        return ("hang" if sig == signal.SIGALRM else "crash"), name, first
    code = os.WEXITSTATUS(status)
    if code == 70 or "Traceback" in stderr or "internal error" in stderr:
        return "internal", code, first
    if code == 1 and any(line.startswith("pyiwasm: ") for line in lines):
        one_line = len(lines) == 1 and first.startswith("pyiwasm: error: ")
        return ("error" if one_line else "internal"), code, first
    if code == 134:
        return "trap", code, first
    return "ok", code, first


# ---------------------------------------------------------------------------------------------
# The run

def run(aot, count, seed, jobs=1, timeout=TIMEOUT, workdir=None, progress=False):
    """Mutate `aot` `count` times and run every mutant; [result dict] in mutant order. Mutant
    i depends only on (seed, i), not on the number of jobs."""
    fields = map_aot(aot)
    workdir = Path(workdir or tempfile.mkdtemp(prefix="aot-mutants-"))
    workdir.mkdir(parents=True, exist_ok=True)
    workers = []
    for job in range(jobs):
        results = workdir / f"results-{job}.jsonl"
        pid = os.fork()
        if pid == 0:
            status = 1
            try:
                _worker(aot, fields, range(job, count, jobs), seed, timeout, workdir, job,
                        results, progress and job == 0)
                status = 0
            except BaseException:
                import traceback
                traceback.print_exc()
            finally:
                os._exit(status)
        workers.append((pid, results))
    merged = []
    for pid, results in workers:
        os.waitpid(pid, 0)
        merged += [json.loads(line) for line in results.read_text().splitlines()]
    if len(merged) != count:
        raise RuntimeError(f"aot_mutants: {count - len(merged)} mutants have no result "
                           f"(a worker failed: see its traceback above)")
    return sorted(merged, key=lambda result: result["index"])


def _worker(aot, fields, indices, seed, timeout, workdir, job, results, progress):
    path = workdir / f"mutant-{job}.aot"
    started = time.monotonic()
    with open(results, "w") as log:
        for n, index in enumerate(indices):
            rng = random.Random(f"{seed}:{index}")
            mutant, what = mutate(aot, fields, rng)
            path.write_bytes(mutant)
            outcome, detail, message, _ = run_mutant(path, timeout)
            log.write(json.dumps({"index": index, "mutation": what, "outcome": outcome,
                                  "detail": detail, "message": message}) + "\n")
            log.flush()
            if progress and (n + 1) % 200 == 0:
                rate = (n + 1) / (time.monotonic() - started)
                print(f"aot_mutants: {n + 1} of {len(indices)} ({rate:.1f}/s)",
                      file=sys.stderr, flush=True)


def report(results, baseline):
    """The text summary: counts per outcome, per mutation kind and field, and every mutant
    that did not end in ok, error or trap."""
    counts = collections.Counter(r["outcome"] for r in results)
    lines = [f"{len(results)} mutants of a file whose run ends: {baseline}",
             "outcomes: " + ", ".join(f"{o} {counts[o]}" for o in OUTCOMES)]
    by_kind = collections.defaultdict(collections.Counter)
    for r in results:
        by_kind[r["mutation"].split(":")[0]][r["outcome"]] += 1
    for kind, kind_counts in sorted(by_kind.items()):
        lines.append(f"  {kind:9} " + ", ".join(f"{o} {kind_counts[o]}" for o in OUTCOMES
                                                 if kind_counts[o]))
    by_field = collections.defaultdict(collections.Counter)
    for r in results:
        by_field[_field_group(r["mutation"])][r["outcome"]] += 1
    lines.append("by field (ok / error / trap / internal / crash / hang):")
    for group, group_counts in sorted(by_field.items()):
        lines.append(f"  {group:34} " + " / ".join(str(group_counts[o]) for o in OUTCOMES))
    bad = [r for r in results if r["outcome"] in ("internal", "crash", "hang")]
    if bad:
        lines.append("not refused:")
        for r in bad:
            lines.append(f"  #{r['index']} {r['outcome']} ({r['detail']}): {r['mutation']}"
                         + (f" -- {r['message']}" if r["message"] else ""))
    return "\n".join(lines)


def _field_group(mutation):
    """`flip: relocation[3].addend byte 0: ...` -> `relocation.addend`."""
    kind, _, rest = mutation.partition(": ")
    if kind == "truncate":
        return "truncation"
    label = rest.split(" ")[0].rstrip(":")
    parts = [part.split("[")[0] for part in label.split(".")]
    return ".".join(parts[:3])


# ---------------------------------------------------------------------------------------------
# The sample

def build_sample(workdir):
    """tests/samples/hello.c as an .aot: clang-19 to wasm32-wasi, then pyaotc."""
    from pywamr.compiler.driver import compile_wasm
    wasm = Path(workdir) / "hello.wasm"
    subprocess.run(["clang-19", "--target=wasm32-wasi", "--sysroot=/usr", "-O2",
                    "-Wl,--strip-debug", "-o", str(wasm), str(ROOT / "tests/samples/hello.c"),
                    "-lm"], check=True)
    return compile_wasm(wasm.read_bytes())


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python3 -m pywamr.fuzz.aot_mutants",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--seed", default="1")
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument("--timeout", type=int, default=TIMEOUT)
    parser.add_argument("--aot", help="the .aot file to mutate")
    parser.add_argument("--wasm", help="a .wasm file, compiled with pyaotc and mutated")
    parser.add_argument("--workdir", help="where mutants and results go (default: a new "
                                          "temporary directory)")
    parser.add_argument("--json", help="write every mutant's result to this file")
    options = parser.parse_args(argv)
    workdir = Path(options.workdir or tempfile.mkdtemp(prefix="aot-mutants-"))
    workdir.mkdir(parents=True, exist_ok=True)
    if options.aot:
        aot = Path(options.aot).read_bytes()
    elif options.wasm:
        from pywamr.compiler.driver import compile_wasm
        aot = compile_wasm(Path(options.wasm).read_bytes())
    else:
        aot = build_sample(workdir)
    # Import the loader now: every forked child then starts with it.
    import pywamr.loader.aot_module  # noqa: F401
    import pywamr.loader.cli  # noqa: F401
    import pywamr.runtime.wasi  # noqa: F401
    original = workdir / "original.aot"
    original.write_bytes(aot)
    outcome, detail, message, stdout = run_mutant(original, options.timeout)
    baseline = f"{outcome} ({detail}){' -- ' + message if message else ''}"
    started = time.monotonic()
    results = run(aot, options.count, options.seed, options.jobs, options.timeout, workdir,
                  progress=True)
    print(report(results, baseline))
    print(f"({time.monotonic() - started:.0f} s, seed {options.seed}, {options.jobs} jobs)")
    if options.json:
        Path(options.json).write_text(json.dumps(results, indent=0))
    counts = collections.Counter(r["outcome"] for r in results)
    return 1 if counts["internal"] or counts["hang"] else 0


if __name__ == "__main__":
    sys.exit(main())
