"""Turn build/results.json into benchmarks/results.md (tables) and benchmarks/results.png
(bar chart of the ratios to native), and print the tables.

Usage: python benchmarks/report.py [RESULTS_JSON]
"""

import math
import statistics
import sys
from pathlib import Path

import compilers
import programs
import runtimes
from results import RESULTS_JSON, load

RESULTS_MD = programs.BENCH_DIR / "results.md"
RESULTS_PNG = programs.BENCH_DIR / "results.png"
MB = 1e6

TIER_TITLES = {
    "full": "Compiled rows, full inputs (natively about 1 s each)",
    "small": "Interpreter, small inputs",
    "tiny": "Naive-interpreter comparison, tiny inputs",
}
# Extra columns of a tier: (title, numerator row, denominator row).
TIER_COMPARISONS = {
    "full": [("pyaotc default / generic", "pyiwasm", "pyiwasm-generic")],
    "small": [("interp / CPython", "interp", "cpython")],
    "tiny": [("pywasm / interp", "pywasm", "interp"), ("interp / CPython", "interp", "cpython")],
}
# A tier's column of one row's ratio to native with each side's start-up of hello (the
# start-up table's median) subtracted: what the code itself costs.
STARTUP_SUBTRACTED = {"full": ("pyiwasm, hello's start-up subtracted", "pyiwasm")}
IN_PROCESS_TITLE = "Interpreter, in-process run time (start-up and translation excluded)"
# The in-process table (test_interp_kernels.py), per tier: its rows and its ratio column.
# pywasm is too slow for the small inputs, so its ratio is taken on the tiny ones.
IN_PROCESS_COLUMNS = {
    "small": (["interp", "cpython"], ("interp / CPython", "interp", "cpython")),
    "tiny": (["interp", "pywasm"], ("pywasm / interp", "pywasm", "interp")),
}
IN_PROCESS_LABELS = {"interp": "interp warm", "cpython": "CPython by hand",
                     "pywasm": "pywasm (PyPI)"}
# The tier whose interpreter runs were counted in wasm instructions (test_interp_kernels.py):
# the table gives their number and the time per instruction.
COUNTED_TIER = "small"


class Notes:
    """Numbered reasons for the cells that hold no measurement, printed under a table."""

    def __init__(self):
        self.reasons = []

    def cell(self, record):
        if record is None:
            return "not run"
        if record.status == "ok":
            return "untimed"        # pytest --benchmark-disable
        return f"{record.status.replace('unavailable', 'n/a')} ({self.number(record)})"

    def number(self, record):
        reason = f"{record.case.row}: {record.reason}"
        if reason not in self.reasons:
            self.reasons.append(reason)
        return self.reasons.index(reason) + 1

    def lines(self):
        return [f"({i}) {reason.replace('|', '/')}  " for i, reason in enumerate(self.reasons, 1)]


def run_cells(records):
    """{(tier, program, row): Record} of the run-time cases, and of the paired cases under
    the row "top/bottom" (test_run_paired), whose values are ratios."""
    return {(r.case.tier, r.case.column, r.case.row): r for r in records
            if r.case.table in ("run", "pairs")}


def measured(record):
    return record is not None and record.status == "ok" and record.median is not None


def ratio_text(ratio):
    return f"{ratio:.2f}x" if ratio < 10 else f"{ratio:.0f}x"


def seconds_text(seconds):
    if seconds < 0.1:
        return f"{seconds * 1e3:.1f} ms"
    return f"{seconds:.3f} s" if seconds < 1 else f"{seconds:.2f} s"


def time_of(record):
    """A run's time: the median CPU time (user + system) of its rounds where it was measured,
    which other work on a shared machine disturbs less than wall time; else the median wall
    time (in-process cases time themselves)."""
    return record.median if record.cpu_median is None else record.cpu_median


def best_time_of(record):
    """The fastest round's time, the same way: the best estimate of what a row costs itself,
    used to compare two rows of ours."""
    return record.min if record.cpu_min is None else record.cpu_min


def ratio_cell(top, bottom, collected, time=time_of):
    """top / bottom as text, appended to `collected` for the geometric mean; "-" if either
    is missing."""
    if not (measured(top) and measured(bottom)):
        return "-"
    collected.append(time(top) / time(bottom))
    return ratio_text(time(top) / time(bottom))


def comparison_cell(cells, tier, program, top, bottom, collected):
    """top / bottom for one program: the median ratio of their interleaved pairs where they
    were run in pairs, else the ratio of their fastest rounds."""
    paired = cells.get((tier, program, f"{top}/{bottom}"))
    if measured(paired):
        collected.append(paired.median)
        return ratio_text(paired.median)
    return ratio_cell(cells.get((tier, program, top)), cells.get((tier, program, bottom)),
                      collected, best_time_of)


