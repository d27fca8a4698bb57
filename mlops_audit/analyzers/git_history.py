"""Facts from git history, read with gitpython: commits, shallowness, tags, large files in history.

The large-blob scan lists every object's size with `git cat-file --batch-all-objects` and names the big
blobs with `git rev-list --objects --all`; it is skipped for shallow clones (history is missing) and for
stores over `MAX_SCANNED_OBJECTS` objects, and `history_scanned` / `scan_note` say so.

The change cadence reads one bounded `git log --name-only` over the last year of the repository's own history
(counted back from its last commit, so the result does not depend on today's date) and sorts the paths each
commit touched into training code, pipeline definitions and data or model pointers. Renames are not looked for
(that would read file contents, which a blobless partial clone lacks): a moved file counts as changed at both its
paths. A monorepo's projects read their cadences from one log of every path when the year holds no merge. It is
None (unknown) for shallow clones and unreadable history.

A `.git` that git cannot read (a corrupt HEAD or index, a broken branch ref, missing or unreadable objects, a
repository format from a newer git) never reads as "no history": what could not be read is None (unknown), and
`is_repo` is None when which files are tracked cannot be known, so the version-control rules say unknown instead
of fail. `error` says why, and becomes a note.
"""

from __future__ import annotations

import functools
import os
import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from itertools import pairwise
from pathlib import Path
from statistics import median
from typing import Any, NamedTuple, TypeVar

import git

from mlops_audit.inventory import Inventory, open_repo
from mlops_audit.model import Evidence, clip

T = TypeVar("T")

LARGE_BLOB_BYTES = 10 * 1024 * 1024
MAX_SCANNED_OBJECTS = 200_000
GIT_ERRORS = (git.GitError, git.ODBError, OSError, ValueError)
DAY = 86_400
CADENCE_WINDOW_DAYS = 365
MAX_CADENCE_COMMITS = 5000
MAX_TOP_PATHS = 5

TRAINING = "training"  # python training, model, pipeline or feature code
PIPELINE = "pipeline"  # pipeline and workflow definitions
POINTERS = "pointers"  # data and model pointers: DVC files, registry configs
KINDS = (TRAINING, PIPELINE, POINTERS)

BOT_AUTHOR = re.compile(r"\[bot\]|github-actions|dvc-bot|olivaw|(?<![a-z])cml(?![a-z])")
TRAINING_WORDS = ("train", "model", "pipeline", "feature")
NOT_TRAINING_DIRS = frozenset({"test", "tests", "testing", "docs", "doc", "examples", "example", "notebooks"})
PIPELINE_FILES = frozenset({
    "dvc.yaml", "dvc.lock", "MLproject", "prefect.yaml", ".gitlab-ci.yml", "Jenkinsfile", "azure-pipelines.yml",
    "bitbucket-pipelines.yml",
})
PIPELINE_DIRS = (".github/workflows/", ".circleci/")
PIPELINE_FOLDERS = frozenset({"dags", "pipelines", "flows"})
CONFIG_SUFFIXES = frozenset({".yaml", ".yml", ".json", ".toml", ".cfg", ".ini"})
POINTER_FILES = frozenset({"dvc.lock", "MLmodel"})


@dataclass(frozen=True, slots=True)
class GitFacts:
    is_repo: bool | None = False  # None: a `.git` is there but git cannot list the tracked files
    commits: int | None = None  # commits reachable from HEAD; None when unknown
    shallow: bool | None = None
    first_commit: str | None = None  # ISO 8601 dates, UTC
    last_commit: str | None = None
    authors: int | None = None
    tags: tuple[str, ...] | None = ()  # None when the refs cannot be read
    # blobs over the size threshold anywhere in history (snippet = size); None when history cannot be read
    large_blobs: tuple[Evidence, ...] | None = ()
    error: str | None = None  # why history could not be read
    history_scanned: bool = False  # the large-blob scan covered all history
    scan_note: str | None = None  # why it did not (shallow clone, too many objects)
    cadence: Cadence | None = None  # how often ML paths changed in the last year; None when unknown


@dataclass(frozen=True, slots=True)
class ChangeRate:
    """How often one set of paths changed within the cadence window."""

    commits: int
    median_days: float | None  # median interval between those commits; None with fewer than two
    last_change: str | None  # ISO 8601, UTC
    bot_share: float | None  # share of those commits authored by bots, 0..1; None with no commit
    top_paths: tuple[Evidence, ...] = ()  # the most changed paths first (snippet = "12 changes")


