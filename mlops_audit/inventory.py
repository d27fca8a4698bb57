"""Which files the audited repository holds, what kind each is, and bounded, root-confined reads.

Inside a git repository the inventory is `git ls-files` (tracked files) plus untracked files that are not
ignored, so local data a user keeps out of git is not audited. Outside git it is a walk that honours
`.gitignore` files. Symlinks are never followed out of the audited root; vendored and generated folders
(virtualenvs, caches, build output, tracker run folders) are left out.

An inventory can also list a past commit (`build_inventory_at`): its files come from the commit's tree and its
reads from the object database, so nothing is checked out. Reads go through a reader (work tree or git tree);
the inventory applies the same size limit, binary sniffing and notes to both.
"""

from __future__ import annotations

import fnmatch
import functools
import itertools
import os
import posixpath
import re
import stat
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any, Protocol

import git

from mlops_audit.errors import AuditError, PathError
from mlops_audit.model import Note

if TYPE_CHECKING:
    import pathspec

    from mlops_audit.templates import Template

MAX_TEXT_BYTES = 4 * 1024 * 1024
# Overrides for every git command: the audited repository's own configuration must not make a read run a program
# (an fsmonitor hook) or reach a network (a partial clone's lazy fetch of missing objects).
SAFE_GIT_CONFIG = ("core.fsmonitor=false", "protocol.allow=never")
BINARY_SNIFF_BYTES = 8192

SKIPPED_DIRS = frozenset(
    {
        ".git", ".hg", ".svn", ".venv", "venv", "env", ".env", "site-packages", "node_modules", ".tox", ".nox",
        "__pycache__", ".ipynb_checkpoints", ".mypy_cache", ".pytest_cache", ".ruff_cache", "mlruns", "wandb",
        ".dvc_cache", ".eggs", ".idea", ".vscode",
    }
)
# Build output: skipped unless committed (a committed `build/` often holds CI definitions, e.g. Cloud Build files).
BUILD_OUTPUT_DIRS = frozenset({"build", "dist"})
TEST_DIRS = frozenset({"tests", "test", "testing"})
EXAMPLE_DIRS = frozenset(
    {"examples", "example", "docs", "doc", "tutorials", "tutorial", "demo", "demos", "samples", "sample"}
)

MODEL_SUFFIXES = frozenset(
    {".pkl", ".pickle", ".joblib", ".sav", ".h5", ".hdf5", ".keras", ".pt", ".pth", ".ckpt", ".safetensors",
     ".onnx", ".pb", ".tflite", ".mlmodel", ".gguf", ".cbm", ".model"}
)
DATA_SUFFIXES = frozenset(
    {".csv", ".tsv", ".parquet", ".feather", ".jsonl", ".ndjson", ".xlsx", ".xls", ".arrow", ".npy", ".npz",
     ".tfrecord", ".tfrecords", ".avro", ".orc", ".zip", ".gz", ".tgz", ".bz2", ".xz", ".7z", ".sqlite", ".db"}
)
CI_PATTERNS = (
    ".github/workflows/*.yml", ".github/workflows/*.yaml", ".gitlab-ci.yml", "azure-pipelines*.yml",
    "azure-pipelines*.yaml", ".azure-pipelines/*.yml", ".azure-pipelines/*.yaml", "Jenkinsfile", "*.Jenkinsfile",
    ".circleci/config.yml", ".circleci/config.yaml", "bitbucket-pipelines.yml", "cloudbuild*.yaml",
    "cloudbuild*.yml", "buildspec*.yml", "buildspec*.yaml",
)
MANIFEST_NAMES = frozenset(
    {"pyproject.toml", "setup.cfg", "setup.py", "Pipfile", "Pipfile.lock", "poetry.lock", "uv.lock", "pdm.lock",
     "environment.yml", "environment.yaml", "conda.yaml", "conda.yml", "conda-lock.yml", "pixi.toml",
     "pixi.lock", "MLproject", "python_env.yaml", ".python-version", "runtime.txt"}
)


