"""Hard-coded secrets and committed credential files, reported masked: a secret is never kept whole in the facts.

Text files (code, notebooks, configuration, CI, Dockerfiles, scripts, `.env`/`.ini`/`.cfg`-like files) up to 1 MB
get one pass of a combined pattern, and only when a cheap substring check says a pattern could match. Notebooks are
scanned cell by cell, sources and text outputs, so findings carry their cell number. A credential file (`.env`,
`kaggle.json`, a service-account key, a private key file, ...) is one finding for the whole file.

Left out: placeholders (`${DB_PASSWORD}`, `<token>`, `changeme`, `xxxx`), low-entropy values assigned to secret
names, lines marked `# pragma: allowlist secret` or `gitleaks:allow`, and obvious dummies (`fake`, `dummy`, `test`,
`example`) in tests, examples and fixtures. `# mlops-audit: ignore[ANY-SEC-01] reason` is the suppression mechanism
shared by every rule: the finding is kept here so the suppression can be recorded against it.

Masking: a provider token shows its provider prefix only (`AKIA…`, `ghp_…`); any other secret shows at most its
first 4 characters, fewer when it is short (`min(4, len // 4)`), then `…`.
"""

from __future__ import annotations

import bisect
import json
import math
import re
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import PurePosixPath

from mlops_audit.analyzers.notebooks import NotANotebook, notebook_cells
from mlops_audit.inventory import Inventory, RepoFile
from mlops_audit.model import clip

MAX_SCAN_BYTES = 1024 * 1024
MAX_PER_FILE = 20
ENTROPY_THRESHOLD = 3.5
SNIPPET_CONTEXT = 60
ELLIPSIS = "…"

SCANNED_KINDS = frozenset({"python", "notebook", "yaml", "json", "toml", "ci", "docker", "manifest", "script", "dvc"})
OTHER_SUFFIXES = frozenset(
    {".ini", ".cfg", ".conf", ".properties", ".env", ".envrc", ".tf", ".tfvars", ".hcl", ".sql", ".r", ".scala",
     ".java", ".kt", ".js", ".ts", ".go", ".rb", ".jl", ".xml", ".ps1", ".bat", ".pem", ".key", ".sbt", ".gradle"}
)
OTHER_NAMES = frozenset({".netrc", "_netrc", ".pypirc", ".npmrc", "Procfile", "id_rsa", "id_dsa", "id_ecdsa",
                         "id_ed25519"})
ENV_TEMPLATES = frozenset({"example", "sample", "template", "tpl", "dist", "defaults", "default"})
KEY_FILE_NAMES = frozenset({"id_rsa", "id_dsa", "id_ecdsa", "id_ed25519"})
DUMMY_DIRS = frozenset({"fixtures", "fixture", "testdata", "test_data", "mocks"})

ASSIGN = r"""["']?\]?[ \t]*(?::=|=>|[:=])[ \t]*"""  # `name = `, `"name": `, `env["NAME"] = `


@dataclass(frozen=True, slots=True)
class Pattern:
    """One alternative of the combined pattern."""

    name: str  # its group name; a `<name>_v` group, when there is one, holds the secret value
    regex: str
    kind: str
    prefix: str | None  # the provider prefix of a token matched whole (shown when masked)
    starts: tuple[str, ...]  # lower-case texts, one of which every match starts with (case aside)
    first: str  # the characters a match can start with