@dataclass(frozen=True, slots=True)
class Change:
    """One commit of the window that touched ML paths: when, whether a bot wrote it, and what it touched."""

    stamp: int  # committer time, seconds since the epoch
    bot: bool
    touched: tuple[tuple[str, str], ...]  # (path relative to the audited folder, kind), sorted


@dataclass(frozen=True, slots=True)
class Cadence:
    """Changes to training code, pipeline definitions and data or model pointers in the last year of history."""

    since: str  # window start, ISO 8601 UTC: `CADENCE_WINDOW_DAYS` before the last commit
    until: str  # the last commit
    changes: tuple[Change, ...]  # oldest first
    truncated: bool = False  # the window held over `MAX_CADENCE_COMMITS` commits; the oldest were not read

    @property
    def training(self) -> ChangeRate:
        return self.rate(TRAINING)

    @property
    def pipeline(self) -> ChangeRate:
        return self.rate(PIPELINE)

    @property
    def pointers(self) -> ChangeRate:
        return self.rate(POINTERS)

    def rate(self, *kinds: str) -> ChangeRate:
        """The rate of commits touching any path of `kinds`."""
        wanted = set(kinds)
        hits = [change for change in self.changes if any(kind in wanted for _, kind in change.touched)]
        if not hits:
            return ChangeRate(0, None, None, None)
        stamps = sorted(change.stamp for change in hits)
        gaps = [(later - earlier) / DAY for earlier, later in pairwise(stamps)]
        paths = Counter(path for change in hits for path in {p for p, kind in change.touched if kind in wanted})
        top = sorted(paths.items(), key=lambda item: (-item[1], item[0]))[:MAX_TOP_PATHS]
        return ChangeRate(
            commits=len(hits),
            median_days=round(median(gaps), 2) if gaps else None,
            last_change=_iso(stamps[-1]),
            bot_share=round(sum(change.bot for change in hits) / len(hits), 4),
            top_paths=tuple(Evidence(path, snippet=_times(count)) for path, count in top),
        )


@dataclass(frozen=True, slots=True)
class _Log:
    commits: int
    first: int | None  # committer times, seconds since the epoch
    last: int | None
    authors: int


def analyze_git(inventory: Inventory) -> GitFacts:
    if inventory.git_root is None:
        return _unreadable_git(inventory.root)
    try:
        repo = open_repo(inventory.git_root)
    except GIT_ERRORS as error:
        return GitFacts(is_repo=None, tags=None, large_blobs=None, error=_describe(error))
    shared = inventory.shared_reads
    try:
        listed = _listing_readable(repo, inventory)
        try:
            shallow, tags = _once(shared, "refs", lambda: (_shallow(repo), _tags(repo)))
        except GIT_ERRORS as error:
            return GitFacts(is_repo=listed, tags=None, large_blobs=None, error=_describe(error))
        try:
            return _read(repo, _prefix(inventory.root, inventory.git_root), listed, shallow, tags, shared)
        except GIT_ERRORS as error:  # the refs were read, the history was not
            return GitFacts(is_repo=listed, tags=tags, large_blobs=None, error=_describe(error))
    finally:
        repo.close()


def read_history(inventory: Inventory, folders: Sequence[str] = ()) -> dict[str, Any]:
    """The repository-wide reads of `analyze_git` (refs, log, large blobs) and the change cadences of the inventory
    and of its views of `folders` (a monorepo's projects), made in another process; `inventory.shared_reads.update`
    keeps them, and no view reads them again."""
    if folders:  # the cadences of the whole and of every project, from one log of the window when it can be
        inventory.shared_reads[WINDOW] = None
    analyze_git(inventory)
    for folder in folders:
        analyze_git(inventory.subset(folder))
    return {name: inventory.shared_reads[name] for name in HISTORY_READS if name in inventory.shared_reads}


