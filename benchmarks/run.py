"""The speed benchmarks, every ratio measured in one run.

    python benchmarks/run.py [--sizes 1000,5000,20000] [--repeat 3] [PATH ...]

For synthetic ML monorepos of the given sizes (benchmarks/synthetic.py, deterministic) and every repository PATH
given, each command runs as its own process, as a user runs it, and the best of `--repeat` runs is kept
(in repositories over 10,000 files, all but the lint run once):

- floor: `benchmarks/floor.py`, one process that `ast.parse`s every tracked `.py` and `json.loads` every `.ipynb`;
- cold: `mlops-audit audit --no-cache`;
- first: the audit as a user first runs it, with the facts cache on and empty (so it also stores every entry);
- warm: the same audit with a facts cache that an earlier audit of the unchanged repository filled;
- lint: `mlops-audit lint` on 10 files (in a synthetic repository, 10 files just changed);
- peak RSS: the largest resident set of any one process of the cold audit (its pool workers included).

Then the lint's time in the largest synthetic repository over its time in the smallest, and the cold audit's cost
per file (the slope of a least-squares line through the synthetic sizes). Machines are noisy: compare the ratios
of one run, never seconds across runs.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
PROJECT = HERE.parent
sys.path.insert(0, str(PROJECT))

from benchmarks.floor import tracked  # noqa: E402
from benchmarks.synthetic import generate  # noqa: E402

LINTED = 10
SINGLE_RUN_FILES = 10_000


@dataclass
class Row:
    label: str
    files: int
    floor: float
    cold: float
    first: float
    warm: float
    lint: float
    rss_mb: float


def timed(command: list[str], cwd: Path, env: dict[str, str]) -> tuple[float, float]:
    """Wall seconds and peak RSS (MB, the largest process of the tree) of one run of `command`."""
    start = time.perf_counter()
    process = subprocess.Popen(command, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - start
    process.returncode = os.waitstatus_to_exitcode(status)
    errors = process.stderr.read().decode(errors="replace") if process.stderr else ""
    if process.returncode not in (0, 1):
        raise SystemExit(f"{' '.join(command)} failed ({process.returncode}):\n{errors}")
    return seconds, usage.ru_maxrss / 1024


def best(command: list[str], cwd: Path, env: dict[str, str], repeat: int) -> tuple[float, float]:
    runs = [timed(command, cwd, env) for _ in range(repeat)]
    return min(seconds for seconds, _ in runs), max(rss for _, rss in runs)


def lint_targets(root: Path, change: bool) -> list[str]:
    """Ten code files spread over the repository; in a synthetic one, each gets a new line first."""
    code = [name for name in tracked(str(root)) if name.endswith((".py", ".ipynb"))]
    step = max(1, len(code) // LINTED)
    chosen = code[::step][:LINTED]
    for name in chosen if change else ():
        if name.endswith(".py"):
            with open(root / name, "a", encoding="utf-8") as handle:
                handle.write("\nCHANGED = True\n")
    return chosen


def measure(label: str, root: Path, repeat: int, synthetic: bool) -> Row:
    files = len(tracked(str(root)))
    runs = 1 if files > SINGLE_RUN_FILES else repeat  # the lint takes a fraction of a second: it always repeats
    python = sys.executable
    audit = [python, "-m", "mlops_audit", "audit", str(root), "--format", "json", "--exit-zero"]
    with tempfile.TemporaryDirectory() as cache:
        env = {**os.environ, "PYTHONPATH": str(PROJECT), "XDG_CACHE_HOME": cache, "PRE_COMMIT": ""}
        timed([python, str(HERE / "floor.py"), str(root)], root, env)  # the files into the page cache
        floor, _ = best([python, str(HERE / "floor.py"), str(root)], root, env, runs)
        cold, rss = best([*audit, "--no-cache"], root, env, runs)
        first = min(timed(audit, root, {**env, "XDG_CACHE_HOME": tempfile.mkdtemp(dir=cache)})[0] for _ in range(runs))
        timed(audit, root, env)  # fills the cache
        warm, _ = best(audit, root, env, runs)
        lint, _ = best([python, "-m", "mlops_audit", "lint", *lint_targets(root, synthetic)], root, env, repeat)
    return Row(label, files, floor, cold, first, warm, lint, rss)


def slope(rows: list[Row]) -> float:
    """Seconds of cold audit per file: the least-squares slope through (files, cold seconds)."""
    mean_x = sum(r.files for r in rows) / len(rows)
    mean_y = sum(r.cold for r in rows) / len(rows)
    spread = sum((r.files - mean_x) ** 2 for r in rows)
    return sum((r.files - mean_x) * (r.cold - mean_y) for r in rows) / spread if spread else 0.0


def show(row: Row) -> None:
    ratios = "  ".join(f"{name} {seconds:6.2f} s {seconds / row.floor:5.2f}x"
                       for name, seconds in (("cold", row.cold), ("first", row.first), ("warm", row.warm)))
    print(f"{row.label:<28} {row.files:>6} files  floor {row.floor:7.2f} s  {ratios}  "
          f"lint({LINTED}) {row.lint:5.2f} s  peak RSS {row.rss_mb:5.0f} MB", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("paths", nargs="*", type=Path, help="real repositories to measure too")
    parser.add_argument("--sizes", default="1000,5000,20000", help="synthetic repository sizes, in files")
    parser.add_argument("--repeat", type=int, default=3, help="runs per measurement; the best is kept")
    arguments = parser.parse_args()
    sizes = [int(size) for size in arguments.sizes.split(",") if size]
    synthetic: list[Row] = []
    with tempfile.TemporaryDirectory() as scratch:
        for size in sizes:
            root = generate(Path(scratch) / f"synthetic-{size}", size)
            synthetic.append(measure(f"synthetic monorepo {size}", root, arguments.repeat, synthetic=True))
            show(synthetic[-1])
    for path in arguments.paths:
        show(measure(path.name, path.resolve(), arguments.repeat, synthetic=False))
    if len(synthetic) > 1:
        small, large = synthetic[0], synthetic[-1]
        print(f"lint on {LINTED} files: {large.files} files / {small.files} files = {large.lint / small.lint:.2f}x")
        per_file = slope(synthetic)
        print(f"cold audit cost: {per_file * 1000:.2f} ms per file (least squares over {len(synthetic)} sizes); "
              f"per file at {large.files} / at {small.files} files = "
              f"{(large.cold / large.files) / (small.cold / small.files):.2f}x")


if __name__ == "__main__":
    main()