def classify(path: str) -> str:
    """The kind of a file from its repository-relative path alone."""
    name = path.rpartition("/")[2]
    suffix = _suffix(name)
    if glob_matcher(CI_PATTERNS)(path):
        return "ci"
    if name in ("dvc.yaml", "dvc.lock", ".dvcignore") or suffix == ".dvc" or path.startswith(".dvc/"):
        return "dvc"
    if name in ("Dockerfile", "Containerfile") or name.endswith(".Dockerfile") or name.startswith("Dockerfile."):
        return "docker"
    if name in MANIFEST_NAMES or fnmatch.fnmatchcase(name, "requirements*.txt") or fnmatch.fnmatchcase(
        name, "requirements*.in"
    ):
        return "manifest"
    if suffix in (".py", ".pyw"):
        return "python"
    if suffix == ".ipynb":
        return "notebook"
    if suffix in MODEL_SUFFIXES:
        return "model"
    if suffix in DATA_SUFFIXES:
        return "data"
    if suffix in (".yml", ".yaml"):
        return "yaml"
    if suffix == ".toml":
        return "toml"
    if suffix == ".json":
        return "json"
    if suffix in (".md", ".rst", ".txt"):
        return "text"
    if suffix in (".sh", ".bash") or name in ("Makefile", "makefile", "GNUmakefile", "justfile", "Taskfile.yml"):
        return "script"
    return "other"


def _suffix(name: str) -> str:
    """The name's extension, lower-cased, as `PurePosixPath.suffix` gives it (none for `.env` or `name.`)."""
    dot = name.rfind(".")
    return name[dot:].lower() if 0 < dot < len(name) - 1 else ""


def roles_of(path: str) -> tuple[str, ...]:
    """Where a file sits in the project: `test` and/or `example` (docs, tutorials, demos)."""
    parts = path.split("/")
    name = parts[-1]
    roles = []
    if (
        any(part in TEST_DIRS for part in parts[:-1])
        or name.startswith("test_")
        or name.endswith(("_test.py", "_tests.py"))
        or name == "conftest.py"
    ):
        roles.append("test")
    if any(part.lower() in EXAMPLE_DIRS for part in parts[:-1]):
        roles.append("example")
    return tuple(roles)


@dataclass(frozen=True, slots=True)
class RepoFile:
    path: str  # POSIX, relative to the audited root
    size: int
    kind: str
    roles: tuple[str, ...]
    tracked: bool  # committed to git (False outside git and for untracked files)


class Unreadable(Exception):
    """Why a listed file cannot be read safely; the inventory turns it into a note."""

    def __init__(self, message: str, kind: str = "unreadable") -> None:
        super().__init__(message)
        self.message = message
        self.kind = kind


# Code is read into the facts cache and, with texts of every size, would double an audit's memory if kept here.
UNKEPT_KINDS = frozenset({"python", "notebook"})


class FileReader(Protocol):
    # Whether forked processes may read at once (a reader that talks to one git process may not).
    parallel_safe: bool

    def read(self, path: str, limit: int) -> bytes | None:
        """At most `limit` bytes of a listed file; None when it is not a regular file; `Unreadable` when unsafe."""

    def close(self) -> None:
        """Release what the reader holds (a git process)."""


