"""`python -m pywamr.spectest`: run spec scripts, one line per file, then the totals.

With no PATH it runs the WebAssembly 2.0 core suite listed in
`../shared/wasm-testsuite/suite-2.0.txt`, judging modules by 2.0's rules; `--suite 3.0` runs
the 257 root files of the 3.0 suite by 3.0's rules, as are PATHs unless `--suite 2.0` is
given. Each file runs in its own subprocess
(`file_runner.py`); the counts are per command, so two assertions on one line count twice.
A failure is tolerated only if `tests/spec/known_failures.txt` lists it (by FILE:LINE); an
unexpected failure, or a listed one that now passes or names no command, makes the exit
status 1.
"""

import argparse
import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path


REPO = Path(__file__).resolve().parent.parent
KNOWN_FAILURES = REPO / "tests" / "spec" / "known_failures.txt"


def default_suite_dir():
    env = os.environ.get("PYWAMR_TESTSUITE")
    if env:
        return Path(env)
    for base in (REPO, Path.cwd()):
        candidate = base.parent / "shared" / "wasm-testsuite"
        if candidate.is_dir():
            return candidate
    raise SystemExit("spectest: cannot find ../shared/wasm-testsuite (set PYWAMR_TESTSUITE)")


def suite_files(suite_dir, version="2.0"):
    """The files of the 2.0 suite (suite-2.0.txt), or the root files of the 3.0 suite."""
    if version == "3.0":
        return sorted(suite_dir.glob("*.wast"))
    listing = (suite_dir / "suite-2.0.txt").read_text().splitlines()
    return [suite_dir / line.strip() for line in listing
            if line.strip() and not line.startswith("#")]


def expand(paths):
    files = []
    for path in map(Path, paths):
        if path.is_dir():
            files.extend(sorted(path.rglob("*.wast")))
        elif path.exists():
            files.append(path)
        else:
            raise SystemExit(f"spectest: no such file: {path}")
    return files


def test_id_prefix(path, suite_dir):
    try:
        return str(path.resolve().relative_to(suite_dir.resolve()))
    except ValueError:
        return path.name


def load_known_failures(label):
    """{test id: reason} for this engine label from the known-failures file.

    Each line: ENGINE TEST-ID REASON..., ENGINE being `*`, `none`, `interp`, `aot-x86_64`,
    `aot-aarch64`; `#` starts a comment."""
    known = {}
    if not KNOWN_FAILURES.exists():
        return known
    for raw in KNOWN_FAILURES.read_text().splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        engine, test_id, *reason = line.split(None, 2)
        if engine in ("*", label):
            known[test_id] = reason[0] if reason else ""
    return known


class Options:
    """What a run executes with: engine (None = decode/validate only), AOT settings, and the
    rules modules are judged by (`version`, see file_runner.py)."""

    def __init__(self, engine=None, target=None, opt_level=3, size_level=3, bounds_checks="off",
                 compile_jobs=None, part_bytes=None, version="2.0"):
        self.engine = engine
        self.version = version
        self.target = target
        self.opt_level = opt_level
        self.size_level = size_level
        self.bounds_checks = bounds_checks
        self.compile_jobs = compile_jobs
        self.part_bytes = part_bytes

    def label(self):
        if self.engine is None:
            return "none"
        if self.engine == "aot":
            return f"aot-{self.target or os.uname().machine}"
        return self.engine


def run_one(path, options):
    """Run one file in a subprocess; return (results, None) or (None, crash reason)."""
    command = [sys.executable, "-m", "pywamr.spectest.file_runner", str(path),
               "--suite", options.version]
    if options.engine:
        command += ["--engine", options.engine, "--opt-level", str(options.opt_level),
                    "--size-level", str(options.size_level),
                    "--bounds-checks", options.bounds_checks]
        if options.target:
            command += ["--target", options.target]
        if options.compile_jobs:
            command += ["--compile-jobs", str(options.compile_jobs)]
        if options.part_bytes:
            command += ["--part-bytes", str(options.part_bytes)]
    proc = subprocess.run(command, capture_output=True, text=True)
    if proc.returncode == 0:
        try:
            return json.loads(proc.stdout)["results"], None
        except (ValueError, KeyError):
            pass
    if proc.returncode < 0:
        return None, f"crashed with signal {-proc.returncode}"
    lines = proc.stderr.strip().splitlines()
    return None, lines[-1] if lines else f"exit status {proc.returncode}"


