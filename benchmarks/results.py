"""What a benchmark session measured, one record per benchmark case, saved as JSON for
report.py. A case that could not run is recorded too, with the reason, so the report can
say why a cell is empty."""

import json
import statistics
from dataclasses import asdict, dataclass, field

from programs import BUILD_DIR

RESULTS_JSON = BUILD_DIR / "results.json"


@dataclass(frozen=True)
class Case:
    """One cell of one table: `table` is run, pairs, in-process, startup, compile or decode;
    `tier` only for run, pairs and in-process."""
    table: str
    row: str
    column: str
    tier: str = ""

    def __str__(self):
        return "-".join(part for part in (self.tier, self.column, self.row) if part)


@dataclass
class Record:
    case: Case
    status: str                  # ok | unavailable | failed
    reason: str = ""
    median: float | None = None  # seconds
    min: float | None = None
    rounds: int = 0
    max_rss_kb: int | None = None
    cpu_median: float | None = None     # seconds of CPU time (user + system), when measured
    cpu_min: float | None = None
    extra: dict = field(default_factory=dict)


class Results:
    def __init__(self):
        self.records = {}

    def ok(self, case, stats, max_rss_kb=None, cpu_seconds=(), **extra):
        """Record a case timed by pytest-benchmark (`stats` is benchmark.stats; None when
        benchmarking is disabled), with the CPU time of each run if measured."""
        timed = stats.stats if stats else None
        self.records[case] = Record(
            case, "ok", median=timed.median if timed else None, min=timed.min if timed else None,
            rounds=timed.rounds if timed else 0, max_rss_kb=max_rss_kb,
            cpu_median=statistics.median(cpu_seconds) if cpu_seconds else None,
            cpu_min=min(cpu_seconds, default=None), extra=extra)

    def ok_seconds(self, case, seconds, **extra):
        """Record a case from the times it took itself (`seconds`, one per run): in-process
        cases time the run alone, not the set-up pytest-benchmark would time with it."""
        self.records[case] = Record(
            case, "ok", median=statistics.median(seconds), min=min(seconds),
            rounds=len(seconds), extra=extra)

    def ok_ratios(self, case, ratios):
        """Record a case whose values are ratios, one per pair of runs (test_run_paired):
        its median and min are ratios, not seconds."""
        self.records[case] = Record(case, "ok", median=statistics.median(ratios),
                                    min=min(ratios), rounds=len(ratios))

    def not_run(self, case, status, reason):
        self.records[case] = Record(case, status, reason=reason)

    def save(self, machine, path=RESULTS_JSON):
        """Write this session's records over those of the same cases in `path`, keeping the
        others, so that a partial run (`pytest benchmarks/test_startup.py`) updates its own
        cells of the report and leaves the rest as they were."""
        merged = {record.case: record for record in load(path)[1]} if path.exists() else {}
        merged.update(self.records)
        path.parent.mkdir(parents=True, exist_ok=True)
        records = [asdict(record) for record in merged.values()]
        path.write_text(json.dumps({"machine": machine, "records": records}, indent=1))


def load(path=RESULTS_JSON):
    """Return (machine description, [Record])."""
    saved = json.loads(path.read_text())
    records = []
    for row in saved["records"]:
        row["case"] = Case(**row["case"])
        records.append(Record(**row))
    return saved["machine"], records