@dataclass
class Inventory:
    """The audited tree. Analyzers read files only through it."""

    root: Path
    files: list[RepoFile]
    git_root: Path | None = None
    notes: list[Note] = field(default_factory=list)
    reader: FileReader | None = None  # where reads come from; the work tree under `root` when None
    # What is read or made once for an inventory and every view made from it (git history, each source's facts),
    # by the name of what it is
    shared_reads: dict[str, Any] = field(default_factory=dict)
    _by_path: dict[str, RepoFile] = field(init=False, repr=False)
    _paths: list[str] = field(init=False, repr=False)  # each file's path, then its name, in the order of `files`
    _names: list[str] = field(init=False, repr=False)
    _text_cache: dict[str, str] = field(init=False, repr=False, default_factory=dict)
    _last_text: tuple[str | None, str | None] = field(init=False, repr=False, default=(None, None))
    _reader: FileReader = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.files.sort(key=lambda f: f.path)
        self._by_path = {f.path: f for f in self.files}
        self._paths = [f.path for f in self.files]
        self._names = [path.rpartition("/")[2] for path in self._paths]
        self._reader = self.reader or WorkTreeReader(self.root)

    def __enter__(self) -> Inventory:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        self._reader.close()

    @property
    def parallel_safe(self) -> bool:
        """Whether forked processes may read this inventory's files at the same time."""
        return self._reader.parallel_safe

    @property
    def is_git(self) -> bool:
        return self.git_root is not None

    def get(self, path: str) -> RepoFile | None:
        return self._by_path.get(path)

    @contextmanager
    def unnoted(self) -> Iterator[None]:
        """Reads that leave no note (a binary file skipped, say): for a look at every file that is not an analysis,
        such as hashing them."""
        kept = list(self.notes)
        try:
            yield
        finally:
            self.notes[:] = kept

    def shared(self, name: str) -> dict[Any, Any]:
        """The table `name` of `shared_reads`, made empty on first use."""
        return self.shared_reads.setdefault(name, {})

    def of_kind(self, *kinds: str) -> list[RepoFile]:
        return [f for f in self.files if f.kind in kinds]

    def glob(self, *patterns: str) -> list[RepoFile]:
        """Files whose path matches any glob; a pattern without `/` also matches the file name anywhere."""
        return [self.files[index] for index in glob_indexes(patterns, self._paths, self._names)]

    def read_bytes(self, path: str, limit: int = MAX_TEXT_BYTES) -> bytes | None:
        """At most `limit` bytes of a file, or None when it cannot be read safely."""
        try:
            return self._reader.read(path, limit)
        except Unreadable as problem:
            self._note(path, problem.message, problem.kind)
            return None

    def read_text(self, path: str) -> str | None:
        """The file as text, or None (with a note) when it is binary, too large or unreadable."""
        if path in self._text_cache:
            return self._text_cache[path]
        if self._last_text[0] == path:
            return self._last_text[1]
        text = self._read_text(path)
        if text is not None:  # a failure notes each time
            listed = self.get(path)
            if listed is None or listed.kind not in UNKEPT_KINDS:
                self._text_cache[path] = text
            else:  # one at a time, for the analyses that read a file one after another
                self._last_text = (path, text)
        return text

    def _read_text(self, path: str) -> str | None:
        listed = self.get(path)
        if listed is not None and listed.size > MAX_TEXT_BYTES:
            self._note(path, f"is {listed.size} bytes, over the {MAX_TEXT_BYTES}-byte analysis limit; skipped",
                       "too-large")
            return None
        data = self.read_bytes(path, MAX_TEXT_BYTES + 1)
        if data is None:
            return None
        if len(data) > MAX_TEXT_BYTES:
            self._note(path, f"is over the {MAX_TEXT_BYTES}-byte analysis limit; skipped", "too-large")
            return None
        if b"\0" in data[:BINARY_SNIFF_BYTES]:
            self._note(path, "is binary, not text; skipped", "binary")
            return None
        return data.decode("utf-8", errors="replace")

    def _note(self, path: str, message: str, kind: str = "unreadable") -> None:
        note = Note(path, message, kind)
        if note not in self.notes:
            self.notes.append(note)

    def subset(self, prefix: str, shared: Iterable[str] = ()) -> Inventory:
        """A view of the files under folder `prefix`, re-rooted there, plus the `shared` files at their own paths
        (a file of the folder wins over a shared one of the same path). Kinds and roles follow the new paths; reads
        go through this inventory's reader; `origin` maps the view's paths back."""
        base = prefix.strip("/") + "/"
        origins = {path: path for path in shared if path in self._by_path}
        origins.update({f.path[len(base):]: f.path for f in self.files if f.path.startswith(base)})
        files = [
            replace(self._by_path[source], path=path, kind=classify(path), roles=roles_of(path))
            for path, source in origins.items()
        ]
        reader = ViewReader(self._reader, base, origins)
        return Inventory(root=self.root / base, files=files, git_root=self.git_root, reader=reader,
                         shared_reads=self.shared_reads)

    def origin(self, path: str) -> str:
        """The path a view's file has in the inventory the view was made from; the path itself otherwise."""
        return self._reader.origin(path) if isinstance(self._reader, ViewReader) else path


class ViewReader:
    """Reads a view's files from the reader of the inventory it was made from."""

    def __init__(self, source: FileReader, base: str, origins: dict[str, str]) -> None:
        self._source = source
        self.parallel_safe = source.parallel_safe
        self._base = base
        self._origins = origins

    def read(self, path: str, limit: int) -> bytes | None:
        return self._source.read(self.origin(path), limit)

    def close(self) -> None:
        """The source's owner closes it."""

    def origin(self, path: str) -> str:
        """A listed path's source; any other path (a file in history) is taken to be under the view's folder."""
        return self._origins.get(path) or (self._base + path if path not in ("", ".") else self._base.rstrip("/"))


