"""Calibration against real repositories: does the audit's verdict agree with an expert's reading?

    python tests/realworld/evaluate.py MIRRORS_DIR [--only owner/name ...] [--json FILE]

MIRRORS_DIR holds one git repository per corpus entry, named `owner+name` (a clone, or a bare mirror, either
directly or in a `repo` subfolder). Each entry is materialised at its pinned commit in a temporary clone that
borrows the objects (`git clone --shared`): the mirror is only read. Blobs a mirror lacks (large files) are
left out. Each repository is audited with `run_audit`; a crash is reported and counts as a miss.

Prints a per-repository table, the confusion matrix (expected rows x got columns), exact-level accuracy and
the Spearman rank correlation of the got score against the expected score (entries with an expected score;
a repository the audit finds not applicable scores 0.0, a crash is left out of the correlation).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
CORPUS = Path(__file__).with_name("corpus.yaml")
LABELS = ("0", "1", "2", "n/a")
CRASH = "crash"


@dataclass(frozen=True, slots=True)
class Result:
    repo: str
    expected_level: str
    expected_score: float | None
    got_level: str
    got_score: float | None
    seconds: float
    error: str = ""


def average_ranks(values: Sequence[float]) -> list[float]:
    """1-based ranks; tied values share the average of the ranks they span."""
    order = sorted(range(len(values)), key=lambda i: values[i])
    ranks = [0.0] * len(values)
    start = 0
    while start < len(order):
        end = start
        while end + 1 < len(order) and values[order[end + 1]] == values[order[start]]:
            end += 1
        for position in range(start, end + 1):
            ranks[order[position]] = (start + end) / 2 + 1
        start = end + 1
    return ranks


def pearson(xs: Sequence[float], ys: Sequence[float]) -> float | None:
    n = len(xs)
    if n < 2:
        return None
    mean_x, mean_y = sum(xs) / n, sum(ys) / n
    cov = sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys))
    var_x = sum((x - mean_x) ** 2 for x in xs)
    var_y = sum((y - mean_y) ** 2 for y in ys)
    if not var_x or not var_y:
        return None
    return cov / (var_x * var_y) ** 0.5


def spearman(xs: Sequence[float], ys: Sequence[float]) -> float | None:
    """Spearman's rho: the Pearson correlation of average ranks (None when undefined)."""
    if len(xs) != len(ys):
        raise ValueError("spearman needs two sequences of the same length")
    return pearson(average_ranks(xs), average_ranks(ys))


def confusion(pairs: Sequence[tuple[str, str]], rows: Sequence[str], columns: Sequence[str]) -> dict[str, dict[str, int]]:
    """Counts of (expected, got) pairs, expected rows x got columns; unknown labels get their own row/column."""
    row_labels = list(rows) + sorted({e for e, _ in pairs} - set(rows))
    column_labels = list(columns) + sorted({g for _, g in pairs} - set(columns))
    matrix = {row: {column: 0 for column in column_labels} for row in row_labels}
    for expected, got in pairs:
        matrix[expected][got] += 1
    return matrix


def accuracy(pairs: Sequence[tuple[str, str]]) -> float | None:
    return sum(e == g for e, g in pairs) / len(pairs) if pairs else None


def git(*args: str | Path) -> str:
    return subprocess.run(["git", *map(str, args)], check=True, capture_output=True, text=True).stdout


def source_repo(mirrors: Path, repo: str) -> Path:
    base = mirrors / repo.replace("/", "+")
    return base / "repo" if (base / "repo").is_dir() else base