PATTERNS = (
    Pattern("aws_id", r"(?<![A-Za-z0-9])(?:AKIA|ASIA)[A-Z0-9]{16}(?![A-Za-z0-9])", "aws-access-key", r"AKIA|ASIA",
            ("akia", "asia"), "A"),
    Pattern("aws_secret",
            rf"""(?i:aws_?secret_?access_?key){ASSIGN}["']?(?P<aws_secret_v>[A-Za-z0-9/+]{{40}})(?![A-Za-z0-9/+=])""",
            "aws-access-key", None, ("aws",), "Aa"),
    Pattern("private_key", r"-----BEGIN (?:RSA |EC |OPENSSH |DSA |PGP |ENCRYPTED )?PRIVATE KEY(?: BLOCK)?-----",
            "private-key", r".*", ("-----begin",), "-"),
    Pattern("github",
            r"(?<![A-Za-z0-9_])(?:gh[pousr]_[A-Za-z0-9]{36}|github_pat_[A-Za-z0-9_]{22,255})(?![A-Za-z0-9_])",
            "github-token", r"github_pat_|gh[pousr]_", ("ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_"), "g"),
    Pattern("slack", r"(?<![A-Za-z0-9])xox[abeprs]-[A-Za-z0-9-]{10,}", "slack-token", r"xox[a-z]-", ("xox",), "x"),
    Pattern("google", r"(?<![A-Za-z0-9_-])AIza[0-9A-Za-z_-]{35}(?![A-Za-z0-9_-])", "google-api-key", r"AIza",
            ("aiza",), "A"),
    Pattern("openai",
            r"(?<![A-Za-z0-9_-])sk-(?:(?:proj|svcacct|admin)-[A-Za-z0-9_-]{20,}|[A-Za-z0-9]{20,})(?![A-Za-z0-9_-])",
            "openai-key", r"sk-(?:proj-|svcacct-|admin-)?", ("sk-",), "s"),
    Pattern("huggingface", r"(?<![A-Za-z0-9_])hf_[A-Za-z]{30,}(?![A-Za-z0-9_])", "huggingface-token", r"hf_",
            ("hf_",), "h"),
    Pattern("wandb",
            rf"""(?:(?i:wandb_api_key)|wandb\.login\([^)\n]*?\bkey){ASSIGN}["']?"""
            r"(?P<wandb_v>[0-9a-f]{40})(?![0-9A-Za-z])",
            "wandb-key", None, ("wandb",), "Ww"),
    Pattern("azure", r"AccountKey=(?P<azure_v>[A-Za-z0-9+/]{40,}={0,2})", "azure-storage-key", None,
            ("accountkey=",), "A"),
    # From `://`, not the scheme: a match starting at a fixed character is cheap to look for.
    Pattern("url", r"""://(?P<url_user>[^/\s:@'"]*):(?P<url_v>[^/\s@'"]+)@""", "db-url-password", None, ("://",), ":"),
    Pattern("generic",
            r"(?i:(?<![a-z0-9])(?:client[_-]?secret|secret[_-]?key|access[_-]?key|api[_-]?key|apikey|auth[_-]?token"
            rf"|password|passwd|pwd|secret|token)(?![a-z0-9]){ASSIGN}"
            r"""(?P<generic_q>["'])(?P<generic_v>[^"'\n]{8,200})(?P=generic_q))""",
            "generic-assignment", None, ("client", "secret", "access", "api", "auth", "passw", "pwd", "token"),
            "AaCcPpSsTt"),
)
BY_NAME = {pattern.name: pattern for pattern in PATTERNS}
PREFIXES = {pattern.name: re.compile(pattern.prefix) for pattern in PATTERNS if pattern.prefix is not None}
ALLOW_MARKERS = ("pragma: allowlist secret", "gitleaks:allow")
PLACEHOLDER_VALUES = frozenset({"password", "pass", "passwd", "pwd", "secret", "token", "changeme", "none", "null"})
PLACEHOLDER_WORDS = ("your", "example", "placeholder", "redacted", "changeme", "change_me", "change-me", "replace",
                     "xxxx", "****", "...", "…")  # "…": a value already masked
DUMMY_WORDS = ("example", "dummy", "fake", "test", "sample", "mock")
NEWLINE = re.compile("\n")
SHARED = "secrets"  # what `analyze_secrets` keeps in an inventory's shared reads
SERVICE_ACCOUNT = re.compile(r'"type"\s*:\s*"service_account"')


@dataclass(frozen=True, slots=True)
class Secret:
    path: str
    line: int | None  # 1-based; in a notebook, the line within the cell source (None in outputs)
    cell: int | None  # 1-based notebook cell
    kind: str  # "aws-access-key", "private-key", ..., "generic-assignment", "credential-file"
    masked: str  # provider prefix or at most 4 leading characters, then "…"; never the secret
    snippet: str  # the line with every secret on it masked, clipped; for credential files, what the file is
    output: bool = False  # found in a notebook cell's output rather than its source


@dataclass(frozen=True, slots=True)
class SecretFacts:
    findings: tuple[Secret, ...] = ()


@dataclass(frozen=True, slots=True)
class Hit:
    """One pattern match: the span of its secret value in the scanned text, and whether it is reported."""

    kind: str
    start: int
    end: int
    masked: str
    reported: bool