class WorkTreeReader:
    """Reads files on disk under `root`, never through a symlink that leads out of it. Each folder is resolved
    once; a file that is not itself a symlink is then read from its resolved folder."""

    parallel_safe = True

    def __init__(self, root: Path) -> None:
        self.root = root
        self._folders: dict[str, str] = {}  # a folder's path under the root -> its real path, when inside the root

    def read(self, path: str, limit: int) -> bytes | None:
        real = self._open_path(path)
        if real is None:
            return None
        try:
            with open(real, "rb") as handle:
                return handle.read(limit)
        except OSError as error:
            raise Unreadable(f"cannot be read: {error.strerror}") from None

    def close(self) -> None:
        """Nothing to release."""

    def _open_path(self, path: str) -> str | None:
        """The real path of a listed file, or None when it is not a regular file."""
        folder, _, name = path.rpartition("/")
        real_folder = self._folders.get(folder)
        if real_folder is None:
            real_folder = self._folders[folder] = str(self._resolve(folder))
        candidate = os.path.join(real_folder, name)
        try:
            mode = os.lstat(candidate).st_mode
        except OSError:
            raise Unreadable("cannot be resolved (broken symlink or symlink loop)") from None
        if stat.S_ISLNK(mode):
            resolved = self._resolve(path)
            return str(resolved) if resolved.is_file() else None
        return candidate if stat.S_ISREG(mode) else None

    def _resolve(self, path: str) -> Path:
        """The real path of `path` under the root; Unreadable when it cannot be resolved or leads outside."""
        try:
            resolved = (self.root / path).resolve(strict=True)
        except (OSError, RuntimeError):
            raise Unreadable("cannot be resolved (broken symlink or symlink loop)") from None
        if not resolved.is_relative_to(self.root):
            raise Unreadable("is a symlink that leads outside the audited root; not read", "symlink")
        return resolved


@dataclass(frozen=True, slots=True)
class TreeEntry:
    """A file of a commit's tree: its git mode, blob id and size in bytes."""

    mode: str
    sha: str
    size: int

    @property
    def is_link(self) -> bool:
        return self.mode == "120000"


class GitTreeReader:
    """Reads the blobs of one commit's tree from the object database; the work tree is never touched.

    `entries` maps root-relative paths to blobs. Symlinks are resolved inside the tree and never lead out of the
    audited root, as on disk.
    """

    parallel_safe = False  # one `git cat-file` process answers every read

    def __init__(self, repo: git.Repo, entries: dict[str, TreeEntry]) -> None:
        self._repo = repo
        self.entries = entries

    def read(self, path: str, limit: int) -> bytes | None:
        entry = self.entries.get(path)
        return None if entry is None else self._blob(self.resolve(path, entry), limit)

    def close(self) -> None:
        self._repo.close()

    def resolve(self, path: str, entry: TreeEntry) -> TreeEntry:
        """The entry a path leads to, following symlinks within the tree."""
        seen: set[str] = set()
        while entry.is_link:
            if path in seen:
                raise Unreadable("cannot be resolved (broken symlink or symlink loop)")
            seen.add(path)
            link = self._blob(entry, 4096).decode("utf-8", errors="replace")
            path = posixpath.normpath(posixpath.join(posixpath.dirname(path), link))
            if link.startswith("/") or path == ".." or path.startswith("../"):
                raise Unreadable("is a symlink that leads outside the audited root; not read", "symlink")
            target = self.entries.get(path)
            if target is None:
                raise Unreadable("cannot be resolved (broken symlink or symlink loop)")
            entry = target
        return entry

    def _blob(self, entry: TreeEntry, limit: int) -> bytes:
        try:
            if entry.size <= limit:
                return self._repo.odb.stream(bytes.fromhex(entry.sha)).read()
            # A partial read of a large blob: a process of its own, stopped once `limit` bytes are in.
            process = self._repo.git.cat_file("blob", entry.sha, as_process=True)
            try:
                return process.stdout.read(limit)
            finally:
                process.proc.kill()
                process.proc.wait()
        except (git.GitError, ValueError, OSError) as error:
            raise Unreadable(f"cannot be read from git: {type(error).__name__}") from None