def _unreadable_git(root: Path) -> GitFacts:
    """The facts of a folder without a work tree git can open: not a repository, or (with a `.git` in it or above
    it that git cannot read) a repository of unknown history. The inventory notes a `.git` in the audited folder;
    one above it is noted here."""
    for folder in (root, *root.parents):
        if os.path.lexists(folder / ".git"):
            up = len(root.relative_to(folder).parts)
            error = None if not up else f"the .git {up} folder(s) up is not a repository git can read"
            return GitFacts(is_repo=None, tags=None, large_blobs=None, error=error)
    return GitFacts()


def _listing_readable(repo: git.Repo, inventory: Inventory) -> bool | None:
    """True when git can list the tracked files (the inventory's tracked flags mean something), None when it
    cannot (the inventory walked the folder instead, and every file looks untracked)."""
    if any(file.tracked for file in inventory.files):
        return True
    try:
        repo.git.ls_files("-z", "--cached", "--", str(inventory.root))
    except GIT_ERRORS:
        return None
    return True


def _describe(error: Exception) -> str:
    detail = error.stderr if isinstance(error, git.GitCommandError) else str(error)
    return clip(f"git history could not be read: {str(detail).strip() or type(error).__name__}")


def _prefix(root: Path, git_root: Path) -> str:
    """The audited folder relative to the work tree, "" at its top."""
    relative = root.relative_to(git_root).as_posix()
    return "" if relative == "." else relative + "/"


def _shallow(repo: git.Repo) -> bool:
    return (
        repo.git.rev_parse("--is-shallow-repository").strip() == "true"
        or (Path(repo.common_dir) / "shallow").exists()  # git before 2.15 echoes the unknown option
    )


HISTORY_READS = ("refs", "has-commits", "log", "large-blobs", "cadences")  # the names `_once` keeps them under
WINDOW = "cadence window"  # a monorepo's log of the window over all paths: None until read, False when unfit


def _once(shared: dict[str, Any], name: str, read: Callable[[], T]) -> T:
    """A repository-wide read, done once for the inventory and all its views (a monorepo's projects)."""
    if name not in shared:
        shared[name] = read()
    return shared[name]


def _tags(repo: git.Repo) -> tuple[str, ...]:
    return tuple(sorted(tag for tag in repo.git.tag("--list").splitlines() if tag))


def _read(
    repo: git.Repo, prefix: str, listed: bool | None, shallow: bool, tags: tuple[str, ...], shared: dict[str, Any]
) -> GitFacts:
    if not _once(shared, "has-commits", lambda: _has_commits(repo)):  # a fresh `git init`: no commit yet
        return GitFacts(is_repo=listed, commits=0, shallow=shallow, authors=0, tags=tags, history_scanned=True)
    log = _once(shared, "log", lambda: _log(repo))
    blobs, scanned, note = _large_blobs(repo, prefix, shallow, shared)
    return GitFacts(
        is_repo=listed,
        commits=log.commits,
        shallow=shallow,
        first_commit=_iso(log.first) if log.first is not None else None,
        last_commit=_iso(log.last) if log.last is not None else None,
        authors=log.authors,
        tags=tags,
        large_blobs=blobs,
        history_scanned=scanned,
        scan_note=note,
        cadence=None if shallow or log.last is None else _cadence_of(repo, prefix, log.last, shared),
    )


def _cadence_of(repo: git.Repo, prefix: str, last: int, shared: dict[str, Any]) -> Cadence | None:
    """The cadence of the folder at `prefix`, read once for the inventory and all its views."""
    cadences = _once(shared, "cadences", dict)
    if prefix not in cadences:
        since = last - CADENCE_WINDOW_DAYS * DAY
        if WINDOW in shared and shared[WINDOW] is None:  # wanted, not read yet
            window = _window_log(repo, since)
            shared[WINDOW] = window if window is not None and _splits_by_folder(window) else False
        window = shared.get(WINDOW)
        if isinstance(window, list) and _plain(prefix):
            cadences[prefix] = _cadence(window, prefix, since, last)
        else:
            records = _window_log(repo, since, prefix or ".")
            cadences[prefix] = _cadence(records, prefix, since, last) if records is not None else None
    return cadences[prefix]