def analyze_secrets(inventory: Inventory) -> SecretFacts:
    """Every secret and credential file in the inventory's text files, at most `MAX_PER_FILE` per file. A file
    scanned before for the inventory or another of its views (with the same expectation of fakes) is not again."""
    known = inventory.shared(SHARED)
    keyed = [(file, _key(inventory, file)) for file in inventory.files]
    known.update(file_secrets(inventory, [file for file, key in keyed if key not in known]))
    findings = [
        secret if secret.path == file.path else replace(secret, path=file.path)
        for file, key in keyed
        for secret in known[key]
    ]
    return SecretFacts(tuple(sorted(findings, key=lambda s: (s.path, s.cell or 0, s.output, s.line or 0))))


def file_secrets(inventory: Inventory, files: list[RepoFile]) -> dict[tuple[str, bool], tuple[Secret, ...]]:
    """The secrets of each file, keyed by its path in the repository and whether fakes are expected there."""
    return {_key(inventory, file): tuple(_file_secrets(inventory, file)[:MAX_PER_FILE]) for file in files}


def remember_secrets(inventory: Inventory, found: dict[tuple[str, bool], tuple[Secret, ...]]) -> None:
    """Keep `file_secrets` made elsewhere (in a worker process) for the inventory and its views."""
    inventory.shared(SHARED).update(found)


def _key(inventory: Inventory, file: RepoFile) -> tuple[str, bool]:
    return inventory.origin(file.path), _dummy_location(file)


def _file_secrets(inventory: Inventory, file: RepoFile) -> list[Secret]:
    dummies = _dummy_location(file)
    credential = _credential_file(inventory, file, dummies)
    if credential is not None:
        return [credential]
    if file.size > MAX_SCAN_BYTES or not _scanned(file):
        return []
    text = inventory.read_text(file.path)
    if text is None:
        return []
    return scan_notebook(file.path, text, dummies) if file.kind == "notebook" else scan_text(file.path, text, dummies)


def _scanned(file: RepoFile) -> bool:
    if file.kind in SCANNED_KINDS:
        return True
    name = PurePosixPath(file.path).name
    return file.kind == "other" and (
        name in OTHER_NAMES or name.startswith(".env") or PurePosixPath(name).suffix.lower() in OTHER_SUFFIXES
    )


def _dummy_location(file: RepoFile) -> bool:
    """Tests, examples and fixtures, where obviously fake values are expected."""
    return bool(file.roles) or not DUMMY_DIRS.isdisjoint(file.path.split("/")[:-1])


# Credential files ---------------------------------------------------------------------------------------------


def _credential_file(inventory: Inventory, file: RepoFile, dummies: bool) -> Secret | None:
    """A file that is itself a credential, described; None for any other file."""
    name = file.path.rpartition("/")[2]
    dot = name.rfind(".")
    suffix = name[dot:].lower() if 0 < dot < len(name) - 1 else ""  # as PurePosixPath has it: ".env" has none
    if suffix in (".p12", ".pfx"):
        return _credential(file.path, "certificate keystore")  # binary: judged by name alone
    described = _by_name(file.path, name)
    if described is None:
        described = _by_content(inventory, file.path, name, suffix)
    if described is None:
        return None
    if dummies and _looks_dummy(inventory.read_text(file.path) or ""):
        return None
    return _credential(file.path, described)


def _by_name(path: str, name: str) -> str | None:
    if name == ".env" or (name.startswith(".env.") and name.split(".")[-1].lower() not in ENV_TEMPLATES):
        return "environment file with settings and secrets"
    if name == "kaggle.json":
        return "Kaggle API token"
    if name == "credentials.json":
        return "cloud or OAuth credentials"
    if name in (".netrc", "_netrc"):
        return "netrc logins"
    if path == ".dvc/config.local" or path.endswith("/.dvc/config.local"):
        return "DVC local config (remote credentials)"
    if re.search(r"(?:^|/)conf/local/credentials\.ya?ml$", path):
        return "Kedro local credentials"
    return None


def _by_content(inventory: Inventory, path: str, name: str, suffix: str) -> str | None:
    checks = {".json": '"private_key"', ".pem": "PRIVATE KEY-----", ".key": "PRIVATE KEY-----"}
    needle = "PRIVATE KEY-----" if name in KEY_FILE_NAMES else "password" if name == ".pypirc" else checks.get(suffix)
    if needle is None:
        return None
    text = inventory.read_text(path)
    if text is None or needle not in text:
        return None
    if suffix == ".json":
        lowered = name.lower()
        is_service_account = "service-account" in lowered or "service_account" in lowered
        return "Google service-account key" if is_service_account or SERVICE_ACCOUNT.search(text) else None
    return "PyPI credentials" if name == ".pypirc" else "private key"