class TemplateReader:
    """Reads a template's files under the generated project's paths, placeholders replaced by stand-ins.

    `render` is regular-expression substitution only (`templates.render_text`); nothing is evaluated.
    """

    def __init__(
        self, inner: FileReader, sources: dict[str, tuple[str, bool]], render: Callable[[str], str]
    ) -> None:
        self._inner = inner
        self._render = render
        self.parallel_safe = inner.parallel_safe
        self.sources = sources  # generated path -> (repository path, whether its content is rendered)

    def read(self, path: str, limit: int) -> bytes | None:
        source = self.sources.get(path)
        if source is None:
            return None
        data = self._inner.read(source[0], limit)
        if data is None or not source[1] or b"\0" in data[:BINARY_SNIFF_BYTES]:
            return data
        return self._render(data.decode("utf-8", errors="replace")).encode("utf-8")

    def close(self) -> None:
        self._inner.close()


def template_view(inventory: Inventory, template: Template) -> Inventory:
    """The project a template generates: the files of its tree re-rooted at the template root, placeholder
    path components rendered to stand-ins and template suffixes dropped, read through the same bounded reader.
    The view carries the inventory's notes and one saying the repository is judged as what it generates."""
    sources: dict[str, tuple[str, bool]] = {}
    files = []
    for file in inventory.files:  # sorted, so the first of two files generating one path wins
        generated = template.generated(file.path)
        if generated is None or generated[0] in sources:
            continue
        sources[generated[0]] = (file.path, generated[1])
        path = generated[0]
        files.append(RepoFile(path, file.size, classify(path), roles_of(path), file.tracked))
    return Inventory(
        root=inventory.root,
        files=files,
        git_root=inventory.git_root,
        notes=[*inventory.notes, template.note()],
        reader=TemplateReader(inventory._reader, sources, template.render),
    )


def matches(path: str, patterns: tuple[str, ...] | list[str]) -> bool:
    """Whether `path` matches a glob; a glob without `/` also matches the file name anywhere."""
    return glob_matcher(tuple(patterns))(path)


def glob_indexes(patterns: tuple[str, ...], paths: list[str], names: list[str]) -> list[int]:
    """The indexes of the paths that match any glob (`matches`), in order, from one C-level pass over the paths
    and one over their names (`names[i]` is the name of `paths[i]`)."""
    whole, name_only = _glob_regexes(patterns)
    found = set(itertools.compress(range(len(paths)), map(whole.match, paths)))
    if name_only is not None:
        found.update(itertools.compress(range(len(names)), map(name_only.match, names)))
    return sorted(found)


@functools.lru_cache(maxsize=1024)
def glob_matcher(patterns: tuple[str, ...]) -> Callable[[str], bool]:
    """`matches` for fixed globs, for testing many paths."""
    whole, name_only = _glob_regexes(patterns)
    if name_only is None:
        return lambda path: whole.match(path) is not None
    return lambda path: whole.match(path) is not None or name_only.match(path.rpartition("/")[2]) is not None


@functools.lru_cache(maxsize=1024)
def _glob_regexes(patterns: tuple[str, ...]) -> tuple[re.Pattern[str], re.Pattern[str] | None]:
    """The globs compiled once: one regex for whole paths, one for names (globs without `/`)."""
    names = [fnmatch.translate(p) for p in patterns if "/" not in p]
    whole = re.compile("|".join(fnmatch.translate(p) for p in patterns) or "(?!)")
    return whole, re.compile("|".join(names)) if names else None


def build_inventory(path: str | os.PathLike[str]) -> Inventory:
    """List and classify the files under `path` (a directory, possibly inside a git work tree)."""
    root = _directory(path)
    git_root = _git_root(root)
    notes: list[Note] = []
    if git_root is not None:
        listed = _git_listing(root, git_root, notes)
    else:
        listed = _walk_listing(root, notes)
        if os.path.lexists(root / ".git"):
            notes.append(Note(".git", "is not a repository git can read (a corrupt HEAD, or a .git file or folder "
                                      "that leads nowhere); the folder was walked instead, without history", "git"))
    files = []
    for rel, tracked in listed:
        if _skipped(rel, tracked):
            continue
        size = _size(root, rel)
        if size is None:
            if _special(root / rel):
                notes.append(Note(rel, "is not a regular file (a FIFO, socket or device); not read", "special"))
            continue
        files.append(RepoFile(rel, size, classify(rel), roles_of(rel), tracked))
    return Inventory(root=root, files=files, git_root=git_root, notes=notes)