def _window_log(repo: git.Repo, since: int, path: str | None = None) -> list[str] | None:
    """The commits of the window as log records (see `_change`), newest first, of the folder at `path` or of every
    path; None when that history cannot be read. A moved file counts as changed at both its paths, so a folder's
    log is the repository's with only the folder's paths."""
    try:
        listing = repo.git.log(
            f"--since=@{since}", f"--max-count={MAX_CADENCE_COMMITS}", "--format=%x1e%ct%x00%an%x00%ae%x00%p",
            "--name-only", "--no-renames", "-z", "HEAD", *(("--", path) if path is not None else ()),
        )
    except GIT_ERRORS:  # missing objects
        return None
    return [record for record in listing.split("\x1e") if record.strip()]


def _splits_by_folder(window: list[str]) -> bool:
    """Whether each folder's log is the window's with only the folder's paths: the window is complete and has no
    merge (git simplifies a folder's history at merges)."""
    return len(window) < MAX_CADENCE_COMMITS and not any(" " in _parents(record) for record in window)


def _plain(prefix: str) -> bool:
    """A folder path that git reads as itself, not as a pathspec pattern."""
    return not prefix.startswith(":") and not any(char in prefix for char in "*?[\\")


def _has_commits(repo: git.Repo) -> bool:
    """Whether HEAD names an object; False on an unborn branch (a fresh `git init`, `git checkout --orphan`).
    A branch ref that exists but names nothing git can read raises ValueError: that is broken, not empty. An
    unreadable commit fails later, as an error."""
    try:
        repo.git.rev_parse("--verify", "--quiet", "HEAD")
    except git.GitCommandError:
        if _unborn(repo):
            return False
        raise ValueError("HEAD names no commit git can read (a broken branch ref)") from None
    return True


def _unborn(repo: git.Repo) -> bool:
    """Whether HEAD is a branch that does not exist yet: no loose ref file and no packed ref of that name."""
    try:
        ref = repo.git.symbolic_ref("--quiet", "HEAD").strip()
    except git.GitCommandError:
        return False  # git cannot even read HEAD as a branch name
    common = Path(repo.common_dir)
    if not ref.startswith("refs/") or os.path.lexists(common / ref):
        return False
    packed = common / "packed-refs"
    if not packed.exists():
        return True
    if not packed.is_file():
        return False
    with packed.open("rb") as lines:  # git read it already: a regular file of refs, one a line
        return not any(line.rstrip(b"\r\n").endswith(b" " + os.fsencode(ref)) for line in lines)


def _log(repo: git.Repo) -> _Log:
    count = int(repo.git.rev_list("--count", "HEAD"))
    entries = [line.split("\0", 1) for line in repo.git.log("--format=%ct%x00%ae", "HEAD").splitlines() if line]
    stamps = sorted(int(stamp) for stamp, _ in entries)
    authors = {email.lower() for _, email in entries}
    return _Log(count, stamps[0] if stamps else None, stamps[-1] if stamps else None, len(authors))


def _iso(stamp: int) -> str:
    return datetime.fromtimestamp(stamp, tz=timezone.utc).isoformat()


def _large_blobs(
    repo: git.Repo, prefix: str, shallow: bool, shared: dict[str, Any]
) -> tuple[tuple[Evidence, ...], bool, str | None]:
    if shallow:
        return (), False, "shallow clone: earlier history is not available"
    found, scanned, note = _once(shared, "large-blobs", lambda: _repository_large_blobs(repo))
    evidence = {Evidence(path[len(prefix):], None, snippet=size) for path, size in found if path.startswith(prefix)}
    return tuple(sorted(evidence, key=lambda e: e.sort_key)), scanned, note


def _repository_large_blobs(repo: git.Repo) -> tuple[tuple[tuple[str, str], ...], bool, str | None]:
    """Every path in history holding a large blob, with its size; whether history was scanned, and why not."""
    objects = _object_count(repo)
    if objects > MAX_SCANNED_OBJECTS:
        return (), False, f"{objects} objects, over the {MAX_SCANNED_OBJECTS}-object scan limit; not scanned"
    sizes = _big_blob_sizes(repo)
    if not sizes:
        return (), True, None
    found = set()
    for line in repo.git.rev_list("--objects", "--all").splitlines():
        sha, _, path = line.partition(" ")
        if sha in sizes:
            found.add((path, _megabytes(sizes[sha])))
    return tuple(sorted(found)), True, None


def _object_count(repo: git.Repo) -> int:
    counts = dict(line.split(": ", 1) for line in repo.git.count_objects("-v").splitlines() if ": " in line)
    return int(counts.get("count", 0)) + int(counts.get("in-pack", 0))


