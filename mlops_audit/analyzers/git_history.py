"""Facts from git history, read with gitpython: commits, shallowness, tags, large files in history.

The large-blob scan lists every object's size with `git cat-file --batch-all-objects` and names the big
blobs with `git rev-list --objects --all`; it is skipped for shallow clones (history is missing) and for
stores over `MAX_SCANNED_OBJECTS` objects, and `history_scanned` / `scan_note` say so.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import git

from mlops_audit.inventory import Inventory, open_repo
from mlops_audit.model import Evidence, clip

LARGE_BLOB_BYTES = 10 * 1024 * 1024
MAX_SCANNED_OBJECTS = 200_000
GIT_ERRORS = (git.GitError, git.ODBError, OSError, ValueError)


@dataclass(frozen=True, slots=True)
class GitFacts:
    is_repo: bool = False
    commits: int | None = None  # commits reachable from HEAD; None when unknown
    shallow: bool | None = None
    first_commit: str | None = None  # ISO 8601 dates, UTC
    last_commit: str | None = None
    authors: int | None = None
    tags: tuple[str, ...] = ()
    large_blobs: tuple[Evidence, ...] = ()  # blobs over the size threshold anywhere in history (snippet = size)
    error: str | None = None  # why history could not be read
    history_scanned: bool = False  # the large-blob scan covered all history
    scan_note: str | None = None  # why it did not (shallow clone, too many objects)


@dataclass(frozen=True, slots=True)
class _Log:
    commits: int
    first: str | None
    last: str | None
    authors: int


def analyze_git(inventory: Inventory) -> GitFacts:
    if inventory.git_root is None:
        return GitFacts()
    try:
        repo = open_repo(inventory.git_root)
    except GIT_ERRORS as error:
        return GitFacts(is_repo=True, error=_describe(error))
    try:
        return _read(repo, _prefix(inventory.root, inventory.git_root))
    except GIT_ERRORS as error:
        return GitFacts(is_repo=True, error=_describe(error))
    finally:
        repo.close()


def _describe(error: Exception) -> str:
    detail = error.stderr if isinstance(error, git.GitCommandError) else str(error)
    return clip(f"git history could not be read: {str(detail).strip() or type(error).__name__}")


def _prefix(root: Path, git_root: Path) -> str:
    """The audited folder relative to the work tree, "" at its top."""
    relative = root.relative_to(git_root).as_posix()
    return "" if relative == "." else relative + "/"


def _read(repo: git.Repo, prefix: str) -> GitFacts:
    shallow = (
        repo.git.rev_parse("--is-shallow-repository").strip() == "true"
        or (Path(repo.common_dir) / "shallow").exists()  # git before 2.15 echoes the unknown option
    )
    tags = tuple(sorted(t for t in repo.git.tag("--list").splitlines() if t))
    if not _has_commits(repo):  # a fresh `git init`: no commit yet
        return GitFacts(is_repo=True, commits=0, shallow=shallow, authors=0, tags=tags, history_scanned=True)
    log = _log(repo)
    blobs, scanned, note = _large_blobs(repo, prefix, shallow)
    return GitFacts(
        is_repo=True,
        commits=log.commits,
        shallow=shallow,
        first_commit=log.first,
        last_commit=log.last,
        authors=log.authors,
        tags=tags,
        large_blobs=blobs,
        history_scanned=scanned,
        scan_note=note,
    )


def _has_commits(repo: git.Repo) -> bool:
    """Whether HEAD names an object; False on an unborn branch. An unreadable commit fails later, as an error."""
    try:
        repo.git.rev_parse("--verify", "--quiet", "HEAD")
    except git.GitCommandError:
        return False
    return True


def _log(repo: git.Repo) -> _Log:
    count = int(repo.git.rev_list("--count", "HEAD"))
    entries = [line.split("\0", 1) for line in repo.git.log("--format=%ct%x00%ae", "HEAD").splitlines() if line]
    stamps = sorted(int(stamp) for stamp, _ in entries)
    authors = {email.lower() for _, email in entries}
    return _Log(count, _iso(stamps[0]) if stamps else None, _iso(stamps[-1]) if stamps else None, len(authors))


def _iso(stamp: int) -> str:
    return datetime.fromtimestamp(stamp, tz=timezone.utc).isoformat()


def _large_blobs(repo: git.Repo, prefix: str, shallow: bool) -> tuple[tuple[Evidence, ...], bool, str | None]:
    if shallow:
        return (), False, "shallow clone: earlier history is not available"
    objects = _object_count(repo)
    if objects > MAX_SCANNED_OBJECTS:
        return (), False, f"{objects} objects, over the {MAX_SCANNED_OBJECTS}-object scan limit; not scanned"
    sizes = _big_blob_sizes(repo)
    if not sizes:
        return (), True, None
    found: set[Evidence] = set()
    for line in repo.git.rev_list("--objects", "--all").splitlines():
        sha, _, path = line.partition(" ")
        if sha in sizes and path.startswith(prefix):
            found.add(Evidence(path[len(prefix):], None, snippet=_megabytes(sizes[sha])))
    return tuple(sorted(found, key=lambda e: e.sort_key)), True, None


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