def build_inventory_at(path: str | os.PathLike[str], ref: str) -> Inventory:
    """The files under `path` as they are in commit `ref` of its git repository, read without a checkout.

    Every file is committed (`tracked`). Close the inventory (or use it in a `with` block) when done.
    """
    root = _directory(path)
    git_root = _git_root(root)
    if git_root is None:
        raise AuditError(f"{path}: not inside a git repository, so revision `{ref}` cannot be read")
    repo = open_repo(git_root)
    try:
        commit = _commit(repo, ref)
        reader = GitTreeReader(repo, _tree_entries(repo, commit, root.relative_to(git_root).as_posix()))
    except BaseException:
        repo.close()
        raise
    files = []
    for rel, entry in reader.entries.items():
        if not _skipped(rel, tracked=True):
            files.append(RepoFile(rel, _tree_size(reader, rel, entry), classify(rel), roles_of(rel), True))
    return Inventory(root=root, files=files, git_root=git_root, reader=reader)


def inventory_of(path: str | os.PathLike[str], paths: Iterable[str]) -> Inventory:
    """Only the listed files under `path` (root-relative), read from the work tree and counted as committed.

    What a pre-commit hook is handed: its cost grows with the files given, never with the repository. Paths
    that leave the root, or are not regular files, are left out; no git history is attached.
    """
    root = _directory(path)
    files = []
    for rel in sorted(set(paths)):
        size = None if _skipped(rel, tracked=True) or not _inside(rel) else _size(root, rel)
        if size is not None:
            files.append(RepoFile(rel, size, classify(rel), roles_of(rel), True))
    return Inventory(root=root, files=files)


def _directory(path: str | os.PathLike[str]) -> Path:
    root = Path(path)
    if not root.exists():
        raise PathError(f"{path}: no such file or directory")
    if not root.is_dir():
        raise PathError(f"{path}: not a directory (mlops-audit audits a repository folder)")
    return root.resolve()


def _inside(rel: str) -> bool:
    pure = PurePosixPath(rel)
    return not pure.is_absolute() and ".." not in pure.parts


def _commit(repo: git.Repo, ref: str) -> str:
    if not ref or ref.startswith("-"):
        raise AuditError(f"`{ref}` is not a git revision")
    try:
        return repo.git.rev_parse("--verify", "--quiet", f"{ref}^{{commit}}").strip()
    except git.GitCommandError:
        raise AuditError(f"`{ref}` is not a commit of this git repository") from None


def _tree_entries(repo: git.Repo, commit: str, prefix: str) -> dict[str, TreeEntry]:
    """The blobs (files and symlinks) of the commit's tree under `prefix`, keyed by path relative to it."""
    listing = repo.git.ls_tree("-r", "-l", "-z", "--full-tree", commit, stdout_as_string=False)
    strip = "" if prefix == "." else prefix + "/"
    entries = {}
    for record in listing.decode("utf-8", errors="replace").split("\0"):
        meta, _, name = record.partition("\t")
        fields = meta.split()
        if len(fields) == 4 and fields[1] == "blob" and name.startswith(strip):
            # A blob missing from the object store has no size ("BAD"); reading it then says so in a note.
            entries[name[len(strip):]] = TreeEntry(fields[0], fields[2], int(fields[3]) if fields[3].isdigit() else 0)
    return entries


def _tree_size(reader: GitTreeReader, rel: str, entry: TreeEntry) -> int:
    """A symlink counts the size of the file it leads to (0 when that is outside the tree), like `stat`."""
    try:
        return reader.resolve(rel, entry).size
    except Unreadable:
        return 0


def _skipped(rel: str, tracked: bool) -> bool:
    """Vendored and cache folders are never audited; build output only when it is not committed."""
    return any(
        part in SKIPPED_DIRS or (not tracked and part in BUILD_OUTPUT_DIRS) for part in rel.split("/")[:-1]
    )


