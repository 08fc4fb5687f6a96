"""Compare the run time of the benchmark programs (full tier) between builds of pywamr: each
variant is a pywamr tree (a PYTHONPATH holding `pywamr`, or "" for the installed one) plus
pyaotc and pyiwasm flags. Runs are interleaved, CPU time (user + sys of the child), best of N.

    python3 benchmarks/compare_builds.py main= branch=/tmp/limits-pkg \\
        'fuel=/tmp/limits-pkg;--fuel;--fuel 1000000000000'

Each variant is NAME=PYTHONPATH[;PYAOTC FLAGS[;PYIWASM FLAGS]]; ratios are to the first.
Used for docs/benchmarks.md, "Cost of interruption checks and fuel".
"""

import argparse
import math
import os
import resource
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from programs import PROGRAMS  # noqa: E402


def environment(pythonpath):
    env = dict(os.environ)
    env.pop("PYTHONPATH", None)
    if pythonpath:
        env["PYTHONPATH"] = pythonpath
    return env


def cpu_time(argv, env):
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    done = subprocess.run(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          stdin=subprocess.DEVNULL)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode:
        raise SystemExit(f"{argv} failed: {done.stderr.decode()[-300:]}")
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime), done.stdout


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("variants", nargs="+")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("-k", dest="only", help="comma-separated program names")
    options = parser.parse_args()
    variants = []
    for text in options.variants:
        name, _, rest = text.partition("=")
        parts = rest.split(";") + ["", ""]
        variants.append((name, parts[0], parts[1].split(), parts[2].split()))
    programs = [p for p in PROGRAMS if not options.only or p.name in options.only.split(",")]
    work = Path(tempfile.mkdtemp(prefix="compare-"))
    for program in programs:
        for name, path, aotc_flags, _ in variants:
            subprocess.run([sys.executable, "-m", "pywamr.compiler", *aotc_flags, "-o",
                            str(work / f"{program.name}.{name}.aot"), str(program.wasm)],
                           env=environment(path), check=True)
    ratios = {name: [] for name, *_ in variants}
    print("program | " + " | ".join(f"{name} s" for name, *_ in variants))
    for program in programs:
        best = {name: math.inf for name, *_ in variants}
        outputs = set()
        for _ in range(options.rounds):
            for name, path, _, iwasm_flags in variants:
                seconds, out = cpu_time([sys.executable, "-m", "pywamr.loader", *iwasm_flags,
                                         str(work / f"{program.name}.{name}.aot"),
                                         *program.args("full")], environment(path))
                best[name] = min(best[name], seconds)
                outputs.add(out)
        assert len(outputs) == 1, f"{program.name}: the variants print different output"
        first = best[variants[0][0]]
        for name in best:
            ratios[name].append(best[name] / first)
        print(f"{program.name} | " + " | ".join(
            f"{best[name]:.3f} ({best[name] / first:.3f})" for name in best), flush=True)
    print("geomean | " + " | ".join(
        f"{math.exp(sum(map(math.log, r)) / len(r)):.3f}" for r in ratios.values()))


if __name__ == "__main__":
    main()
