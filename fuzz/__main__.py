"""python3 -m pywamr.fuzz: the differential fuzzing campaign (docs/fuzzing.md).

    python3 -m pywamr.fuzz --seed 1 --count 100
    nice -n 10 python3 -m pywamr.fuzz --minutes 60 --log fuzz.jsonl
    python3 -m pywamr.fuzz --replay tests/fuzz_regressions/seed-42.wasm --seed 42
"""

import argparse
import json
import random
import sys
import time
from collections import Counter
from pathlib import Path

from . import shrink
from .compare import ARM64, CONFIGS, arm64_available, check_module
from .generate import GeneratorError, generate

BATCH = 10


def family(config):
    """Divergences of one kind in -O0 and -O3 are usually one bug: shrink it once."""
    return config.replace("-O0", "").replace("-O3", "")


def parse_args(argv):
    parser = argparse.ArgumentParser(prog="python3 -m pywamr.fuzz",
                                     description="Differential fuzzing against wasmtime.")
    parser.add_argument("--seed", type=int, help="first module seed (default: random)")
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--count", type=int, help="modules to run (default 100)")
    group.add_argument("--minutes", type=float, help="run for this long instead")
    group.add_argument("--replay", type=Path, help="run one .wasm (a kept regression)")
    parser.add_argument("--engines", nargs="+", choices=CONFIGS, metavar="CONFIG",
                        help=f"configurations to compare with wasmtime: {', '.join(CONFIGS)} "
                             f"(default: all; arm64 ones when the arm64 root exists)")
    parser.add_argument("--arm64-every", type=int, default=5, metavar="K",
                        help="run the arm64 configurations on every K-th module (default 5)")
    parser.add_argument("--keep", type=Path, default=shrink.REGRESSIONS, metavar="DIR",
                        help="where shrunk divergences go (default tests/fuzz_regressions)")
    parser.add_argument("--no-shrink", action="store_true",
                        help="report divergences without shrinking and keeping them")
    parser.add_argument("--max-shrinks", type=int, default=10,
                        help="shrink at most this many divergences (one per new kind)")
    parser.add_argument("--log", type=Path, help="append one JSON line per divergent module")
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    engines = args.engines or [c for c in CONFIGS if c not in ARM64 or arm64_available()]
    if not args.engines and not arm64_available():
        print("note: no arm64 root (build-scripts/build-arm64-root.sh): arm64 slice skipped")
    if args.replay:
        return replay(args.replay, args.seed or 0, engines)
    seed = args.seed if args.seed is not None else random.randrange(1 << 31)
    count = args.count or (None if args.minutes else 100)
    deadline = time.monotonic() + args.minutes * 60 if args.minutes else None
    print(f"fuzzing from seed {seed}: {', '.join(engines)} against wasmtime", flush=True)

    start = time.monotonic()
    modules = calls = 0
    skipped = Counter()
    divergent = {config: [] for config in engines}
    shrunk_kinds = set()
    shrinks = 0
    while (count is None or modules < count) and (deadline is None
                                                   or time.monotonic() < deadline):
        try:
            wasm = generate(seed)
        except GeneratorError:
            skipped["generator"] += 1
            seed += 1
            continue
        configs = [c for c in engines if c not in ARM64 or seed % args.arm64_every == 0]
        result = check_module(wasm, seed, configs)
        if result.skipped:
            skipped["oracle"] += 1
            print(f"seed {seed}: skipped, {result.skipped}", flush=True)
        else:
            modules += 1
            calls += len(result.plan["calls"])
            for config in result.diffs:
                divergent[config].append(seed)
            if result.diffs:
                report_divergence(result, args.log)
            for config, diffs in result.diffs.items():
                kind = (family(config), *shrink.signature(diffs[0]))
                if args.no_shrink or kind in shrunk_kinds or shrinks >= args.max_shrinks:
                    continue
                shrunk_kinds.add(kind)
                shrinks += 1
                small = shrink.shrink(wasm, seed, config, shrink.signature(diffs[0]))
                note = shrink.keep(small, seed, config, len(wasm), args.keep)
                print(f"kept {args.keep / f'seed-{seed}.wasm'}:\n{note}", flush=True)
                break    # one regression file per seed
        seed += 1
        if modules and modules % BATCH == 0 and not result.skipped:
            progress(start, modules, calls, divergent, seed)
    summary(start, modules, calls, divergent, skipped)
    return 1 if any(divergent.values()) else 0


def report_divergence(result, log):
    print(f"seed {result.seed}: diverges in {', '.join(result.diffs)}", flush=True)
    for config in result.diffs:
        print(result.report(config), flush=True)
    if log:
        with open(log, "a") as file:
            first = {c: [list(map(str, d)) for d in diffs[:3]] for c, diffs in result.diffs.items()}
            file.write(json.dumps({"seed": result.seed, "diffs": first}) + "\n")


def counts(divergent):
    return ", ".join(f"{config} {len(seeds)}" for config, seeds in divergent.items())


def progress(start, modules, calls, divergent, next_seed):
    elapsed = time.monotonic() - start
    print(f"[{elapsed / 60:.1f} min] {modules} modules (next seed {next_seed}), {calls} calls, "
          f"{elapsed / modules:.2f} s/module; divergent modules: {counts(divergent)}",
          flush=True)


def summary(start, modules, calls, divergent, skipped):
    elapsed = time.monotonic() - start
    total = len({seed for seeds in divergent.values() for seed in seeds})
    print(f"\n{modules} modules, {calls} calls, {total} divergences "
          f"(per configuration: {counts(divergent)})")
    print(f"{elapsed / 60:.1f} min, {elapsed / max(modules, 1):.2f} s per module; skipped: "
          f"{skipped['generator']} smith failures, {skipped['oracle']} wasmtime failures")
    for config, seeds in divergent.items():
        if seeds:
            print(f"  {config}: seeds {' '.join(map(str, seeds))}")


def replay(path, seed, engines):
    result = check_module(path.read_bytes(), seed, engines)
    if result.skipped:
        print(f"skipped: {result.skipped}")
        return 2
    for config in engines:
        print(result.report(config) if config in result.diffs else f"{config}: agrees")
    return 1 if result.diffs else 0


if __name__ == "__main__":
    sys.exit(main())