def check_file(path, options, known, suite_dir):
    """Run one file; return (counts, unexpected results as lines, crash reason or None).

    Counts are per command. A known failure is listed by line, so it covers every command on
    that line; it must still fail (at least one of them), and the line must hold a command."""
    prefix = test_id_prefix(path, suite_dir)
    results, crash = run_one(path, options)
    counts = {"passed": 0, "failed": 0, "skipped": 0}
    unexpected = []
    if results is None:
        counts["failed"] += 1
        if f"{prefix}:*" not in known:
            unexpected.append(f"{prefix}:* {crash}")
        return counts, unexpected, crash
    failing = set()
    seen = set()
    for index, line, kind, status, message in results:
        counts[status] += 1
        test_id = f"{prefix}:{line}"
        seen.add(test_id)
        if status == "failed":
            failing.add(test_id)
            if test_id not in known:
                unexpected.append(f"{test_id} {kind}: {message}")
    if f"{prefix}:*" in known:
        unexpected.append(f"{prefix}:*: runs but is listed as crashing")
    for test_id in known:
        if not test_id.startswith(prefix + ":") or test_id == f"{prefix}:*":
            continue
        if test_id not in seen:
            unexpected.append(f"{test_id}: listed as a known failure, but no command there")
        elif test_id not in failing:
            unexpected.append(f"{test_id}: passes but is listed as a known failure")
    return counts, unexpected, None


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m pywamr.spectest",
        description="Run WebAssembly spec tests (.wast). With no PATH: the 2.0 core suite.")
    parser.add_argument("--suite", choices=["2.0", "3.0"],
                        help="with no PATH, the files to run; and the rules modules are "
                             "judged by (default: 2.0 with no PATH, else 3.0)")
    parser.add_argument("paths", nargs="*", metavar="PATH", help=".wast files or folders")
    parser.add_argument("--engine", choices=["interp", "aot"],
                        help="engine for execution commands (default: decode/validate only)")
    parser.add_argument("--target", choices=["x86_64", "aarch64"],
                        help="AOT target; aarch64 on an x86_64 host runs under qemu")
    parser.add_argument("--opt-level", type=int, default=3, choices=range(4))
    parser.add_argument("--size-level", type=int, default=3, choices=range(4))
    parser.add_argument("--bounds-checks", choices=["on", "off"], default="off",
                        help="AOT: guard pages (off, the default) or explicit checks (on)")
    parser.add_argument("--jobs", "-j", type=int, default=os.cpu_count() or 1,
                        help="files run at once")
    parser.add_argument("--compile-jobs", type=int, metavar="N",
                        help="AOT: pyaotc -j N, worker processes per compile")
    parser.add_argument("--part-bytes", type=int, metavar="N",
                        help="AOT: split modules into parts of about N bytes of code "
                             "(compiler/partition.py); 1 puts every function in a part of its "
                             "own, so that every call crosses parts")
    parser.add_argument("-v", "--verbose", action="store_true", help="print every failure")
    args = parser.parse_args(argv)

    suite_dir = default_suite_dir()
    version = args.suite or ("3.0" if args.paths else "2.0")
    files = expand(args.paths) if args.paths else suite_files(suite_dir, version)
    options = Options(args.engine, args.target, args.opt_level, args.size_level,
                      args.bounds_checks, args.compile_jobs, args.part_bytes, version)
    known = load_known_failures(options.label())
    totals = {"passed": 0, "failed": 0, "skipped": 0}
    unexpected = []

    with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        futures = [(path, pool.submit(check_file, path, options, known, suite_dir))
                   for path in files]
        for path, future in futures:
            counts, file_unexpected, crash = future.result()
            unexpected.extend(file_unexpected)
            for key in totals:
                totals[key] += counts[key]
            print(f"{test_id_prefix(path, suite_dir)}: {counts['passed']} passed, "
                  f"{counts['failed']} failed, {counts['skipped']} skipped"
                  + (f" ({crash})" if crash else ""), flush=True)

    if unexpected:
        print(f"\n{len(unexpected)} unexpected results:")
        for entry in unexpected if args.verbose else unexpected[:50]:
            print("  " + entry)
        if not args.verbose and len(unexpected) > 50:
            print(f"  ... and {len(unexpected) - 50} more (-v shows all)")
    print(f"{totals['passed']} passed, {totals['failed']} failed, {totals['skipped']} skipped")
    return 1 if unexpected else 0