def markdown_table(header, rows):
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return lines


def geometric_mean(values):
    return math.exp(statistics.fmean(math.log(v) for v in values)) if values else None


def run_table(tier, cells, startups):
    """Median time and ratio to native of each program on each row of `tier`. `startups`:
    {row: Record} of the start-up table."""
    rows = runtimes.ROWS_BY_TIER[tier]
    comparisons = TIER_COMPARISONS.get(tier, [])
    subtracted = STARTUP_SUBTRACTED.get(tier)
    notes = Notes()
    header = ["program", "input"] + [row.label for row in rows] + [c[0] for c in comparisons]
    if subtracted:
        header.append(subtracted[0])
    body = []
    ratios = {row.name: [] for row in rows}
    compared = {c[0]: [] for c in comparisons}
    without_startup = []
    for program in programs.PROGRAMS:
        native = cells.get((tier, program.name, "native"))
        line = [program.name, " ".join(program.args(tier))]
        for row in rows:
            record = cells.get((tier, program.name, row.name))
            if not measured(record):
                line.append(notes.cell(record))
                continue
            text = seconds_text(time_of(record))
            if measured(native):
                ratio = time_of(record) / time_of(native)
                ratios[row.name].append(ratio)
                text += f" ({ratio_text(ratio)})"
            line.append(text)
        for title, top, bottom in comparisons:
            line.append(comparison_cell(cells, tier, program.name, top, bottom,
                                        compared[title]))
        if subtracted:
            line.append(startup_subtracted_cell(
                cells.get((tier, program.name, subtracted[1])), native,
                startups.get(subtracted[1]), startups.get("native"), without_startup))
        body.append(line)
    mean_line = ["geometric mean", ""]
    for row in rows:
        mean = geometric_mean(ratios[row.name])
        mean_line.append(f"**{ratio_text(mean)}**" if mean else "-")
    for title, _, _ in comparisons:
        mean = geometric_mean(compared[title])
        mean_line.append(f"**{ratio_text(mean)}**" if mean else "-")
    if subtracted:
        mean = geometric_mean(without_startup)
        mean_line.append(f"**{ratio_text(mean)}**" if mean else "-")
    body.append(mean_line)
    return markdown_table(header, body) + [""] + notes.lines()


def startup_subtracted_cell(record, native, startup, native_startup, collected):
    """(record - startup) / (native - native_startup) as text, appended to `collected`; "-"
    if any is missing."""
    if not all(measured(r) for r in (record, native, startup, native_startup)):
        return "-"
    ratio = ((time_of(record) - time_of(startup))
             / (time_of(native) - time_of(native_startup)))
    collected.append(ratio)
    return ratio_text(ratio)


def in_process_table(records):
    """Each program's run alone, inside one Python process, at each tier of
    IN_PROCESS_COLUMNS, with that tier's ratio and its geometric mean."""
    cells = {(r.case.tier, r.case.column, r.case.row): r
             for r in records if r.case.table == "in-process"}
    notes = Notes()
    header = ["program"]
    for tier, (rows, (title, _, _)) in IN_PROCESS_COLUMNS.items():
        header += [f"{tier} input"] + [IN_PROCESS_LABELS[row] for row in rows] + [title]
        if tier == COUNTED_TIER:
            header += ["wasm instructions", "interp per instruction"]
    ratios = {tier: [] for tier in IN_PROCESS_COLUMNS}
    body = []
    for program in programs.PROGRAMS:
        line = [program.name]
        for tier, (rows, (_, top, bottom)) in IN_PROCESS_COLUMNS.items():
            line.append(" ".join(program.args(tier)))
            for row in rows:
                record = cells.get((tier, program.name, row))
                line.append(seconds_text(record.median) if measured(record)
                            else notes.cell(record))
            line.append(ratio_cell(cells.get((tier, program.name, top)),
                                   cells.get((tier, program.name, bottom)), ratios[tier]))
            if tier == COUNTED_TIER:
                line += per_instruction_cells(cells.get((tier, program.name, "interp")))
        body.append(line)
    mean_line = ["geometric mean"]
    for tier, (rows, _) in IN_PROCESS_COLUMNS.items():
        mean = geometric_mean(ratios[tier])
        mean_line += [""] * (1 + len(rows)) + [f"**{ratio_text(mean)}**" if mean else "-"]
        if tier == COUNTED_TIER:
            mean_line += ["", ""]
    body.append(mean_line)
    return markdown_table(header, body) + [""] + notes.lines()


