"""Project templates (cookiecutter, copier, Databricks asset-bundle templates), judged as what they generate.

A template repository holds the project it generates under placeholder names (`{{cookiecutter.repo_name}}/`,
`template/{{.input_root_dir}}/`) and with placeholders inside its files. Detection finds the template tree; the
inventory then presents that tree as the generated project (`inventory.template_view`), with every placeholder
replaced by a plain stand-in named after its variable. Nothing is rendered: substitution is by regular
expressions only, so no template expression is ever evaluated.
"""

from __future__ import annotations

import fnmatch
import json
import posixpath
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import yaml

from mlops_audit.inventory import template_view
from mlops_audit.model import Note
from mlops_audit.safe_yaml import SAFE_LOADER

if TYPE_CHECKING:
    import pathspec

    from mlops_audit.inventory import Inventory

# Bounds keep an unclosed `{{` or `{%` from scanning far: a placeholder longer than this is left as it is.
_SPAN = 300
_LITERAL = rf"\"[^\"\n]{{0,{_SPAN}}}\"|'[^'\n]{{0,{_SPAN}}}'|`[^`]{{0,{_SPAN}}}`"
# `{{ ... }}` (Jinja value or Go action), not GitHub Actions' `${{ ... }}`; quoted strings may hold braces.
# An opening brace cannot occur inside a placeholder (outside quotes), so a run of braces is rejected at once.
_EXPRESSION = rf"(?<!\$)\{{\{{(?P<expr>(?:{_LITERAL}|[^\"'`{{}}]|\}}(?!\}})){{0,{_SPAN}}}?)\}}\}}"
_TOKEN = re.compile(
    rf"(?P<raw>\{{%-?\s*raw\s*-?%\}})|(?P<comment>\{{#[^{{]{{0,{_SPAN * 4}}}?#\}})|(?P<tag>\{{%[^{{]{{0,{_SPAN}}}?%\}})"
    rf"|{_EXPRESSION}",
    re.DOTALL,
)
# An `else`/`elif` branch that ends on its own line: only the first branch is kept, so `{% if a %}"x"{% else %}"y"
# {% endif %}` stays one value. Branches over whole lines are all kept (the superset of what can be generated).
_INLINE_ELSE = re.compile(
    rf"(?:\{{%-?\s*(?:elif|else)\b|\{{\{{-?\s*else\b)[^\n]{{0,{_SPAN}}}?"
    rf"(?=\{{%-?\s*endif\s*-?%\}}|\{{\{{-?\s*end\s*-?\}}\}})"
)
_END_RAW = re.compile(r"\{%-?\s*endraw\s*-?%\}")
_LITERAL_ONLY = re.compile(f"(?:{_LITERAL})", re.DOTALL)
_NAME = re.compile(r"\.?[A-Za-z_]\w*(?:\.\w+)*")
_GO_CONTROL = frozenset({"if", "else", "end", "range", "with", "define", "block", "break", "continue"})
_COOKIECUTTER_DIR = re.compile(r"\{\{[^/]*cookiecutter\.[^/]*\}\}")
_CONTROL = "\0"  # stands for a tag that outputs nothing; text with NUL bytes is binary and never rendered
COPIER_CONFIGS = ("copier.yml", "copier.yaml")
COPIER_EXCLUDED = ("copier.yml", "copier.yaml", "~*", "*.py[co]", "__pycache__", ".git", ".DS_Store", ".svn")