def materialise(source: Path, commit: str, target: Path) -> None:
    """A clone of `source` at `commit`, sharing its objects, with every blob the source holds written out."""
    git("clone", "-q", "--shared", "--no-checkout", source, target)
    git("-C", target, "update-ref", "--no-deref", "HEAD", commit)
    git("-C", target, "read-tree", commit)
    entries = [line.split("\t", 1) for line in git("-C", target, "ls-tree", "-r", "-z", commit).split("\0") if line]
    blobs = [(meta.split(), path) for meta, path in entries if meta.split()[1] == "blob"]
    shas = "".join(f"{meta[2]}\n" for meta, _ in blobs).encode()
    out = subprocess.run(["git", "-C", str(target), "cat-file", "--batch"], input=shas, capture_output=True, check=True).stdout
    offset = 0
    for (mode, _, sha), path in blobs:
        end = out.index(b"\n", offset)
        header = out[offset:end].split()
        offset = end + 1
        if header[-1] == b"missing":
            continue
        size = int(header[2])
        data, offset = out[offset : offset + size], offset + size + 1
        write_entry(target / path, mode, data)
    subprocess.run(["git", "-C", str(target), "update-index", "-q", "--refresh"], capture_output=True)


def write_entry(dest: Path, mode: str, data: bytes) -> None:
    dest.parent.mkdir(parents=True, exist_ok=True)
    if mode == "120000":
        dest.symlink_to(data.decode("utf-8", "replace"))
        return
    dest.write_bytes(data)
    if mode == "100755":
        dest.chmod(0o755)


def audit_entry(entry: dict, mirrors: Path, workdir: Path) -> Result:
    from mlops_audit.audit import run_audit

    repo = entry["repo"]
    expected = str(entry["expected_level"])
    started = time.perf_counter()
    try:
        target = workdir / repo.replace("/", "+")
        materialise(source_repo(mirrors, repo), entry["commit"], target)
        assessment = run_audit(target, shown_root=repo)
    except Exception as error:  # a crash is a miss, and is reported
        detail = "".join(traceback.format_exception_only(type(error), error)).strip()
        return Result(repo, expected, entry["expected_score"], CRASH, None, time.perf_counter() - started, detail)
    got = str(assessment.level) if assessment.applicable else "n/a"
    return Result(repo, expected, entry["expected_score"], got, assessment.score, time.perf_counter() - started)


def render(results: Sequence[Result]) -> str:
    width = max(len(r.repo) for r in results)
    lines = [f"{'repository':<{width}}  exp  got   exp.score  score   secs", "-" * (width + 40)]
    for r in results:
        mark = " " if r.expected_level == r.got_level else "x"
        exp_score = "-" if r.expected_score is None else f"{r.expected_score:.2f}"
        score = "-" if r.got_score is None else f"{r.got_score:.2f}"
        lines.append(
            f"{r.repo:<{width}}  {r.expected_level:>3}  {r.got_level:>5}{mark} {exp_score:>8}  {score:>5}  {r.seconds:5.1f}"
        )
        if r.error:
            lines.append(f"    crash: {r.error}")
    pairs = [(r.expected_level, r.got_level) for r in results]
    matrix = confusion(pairs, LABELS, LABELS)
    columns = list(next(iter(matrix.values())))
    lines += ["", "confusion (rows: expected, columns: got)", "exp\\got " + "".join(f"{c:>6}" for c in columns)]
    lines += [f"{row:<7} " + "".join(f"{matrix[row][c]:>6}" for c in columns) for row in matrix]
    scored = [r for r in results if r.expected_score is not None and r.got_score is not None]
    rho = spearman([r.got_score for r in scored], [r.expected_score for r in scored])
    acc = accuracy(pairs)
    lines += [
        "",
        f"exact-level accuracy: {sum(e == g for e, g in pairs)}/{len(pairs)} = {acc:.1%}" if acc is not None else "",
        f"spearman(got score, expected score) over {len(scored)}: {rho:.3f}" if rho is not None else "spearman: n/a",
    ]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("mirrors", type=Path)
    parser.add_argument("--only", action="append", default=[], help="audit only these owner/name entries")
    parser.add_argument("--json", type=Path, help="also write the results as JSON")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    corpus = yaml.safe_load(CORPUS.read_text(encoding="utf-8"))
    entries = [e for e in corpus if not args.only or e["repo"] in args.only]
    with tempfile.TemporaryDirectory(prefix="mlops-audit-corpus-") as tmp:
        results = [audit_entry(entry, args.mirrors, Path(tmp)) for entry in entries]
    print(render(results))
    if args.json:
        args.json.write_text(json.dumps([asdict(r) for r in results], indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