def per_instruction_cells(record):
    """The wasm instructions an interpreter run executed, in millions, and its time per
    instruction; "-" for a record of a session that did not count them."""
    count = record.extra.get("instructions") if measured(record) else None
    if not count:
        return ["-", "-"]
    return [f"{count / 1e6:.1f} M", f"{record.median / count * 1e9:.1f} ns"]


def memory64_table(records):
    """Each memory64 kernel's CPU time on the wasm32 and the wasm64 build, and their ratio
    (test_memory64.py), with its geometric mean."""
    cells = {(r.case.row, r.case.column): r for r in records if r.case.table == "memory64"}
    kernels = list(dict.fromkeys(row for row, _ in cells))
    notes = Notes()
    ratios = []
    body = []
    for kernel in kernels:
        line = [kernel]
        for build in ("memory32", "memory64"):
            record = cells.get((kernel, build))
            line.append(seconds_text(record.median) if measured(record) else notes.cell(record))
        line.append(ratio_cell(cells.get((kernel, "memory64")), cells.get((kernel, "memory32")),
                               ratios))
        body.append(line)
    mean = geometric_mean(ratios)
    body.append(["geometric mean", "", "", f"**{ratio_text(mean)}**" if mean else "-"])
    header = ["kernel", "memory32", "memory64", "memory64 / memory32"]
    return markdown_table(header, body) + [""] + notes.lines()


def memory_table(tier, cells):
    rows = runtimes.ROWS_BY_TIER[tier]
    notes = Notes()
    body = []
    for program in programs.PROGRAMS:
        line = [program.name]
        for row in rows:
            record = cells.get((tier, program.name, row.name))
            line.append(f"{record.max_rss_kb / 1024:.1f}" if measured(record)
                        else notes.cell(record))
        body.append(line)
    header = ["peak RSS, MiB"] + [row.label for row in rows]
    return markdown_table(header, body) + [""] + notes.lines()


def startup_table(records):
    by_row = {r.case.row: r for r in records if r.case.table == "startup"}
    floor = by_row.get("python-pass")
    notes = Notes()
    body = []
    for row in runtimes.STARTUP_ROWS:
        record = by_row.get(row.name)
        if not measured(record):
            body.append([row.label, notes.cell(record), "", "", ""])
            continue
        over = (f"{(time_of(record) - time_of(floor)) * 1e3:+.1f} ms"
                if row.hosted_by_python and measured(floor) else "")
        body.append([row.label, f"{time_of(record) * 1e3:.1f} ms",
                     f"{best_time_of(record) * 1e3:.1f} ms",
                     over, f"{record.max_rss_kb / 1024:.1f}"])
    header = ["hello world", "median", "fastest", "median over `python3 -c pass`",
              "peak RSS, MiB"]
    comparison = []
    cached, aot = by_row.get("pyiwasm-cached"), by_row.get("pyiwasm")
    if measured(cached) and measured(aot):
        comparison = [f"pyiwasm on the .wasm from the compile cache against pyiwasm on its "
                      f".aot file (the lookup: hashing the module, reading its entry): "
                      f"{(time_of(cached) - time_of(aot)) * 1e3:+.1f} ms on the medians, "
                      f"{(best_time_of(cached) - best_time_of(aot)) * 1e3:+.1f} ms on the "
                      f"fastest runs.", ""]
    paired = next((r for r in records if r.case.table == "startup-pairs" and measured(r)), None)
    if paired is not None:
        comparison += [f"In {paired.rounds} pairs of runs, `python3 -c pass` then pyiwasm on "
                       f"hello.aot, the second took {paired.median * 1e3:+.1f} ms more CPU "
                       f"than the first (the median of the pairs' differences; the smallest: "
                       f"{paired.min * 1e3:+.1f} ms). The medians above come from runs of "
                       f"each row in turn, minutes apart.", ""]
    return markdown_table(header, body) + [""] + comparison + notes.lines()