@dataclass(frozen=True, slots=True)
class Template:
    """A template tree inside the repository and how its paths and files become the generated project's."""

    kind: str  # "cookiecutter", "copier" or "databricks"
    root: str  # the template tree's folder inside the repository; "" for the repository root
    path_substitutions: tuple[tuple[str, str], ...]  # (placeholder path component, its stand-in), sorted
    suffix: str = ""  # the suffix of files that are rendered (".jinja", ".tmpl"); "" when every file is
    verbatim: tuple[str, ...] = ()  # patterns (tree-relative) of files copied without rendering
    excluded: tuple[str, ...] = ()  # gitignore-style patterns (tree-relative) of files never generated

    @property
    def shown_root(self) -> str:
        return f"`{self.root}/`" if self.root else "the repository root"

    def note(self) -> Note:
        return Note(
            f"{self.root}/" if self.root else ".",
            f"project template ({self.kind}): judged as the project it generates from {self.shown_root}; "
            "findings have lower confidence",
            "template",
        )

    def render(self, text: str) -> str:
        return render_text(text)

    def generated(self, path: str) -> tuple[str, bool] | None:
        """The generated project's path for a repository path and whether its content is rendered; None when
        the file is not part of the generated project."""
        prefix = f"{self.root}/" if self.root else ""
        if not path.startswith(prefix):
            return None
        relative = path[len(prefix):]
        if self.excluded and _ignore_spec(self.excluded).match_file(relative):
            return None
        verbatim = _copied(relative, self.verbatim)
        rendered = not self.suffix or relative.endswith(self.suffix)
        if self.suffix and rendered:
            relative = relative[: -len(self.suffix)]
        parts = [render_path_component(part) for part in relative.split("/")]
        if not all(parts) or any(part in (".", "..") for part in parts):
            return None  # a conditional name that renders empty: the generator skips the file
        return "/".join(parts), rendered and not verbatim


def render_text(text: str) -> str:
    """`text` with template placeholders replaced by stand-ins and control tags (and lines holding only them)
    removed. `{% raw %}` blocks are kept as written. Never raises."""
    text = _INLINE_ELSE.sub("", text)
    pieces: list[str] = []
    position = 0
    while (token := _TOKEN.search(text, position)) is not None:
        pieces.append(text[position:token.start()])
        if token["raw"] is not None:
            end = _END_RAW.search(text, token.end())
            stop = end.start() if end else len(text)
            pieces += [_CONTROL, text[token.end():stop], _CONTROL if end else ""]
            position = end.end() if end else len(text)
            continue
        output = _stand_in(token["expr"]) if token["expr"] is not None else None
        pieces.append(_CONTROL if output is None else output)
        position = token.end()
    pieces.append(text[position:])
    return _drop_control("".join(pieces))


def render_path_component(name: str) -> str:
    """A file or folder name with its placeholders rendered to stand-ins (`{{cookiecutter.repo_name}}` →
    `repo_name`); never holds a `/`."""
    return render_text(name).replace("/", "_").replace("\n", "").strip()


def detect_template(inventory: Inventory) -> Template | None:
    """The project template the repository is, if any (pure: reads the inventory only)."""
    for detect in (_cookiecutter, _copier, _databricks):
        template = detect(inventory)
        if template is not None:
            return template
    return None


def as_generated(inventory: Inventory) -> Inventory:
    """The inventory of the project a template repository generates (with a note saying so), or `inventory`
    itself when the repository is no template."""
    template = detect_template(inventory)
    return inventory if template is None else template_view(inventory, template)


@lru_cache(maxsize=16)
def _ignore_spec(patterns: tuple[str, ...]) -> pathspec.PathSpec:
    """The gitignore-style patterns as one spec; patterns that are not valid are left out."""
    import pathspec  # imported here: most runs never need it, and its import takes 15 ms

    valid = []
    for pattern in patterns:
        try:
            pathspec.GitIgnoreSpec.from_lines([pattern])
        except (ValueError, re.error):
            continue
        valid.append(pattern)
    return pathspec.GitIgnoreSpec.from_lines(valid)


def _copied(relative: str, patterns: tuple[str, ...]) -> bool:
    """Whether a file, or a folder it is in, matches a copy-without-render pattern (as cookiecutter matches)."""
    parts = relative.split("/")
    return any(
        fnmatch.fnmatchcase("/".join(parts[:end]), pattern) for end in range(1, len(parts) + 1) for pattern in patterns
    )


def _stand_in(expression: str) -> str | None:
    """What a `{{ ... }}` placeholder is replaced by; None for a Go control action or comment (no output)."""
    inner = expression.strip().strip("-").strip()
    if not inner or inner.startswith("/*"):
        return None
    if _LITERAL_ONLY.fullmatch(inner):
        return inner[1:-1]
    word = inner.split(None, 1)[0]
    if word in _GO_CONTROL or ":=" in inner or (word.startswith("$") and "=" in inner):
        return None
    if word == "template" and (literal := _LITERAL_ONLY.search(inner)):
        return literal.group()[1:-1]
    name = _NAME.search(inner)
    stand_in = "value" if name is None else name.group().strip(".").rsplit(".", 1)[-1]
    stand_in = stand_in.removeprefix("input_") or stand_in
    return json.dumps(stand_in) if re.search(r"\|\s*tojson\b", inner) else stand_in