def _credential(path: str, description: str) -> Secret:
    return Secret(path, None, None, "credential-file", "", f"credential file: {description}")


# Text scanning ------------------------------------------------------------------------------------------------


def scan_notebook(path: str, text: str, dummies: bool = False) -> list[Secret]:
    """The secrets in a notebook's cell sources and outputs; a notebook that does not load is scanned as text."""
    cells = _notebook_texts(text)
    if cells is None:
        return scan_text(path, text, dummies)
    return [secret for cell, output, source in cells for secret in scan_text(path, source, dummies, cell, output)]


def _notebook_texts(text: str) -> list[tuple[int, bool, str]] | None:
    """(cell number, is output, text) for every cell source and every cell's text outputs; None if not a notebook."""
    try:
        _, cells = notebook_cells(json.loads(text.removeprefix("\ufeff")))
    except (ValueError, NotANotebook, RecursionError):
        return None
    texts: list[tuple[int, bool, str]] = []
    for cell in cells:
        texts.append((cell.number, False, cell.source))
        outputs = "\n".join(part for output in cell.outputs for part in _output_texts(output))
        if outputs:
            texts.append((cell.number, True, outputs))
    return texts


def _output_texts(output: object) -> list[str]:
    """The text an output shows: streams, text/* and JSON results, errors (v4 and v3 keys); images are left out."""
    if not isinstance(output, dict):
        return []
    values: list[object] = [output.get(key) for key in ("text", "evalue", "traceback", "html", "latex", "json")]
    data = output.get("data")
    if isinstance(data, dict):
        values += [value for mime, value in data.items() if isinstance(mime, str) and _textual(mime)]
    return [text for value in values if (text := _as_text(value))]


def _textual(mime: str) -> bool:
    return mime.startswith("text/") or mime.endswith("json") or mime == "application/javascript"


def _as_text(value: object) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return "".join(part for part in value if isinstance(part, str))
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False)
    return ""


def scan_text(
    path: str, text: str, dummies: bool = False, cell: int | None = None, output: bool = False
) -> list[Secret]:
    """The secrets in one text (a file, a cell source or a cell's outputs), in order; never raises."""
    hits = find_hits(text, dummies)
    if not any(hit.reported for hit in hits):
        return []
    breaks = [newline.start() for newline in NEWLINE.finditer(text)]
    secrets: list[Secret] = []
    for hit in hits:
        if not hit.reported:
            continue
        number = bisect.bisect_right(breaks, hit.start)
        begin = breaks[number - 1] + 1 if number else 0
        end = breaks[number] if number < len(breaks) else len(text)
        line = text[begin:end]
        if any(marker in line for marker in ALLOW_MARKERS):
            continue
        snippet = _masked_line(line, begin, hit, hits)
        secrets.append(Secret(path, None if output else number + 1, cell, hit.kind, hit.masked,
                              ("output: " if output else "") + snippet, output))
    return secrets


def find_hits(text: str, dummies: bool = False, start: int = 0, end: int | None = None) -> list[Hit]:
    """Every pattern match in `text[start:end]`; those judged placeholders or noise are kept unreported.

    The alternatives whose starts the text holds are combined into one pattern, tried only where one of those
    starts is written (a search trying every position costs a second on a large repository).
    """
    end = len(text) if end is None else end
    lowered = text[start:end].lower()
    active = tuple(pattern.name for pattern in PATTERNS if any(written in lowered for written in pattern.starts))
    if not active:
        return []
    pattern = combined(active)
    if len(lowered) == end - start and (lowered.isascii() or not ("ı" in lowered or "ſ" in lowered)):
        matches: Iterable[re.Match[str]] = _matches_at_starts(pattern, text, lowered, start, end, active)
    else:  # lowering moved characters, or kept some that a case-blind match takes for `i` or `s`
        matches = pattern.finditer(text, start, end)
    hits: list[Hit] = []
    for match in matches:
        hits.extend(_hits(text, match, dummies))
    return hits