def compile_table(records):
    notes = Notes()
    body = []
    for compiler in compilers.COMPILERS:
        mine = [r for r in records if r.case.table == "compile" and r.case.row == compiler.name]
        done = [r for r in mine if measured(r)]
        problems = [r for r in mine if not measured(r)]
        if not done:
            body.append([compiler.name, notes.cell(problems[0] if problems else None), "", "", "", ""])
            continue
        size = sum(r.extra["wasm_bytes"] for r in done)
        total = sum(time_of(r) for r in done)
        modules = f"{len(done)} ({size / MB:.2f} MB)"
        if problems:
            modules += f"; {len(problems)} failed ({notes.number(problems[0])})"
        body.append([compiler.name, modules, f"{total:.2f} s", f"{total / (size / MB):.1f}",
                     f"{statistics.median(time_of(r) for r in done):.2f} s",
                     f"{max(r.max_rss_kb for r in done) / 1024:.0f}"])
    header = ["compiler", "modules compiled", "total time", "s per MB of wasm",
              "median per module", "peak RSS, MiB"]
    return markdown_table(header, body) + [""] + notes.lines()


def per_module_compile_table(records):
    """A row per module: each compiler's CPU time (and its ratio to wasmtime's, measured in
    the same run), wall time and peak memory."""
    notes = Notes()
    mine = [r for r in records if r.case.table == "compile per module"]
    modules = list(dict.fromkeys(r.case.column for r in mine))
    names = list(dict.fromkeys(r.case.row for r in mine))
    by_cell = {(r.case.column, r.case.row): r for r in mine}
    body = []
    for module in modules:
        reference = by_cell.get((module, compilers.WASMTIME.name))
        row = [module]
        for name in names:
            record = by_cell.get((module, name))
            if record is None or not measured(record):
                row.append(notes.cell(record))
                continue
            cpu = record.cpu_median
            ratio = (f" ({cpu / reference.cpu_median:.1f}x)"
                     if reference is not None and measured(reference) and name != reference.case.row
                     else "")
            row.append(f"{cpu:.2f}{ratio} / {record.median:.2f} / "
                       f"{record.max_rss_kb / 1024:.0f}")
        body.append(row)
    header = ["module", *names]
    return markdown_table(header, body) + [""] + notes.lines()


def decode_table(records):
    notes = Notes()
    body = []
    for record in (r for r in records if r.case.table == "decode"):
        if not measured(record):
            body.append([record.case.row, record.case.column, notes.cell(record), "", "", "",
                         ""])
            continue
        size = record.extra["wasm_bytes"] / MB
        step = record.extra.get("step_cpu_median")     # not in results of older sessions
        body.append([record.case.row, f"{size:.1f} MB", seconds_text(time_of(record)),
                     f"{size / time_of(record):.2f}",
                     seconds_text(step) if step else "", f"{size / step:.2f}" if step else "",
                     f"{record.max_rss_kb / 1024:.0f}"])
    header = ["step", "module", "median time", "MB/s", "the step alone", "its MB/s",
              "peak RSS, MiB"]
    return markdown_table(header, body) + [""] + notes.lines()


def rounds_line(records, table, tier=""):
    counts = sorted({r.rounds for r in records
                     if r.case.table == table and r.case.tier == tier and r.rounds})
    return f"Median of {' or '.join(map(str, counts)) or 'no'} runs per cell."


def machine_lines(machine):
    return markdown_table(["", ""], [[key, value] for key, value in machine.items()])