def _drop_control(text: str) -> str:
    """Remove control markers; a line that held nothing but control tags goes altogether."""
    if _CONTROL not in text:
        return text
    lines = text.splitlines(keepends=True)
    return "".join(
        line.replace(_CONTROL, "")
        for line in lines
        if _CONTROL not in line or line.replace(_CONTROL, "").strip()
    )


def _substitutions(inventory: Inventory, template: Template) -> Template:
    """The template with the placeholder path components of its tree listed."""
    prefix = f"{template.root}/" if template.root else ""
    found = {
        (part, render_path_component(part))
        for file in inventory.files
        if file.path.startswith(prefix)
        for part in file.path[len(prefix):].split("/")
        if "{{" in part or "{%" in part
    }
    return Template(template.kind, template.root, tuple(sorted(found)), template.suffix, template.verbatim,
                    template.excluded)


def _top_dirs(inventory: Inventory, prefix: str) -> list[str]:
    """The folders directly under `prefix` that hold files, sorted."""
    return sorted({f.path[len(prefix):].split("/", 1)[0] for f in inventory.files
                   if f.path.startswith(prefix) and "/" in f.path[len(prefix):]})


def _cookiecutter(inventory: Inventory) -> Template | None:
    if inventory.get("cookiecutter.json") is None:
        return None
    trees = [name for name in _top_dirs(inventory, "") if _COOKIECUTTER_DIR.fullmatch(name)]
    if not trees:
        return None
    config = _load(inventory, "cookiecutter.json", json.loads)
    verbatim = config.get("_copy_without_render") if isinstance(config, dict) else None
    patterns = tuple(sorted(p for p in verbatim if isinstance(p, str))) if isinstance(verbatim, list) else ()
    return _substitutions(inventory, Template("cookiecutter", trees[0], (), verbatim=patterns))


def _copier(inventory: Inventory) -> Template | None:
    name = next((n for n in COPIER_CONFIGS if inventory.get(n) is not None), None)
    if name is None:
        return None
    config = _load(inventory, name, lambda text: yaml.load(text, Loader=SAFE_LOADER))
    config = config if isinstance(config, dict) else {}
    subdirectory = config.get("_subdirectory")
    root = ""
    if isinstance(subdirectory, str) and "{{" not in subdirectory:
        root = posixpath.normpath(subdirectory.strip("/")) if subdirectory.strip("/") else ""
        root = "" if root in (".", "..") or root.startswith("../") else root
    suffix = config.get("_templates_suffix", ".jinja")
    extra = config.get("_exclude")
    excluded = COPIER_EXCLUDED + (tuple(p for p in extra if isinstance(p, str)) if isinstance(extra, list) else ())
    template = Template("copier", root, (), suffix if isinstance(suffix, str) else ".jinja", excluded=excluded)
    return _substitutions(inventory, template)


def _databricks(inventory: Inventory) -> Template | None:
    if inventory.get("databricks_template_schema.json") is None:
        return None
    if not any(f.path.startswith("template/") for f in inventory.files):
        return None
    folders = _top_dirs(inventory, "template/")
    # The project usually sits in one folder named by an input (`{{.input_root_dir}}`); helper files beside it
    # (`template/update_layout.tmpl`) are no part of it.
    root = f"template/{folders[0]}" if len(folders) == 1 and "{{" in folders[0] else "template"
    return _substitutions(inventory, Template("databricks", root, (), ".tmpl"))


def _load(inventory: Inventory, path: str, parse: Callable[[str], Any]) -> Any:
    """A parsed configuration file, or None when it is unreadable or invalid."""
    text = inventory.read_text(path)
    if text is None:
        return None
    try:
        return parse(text)
    except (ValueError, yaml.YAMLError, RecursionError):
        return None