def _matches_at_starts(
    pattern: re.Pattern[str], text: str, lowered: str, offset: int, end: int, names: tuple[str, ...]
) -> Iterator[re.Match[str]]:
    """The matches of `pattern.finditer(text, offset, end)`, tried only where `lowered` (the text from `offset`,
    in lower case, character for character) has a start of the alternatives `names`."""
    at: set[int] = set()
    for name in names:
        for written in BY_NAME[name].starts:
            index = lowered.find(written)
            while index >= 0:
                at.add(index)
                index = lowered.find(written, index + 1)
    reached = 0
    for index in sorted(at):
        if index >= reached and (match := pattern.match(text, offset + index, end)):
            reached = match.end() - offset
            yield match


@lru_cache(maxsize=256)
def combined(names: tuple[str, ...]) -> re.Pattern[str]:
    """The alternatives named, behind a look-ahead for their first characters that skips most positions fast."""
    patterns = [BY_NAME[name] for name in names]
    first = "".join(sorted({char for pattern in patterns for char in pattern.first}))
    alternatives = "|".join(f"(?P<{pattern.name}>{pattern.regex})" for pattern in patterns)
    return re.compile(f"(?=[{re.escape(first)}])(?:{alternatives})")


def _hits(text: str, match: re.Match[str], dummies: bool) -> list[Hit]:
    name = match.lastgroup or ""  # the alternative that matched: its group closes last
    kind = BY_NAME[name].kind
    if name in PREFIXES:
        value, start, end = match.group(name), match.start(name), match.end(name)
        prefix = PREFIXES[name].match(value)
        prefix_text = prefix.group() if prefix else ""
        body = value[len(prefix_text):]
        filler = bool(body) and (_placeholder(body) or len(set(body)) == 1)
        reported = not (filler or (dummies and _looks_dummy(value)))
        return [Hit(kind, start, end, prefix_text + ELLIPSIS, reported)]
    group = f"{name}_v"
    value, start, end = match.group(group), match.start(group), match.end(group)
    if name == "generic":
        inner = [hit for hit in find_hits(text, dummies, start, end) if hit.kind != "generic-assignment"]
        if inner:
            return inner
    if _placeholder(value) or (name == "url" and value == match.group("url_user")):
        return []
    noise = (dummies and _looks_dummy(value)) or (name == "generic" and entropy(value) < ENTROPY_THRESHOLD)
    return [Hit(kind, start, end, mask(value), not noise)]


def mask(value: str) -> str:
    """At most the first 4 characters of a secret (fewer for short ones), then an ellipsis."""
    return value[: min(4, len(value) // 4)] + ELLIPSIS


def entropy(value: str) -> float:
    """Shannon entropy in bits per character."""
    if not value:
        return 0.0
    total = len(value)
    return -sum(count / total * math.log2(count / total) for count in Counter(value).values())


def _placeholder(value: str) -> bool:
    """An obvious stand-in for a secret: a template or environment reference, a stock word, filler characters."""
    lowered = value.strip().lower()
    return (
        not lowered
        or lowered[0] in "$<{%["
        or any(mark in lowered for mark in ("${", "{{", "$(", "%("))
        or set(lowered) <= set("*x.-_#?")
        or lowered in PLACEHOLDER_VALUES
        or any(word in lowered for word in PLACEHOLDER_WORDS)
    )


def _looks_dummy(text: str) -> bool:
    lowered = text.lower()
    return any(word in lowered for word in DUMMY_WORDS)


def _masked_line(line: str, begin: int, hit: Hit, hits: list[Hit]) -> str:
    """The line around `hit` with every candidate secret on it masked, trimmed to some context either side."""
    on_line = sorted((h for h in hits if begin <= h.start and h.end <= begin + len(line)), key=lambda h: h.start)
    pieces: list[str] = []
    cursor = 0
    position = 0
    for other in on_line:  # spans never overlap: one regex pass, inner hits replace their outer one
        pieces.append(line[cursor: other.start - begin])
        if other is hit:
            position = sum(len(piece) for piece in pieces)
        pieces.append(other.masked)
        cursor = other.end - begin
    pieces.append(line[cursor:])
    masked = "".join(pieces)
    left = max(0, position - SNIPPET_CONTEXT)
    right = position + len(hit.masked) + SNIPPET_CONTEXT
    shown = (ELLIPSIS if left else "") + masked[left:right] + (ELLIPSIS if right < len(masked) else "")
    return clip(shown)