def write_markdown(machine, records):
    cells = run_cells(records)
    startups = {r.case.row: r for r in records if r.case.table == "startup"}
    out = [
        "# pywamr benchmark results",
        "",
        "Written by `build-scripts/run-benchmarks.sh`; how the suite works is in "
        "docs/benchmarks.md. Times are the median CPU time (user + system) of the whole "
        "process, start-up included; the ratio in brackets is to the native build on the "
        "same input. The columns that compare two rows take each row's fastest round "
        "instead, except pyaotc default / generic, the median ratio of interleaved pairs of "
        "runs (benchmarks/test_run_time.py). Every run's output was checked against the "
        "native build's.",
        "",
        "## Machine",
        "",
        *machine_lines(machine),
    ]
    for tier in programs.TIERS:
        out += ["", f"## {TIER_TITLES[tier]}", "", rounds_line(records, "run", tier), "",
                *run_table(tier, cells, startups)]
        if tier == "full":
            out += ["Node.js runs with its defaults: a function's optimized code replaces "
                    "its baseline (Liftoff) code only at its next call, which hurts programs "
                    "that spend their time in one long call (docs/benchmarks.md)."]
    out += ["", "Native runs of small and tiny inputs take a few milliseconds, mostly process "
            "start-up, so ratios to them understate the slowdown; the comparison columns "
            "between rows are the fairer figure there.",
            "", f"## {IN_PROCESS_TITLE}", "",
            "Each program's `_start` (or its python_kernels.py function) timed alone inside "
            "one Python process: no start-up, decoding or loading, and the interpreter's "
            "functions already translated by an earlier run of the same module. The interpreter "
            "and CPython ran the small inputs; pywasm, too slow for those, ran the tiny ones, "
            "and the interpreter ran them again so that pywasm / interp compares the same "
            "input. " + " ".join(rounds_line(records, "in-process", tier).replace(
                "per cell", f"per {tier}-input cell") for tier in IN_PROCESS_COLUMNS),
            "", *in_process_table(records),
            "", "## memory64 against memory32", "",
            "The kernels of benchmarks/memory64/kernels.c (sieve, matmul, a byte histogram "
            "and hash) built for wasm32 and for wasm64, compiled by pyaotc for this machine, "
            "each exported function timed alone in one process (CPU time) through the "
            "embedding API; both builds return the same checksums. Every access to a 64-bit "
            "memory is checked in code but in the check-free copies of versioned loops; it "
            "has no scan loops (docs/aot-abi.md, \"64-bit memories and tables\"). "
            + rounds_line(records, "memory64"),
            "", *memory64_table(records),
            "", "## Start-up", "", rounds_line(records, "startup"), "", *startup_table(records),
            "", "## Peak memory, full inputs", "", *memory_table("full", cells),
            "", "## Peak memory, small inputs", "", *memory_table("small", cells),
            "", "## Compile speed", "",
            "Each module compiled by its command-line tool in a fresh process, so every "
            "module's time includes the tool's start-up (Python, and llvmlite or wasmtime).",
            "", *compile_table(records),
            "", "### Per module", "",
            "Each cell: CPU seconds of the compiler and its workers (in brackets: times "
            "wasmtime's CPU seconds for the same module, same run) / wall seconds / peak "
            "memory of its biggest process, MiB. Medians.",
            "", *per_module_compile_table(records),
            "", "## Decoding speed", "",
            "`pywamr.runtime.decoder.decode_module` on a generated module (benchmarks/big_module.py), "
            "in a fresh process that reads the file; and the interpreter's set-up before the "
            "first call (decode, validate, instantiate, translate the function called) of a "
            "generated module and of a generated C program (benchmarks/big_c_program.py). "
            "*median time* is the whole process's, Python's start-up, the imports and the "
            "exit included; *the step alone* is the CPU time the child measured around the "
            "step itself (process_time), without those.",
            "", *decode_table(records), ""]
    RESULTS_MD.write_text("\n".join(out))
    return "\n".join(out)


def write_chart(records):
    import matplotlib
    matplotlib.use("Agg")
    from matplotlib import pyplot, ticker

    cells = run_cells(records)
    names = [p.name for p in programs.PROGRAMS]
    figure, axes = pyplot.subplots(len(programs.TIERS), 1, figsize=(11, 12))
    for ax, tier in zip(axes, programs.TIERS):
        rows = [row for row in runtimes.ROWS_BY_TIER[tier] if row.name != "native"]
        width = 0.8 / len(rows)
        for i, row in enumerate(rows):
            positions = [p + i * width for p in range(len(names))]
            ratios = []
            for position, name in zip(positions, names):
                record, native = cells.get((tier, name, row.name)), cells.get((tier, name, "native"))
                if measured(record) and measured(native):
                    ratios.append(time_of(record) / time_of(native))
                else:
                    ratios.append(math.nan)
                    missing = record.status if record else "not run"
                    ax.text(position, 1.05, missing, rotation=90, ha="center", va="bottom",
                            fontsize=7)
            ax.bar(positions, ratios, width, label=row.label)
        ax.axhline(1, color="black", linewidth=0.8)
        ax.set_yscale("log")
        ax.yaxis.set_major_formatter(ticker.FuncFormatter(lambda value, _: f"{value:g}x"))
        ax.yaxis.set_minor_formatter(ticker.NullFormatter())
        ax.set_ylim(0.5, ax.get_ylim()[1] * 4)
        ax.set_xticks([p + 0.4 - width / 2 for p in range(len(names))], names)
        ax.set_ylabel("time / native (log)")
        ax.set_title(TIER_TITLES[tier])
        ax.legend(fontsize="small", loc="upper left", ncol=len(rows))
    figure.tight_layout()
    figure.savefig(RESULTS_PNG, dpi=90)


def main(argv):
    path = Path(argv[0]) if argv else RESULTS_JSON
    if not path.exists():
        sys.exit(f"report: no {path}; run `pytest benchmarks/` first")
    machine, records = load(path)
    print(write_markdown(machine, records))
    write_chart(records)
    print(f"\nwrote {RESULTS_MD} and {RESULTS_PNG}")


if __name__ == "__main__":
    main(sys.argv[1:])