def _big_blob_sizes(repo: git.Repo) -> dict[str, int]:
    listing = repo.git.cat_file("--batch-all-objects", "--batch-check=%(objecttype) %(objectname) %(objectsize)")
    sizes = {}
    for line in listing.splitlines():
        kind, sha, size = line.split(" ")
        if kind == "blob" and int(size) > LARGE_BLOB_BYTES:
            sizes[sha] = int(size)
    return sizes


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MB"


def _parents(record: str) -> str:
    fields = record.split("\0", 4)
    return fields[3] if len(fields) > 3 else ""


def _cadence(records: list[str], prefix: str, since: int, last: int) -> Cadence | None:
    """The ML changes under `prefix` of the year before `last`, from the window's log records; None when a record is
    not as git was asked to write it."""
    try:
        changes = [change for record in records if (change := _change(record, prefix, since)) is not None]
    except ValueError:
        return None
    return Cadence(
        since=_iso(since),
        until=_iso(last),
        changes=tuple(sorted(changes, key=lambda change: (change.stamp, change.touched))),
        truncated=len(records) >= MAX_CADENCE_COMMITS,
    )


def _change(record: str, prefix: str, since: int) -> Change | None:
    """One log record ("time\\0name\\0email\\0parents\\0\\npath\\0path\\0...") as a change, None when it touched no
    ML path under `prefix`."""
    stamp, name, email, _, *paths = record.split("\0")
    if int(stamp) < since:  # --since may let a few older commits through
        return None
    touched = sorted(
        (path[len(prefix):], kind)
        for path in (p.strip("\n") for p in paths)
        if path.startswith(prefix)
        for kind in path_kinds(path[len(prefix):])
    )
    if not touched:
        return None
    return Change(int(stamp), BOT_AUTHOR.search(f"{name} {email}".lower()) is not None, tuple(touched))


@functools.lru_cache(maxsize=1 << 16)  # every view of a monorepo reads the same changed paths
def path_kinds(path: str) -> tuple[str, ...]:
    """The kinds of ML path `path` (relative to the audited folder) is, in `KINDS` order; () for other files."""
    parts = _PathParts.of(path)
    kinds = (TRAINING, _is_training(path)), (PIPELINE, _is_pipeline(path, parts)), (POINTERS, _is_pointer(parts))
    return tuple(kind for kind, matches in kinds if matches)


class _PathParts(NamedTuple):
    """A git path's parts as pathlib names them (a suffix: ".gz" of "a.tar.gz", none of ".bashrc")."""

    folders: list[str]
    name: str
    stem: str
    suffix: str

    @classmethod
    def of(cls, path: str) -> _PathParts:
        *folders, name = path.split("/")  # git writes no empty or "." segments
        dot = name.rfind(".")
        stem, suffix = (name[:dot], name[dot:]) if 0 < dot < len(name) - 1 else (name, "")
        return cls(folders, name, stem, suffix)


def _is_training(path: str) -> bool:
    parts = _PathParts.of(path.lower())
    if parts.suffix != ".py" or not NOT_TRAINING_DIRS.isdisjoint(parts.folders):
        return False
    if parts.name.startswith("test_") or parts.stem.endswith("_test") or parts.name == "conftest.py":
        return False
    return any(word in part for part in (*parts.folders, parts.name) for word in TRAINING_WORDS)


def _is_pipeline(path: str, parts: _PathParts) -> bool:
    if parts.name in PIPELINE_FILES or path.startswith(PIPELINE_DIRS):
        return True
    if parts.suffix == ".py" and not PIPELINE_FOLDERS.isdisjoint(parts.folders):  # Airflow dags/, pipelines/, flows/
        return True
    stem = parts.stem.lower()
    named = stem in ("pipeline", "flow") or stem.endswith(("_pipeline", "_flow", "-pipeline"))
    return named and (parts.suffix == ".py" or parts.suffix in CONFIG_SUFFIXES)  # Prefect, ZenML, KFP


def _is_pointer(parts: _PathParts) -> bool:
    if parts.suffix == ".dvc" or parts.name in POINTER_FILES:
        return True
    return "registry" in parts.stem.lower() and parts.suffix in CONFIG_SUFFIXES


def _times(count: int) -> str:
    return "1 change" if count == 1 else f"{count} changes"