def _size(root: Path, rel: str) -> int | None:
    path = os.path.join(root, rel)
    try:
        info = os.lstat(path)
    except OSError:
        return None  # tracked but deleted in the work tree
    if stat.S_ISLNK(info.st_mode):
        try:
            info = os.stat(path)
        except OSError:
            return 0
    return info.st_size if stat.S_ISREG(info.st_mode) else None


def _special(path: Path) -> bool:
    """Whether `path` (or what its symlink leads to) is there but neither a regular file nor a folder."""
    try:
        mode = path.stat().st_mode
    except OSError:
        return False
    return not (stat.S_ISREG(mode) or stat.S_ISDIR(mode))


def _git_root(root: Path) -> Path | None:
    try:
        repo = open_repo(root, search_parent_directories=True)
    except (git.InvalidGitRepositoryError, git.NoSuchPathError):
        return None
    try:
        working = repo.working_tree_dir
    finally:
        repo.close()
    return Path(working).resolve() if working else None


def open_repo(path: Path, search_parent_directories: bool = False) -> git.Repo:
    """The git repository at `path`, its commands run with `SAFE_GIT_CONFIG`."""
    repo = git.Repo(path, search_parent_directories=search_parent_directories)
    repo.git.set_persistent_git_options(c=list(SAFE_GIT_CONFIG))
    return repo


def _git_listing(root: Path, git_root: Path, notes: list[Note]) -> list[tuple[str, bool]]:
    repo = open_repo(git_root)
    try:
        tracked = repo.git.ls_files("-z", "--cached", "--", str(root)).split("\0")
        untracked = repo.git.ls_files("-z", "--others", "--exclude-standard", "--", str(root)).split("\0")
    except git.GitCommandError as error:
        notes.append(Note(".git", f"git could not list files ({error.stderr.strip()}); walked the folder instead"))
        return _walk_listing(root, notes)
    finally:
        repo.close()
    prefix = root.relative_to(git_root).as_posix()
    strip = 0 if prefix == "." else len(prefix) + 1
    listed = {p[strip:]: True for p in tracked if p}
    for p in untracked:
        if p and p[strip:] not in listed:
            listed[p[strip:]] = False
    return sorted(listed.items())


def _walk_listing(root: Path, notes: list[Note]) -> list[tuple[str, bool]]:
    listed: list[tuple[str, bool]] = []
    specs: list[tuple[str, pathspec.PathSpec]] = []
    for current, dirs, names in os.walk(root, followlinks=False):
        here = Path(current)
        rel_dir = here.relative_to(root).as_posix()
        rel_dir = "" if rel_dir == "." else rel_dir + "/"
        if ".gitignore" in names:
            specs.append((rel_dir, _ignore_spec(root, rel_dir + ".gitignore", notes)))
        dirs[:] = sorted(
            d for d in dirs
            if d not in SKIPPED_DIRS | BUILD_OUTPUT_DIRS and not _ignored(specs, rel_dir + d + "/")
        )
        for name in sorted(names):
            rel = rel_dir + name
            if not _ignored(specs, rel):
                listed.append((rel, False))
    return listed


def _ignore_spec(root: Path, rel: str, notes: list[Note]) -> pathspec.PathSpec:
    """The patterns of a `.gitignore`, read like any file (bounded, never a FIFO or device, never out of the root);
    a line that is no valid pattern is left out with a note."""
    import pathspec  # imported here: most runs never need it, and its import takes 15 ms

    try:
        data = WorkTreeReader(root).read(rel, MAX_TEXT_BYTES)
    except Unreadable:
        data = None
    lines = (data or b"").decode("utf-8", errors="replace").splitlines()
    try:
        return pathspec.GitIgnoreSpec.from_lines(lines)
    except (ValueError, re.error):
        pass
    valid = []
    for number, line in enumerate(lines, 1):
        try:
            pathspec.GitIgnoreSpec.from_lines([line])
        except (ValueError, re.error):
            notes.append(Note(rel, f"line {number} is not a valid ignore pattern; left out", "invalid-config"))
            continue
        valid.append(line)
    return pathspec.GitIgnoreSpec.from_lines(valid)


def _ignored(specs: list[tuple[str, pathspec.PathSpec]], rel: str) -> bool:
    return any(rel.startswith(base) and spec.match_file(rel[len(base):]) for base, spec in specs)
