"""Named command recipes: Makefile targets, tox and nox sessions, just recipes, Taskfile tasks, console scripts."""

from __future__ import annotations

import ast
import re
from typing import Any, Iterator

from mlops_audit.analyzers.environment.reader import (
    Reader,
    child,
    dig,
    key_line,
    key_lines,
    line_containing,
    literal_strings,
    logical_lines,
    table_line,
)
from mlops_audit.analyzers.environment.records import Target

MAKEFILES = ("Makefile", "makefile", "GNUmakefile")
MAKE_RULE = re.compile(r"^([^\s:#=][^:#=]*?)\s*(::?)(.*)$")


def script_targets(table: Any, path: str, text: str | None) -> list[Target]:
    if not isinstance(table, dict):
        return []
    targets = []
    for name, value in table.items():
        command = value if isinstance(value, str) else dig(value, "reference") or dig(value, "callable")
        commands = (command,) if isinstance(command, str) else ()
        targets.append(Target(str(name), path, key_line(text, str(name)), commands))
    return targets


def console_script(entry: str, path: str, text: str | None) -> Target:
    name, _, target = entry.partition("=")
    return Target(name.strip(), path, line_containing(text, entry), (target.strip(),))


def setup_py_scripts(node: ast.expr | None, names: dict[str, ast.expr], path: str) -> list[Target]:
    if not isinstance(node, ast.Dict):
        return []
    targets = []
    for key, value in zip(node.keys, node.values):
        if isinstance(key, ast.Constant) and key.value == "console_scripts":
            for entry, line in literal_strings(value, names):
                name, _, target = entry.partition("=")
                targets.append(Target(name.strip(), path, line, (target.strip(),)))
    return targets


def makefile_targets(reader: Reader) -> list[Target]:
    targets: list[Target] = []
    for path in reader.paths(*MAKEFILES):
        targets += _parse_makefile(reader.text(path) or "", path)
    return targets


def _parse_makefile(text: str, path: str) -> list[Target]:
    rules: list[tuple[list[str], int, list[str]]] = []
    current: list[str] | None = None
    in_define = False
    for number, line in _make_lines(text):
        first_word = line.split()[:1]
        if in_define or first_word == ["define"]:  # a multi-line variable, not rules
            in_define = not in_define or first_word != ["endef"]
            current = None
            continue
        if line.startswith("\t"):
            if current is not None and line.strip():
                current.append(line.strip().lstrip("@-+").strip())
            continue
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        current = None
        names, recipe = _rule_names(line)
        if names:
            current = [recipe] if recipe else []
            rules.append((names, number, current))
    return [Target(name, path, line, tuple(c for c in commands if c)) for names, line, commands in rules
            for name in names]


def _make_lines(text: str) -> Iterator[tuple[int, str]]:
    """Physical lines joined over trailing backslashes, with the first line's number."""
    lines = text.splitlines()
    index = 0
    while index < len(lines):
        start, line = index + 1, lines[index]
        index += 1
        while line.endswith("\\") and index < len(lines):
            line = line[:-1].rstrip() + " " + lines[index].lstrip("\t ")
            index += 1
        yield start, line


def _rule_names(line: str) -> tuple[list[str], str]:
    """The explicit targets a rule line defines, and its inline recipe (`target: deps ; command`)."""
    match = MAKE_RULE.match(line)
    if match is None or match.group(3).startswith("="):
        return [], ""
    prerequisites, _, recipe = match.group(3).partition(";")
    if "=" in prerequisites:  # target-specific variable assignment
        return [], ""
    names = [n for n in match.group(1).split() if not n.startswith(".") and "%" not in n and "$" not in n]
    return names, recipe.strip()


def tox_targets(reader: Reader) -> list[Target]:
    targets = []
    for path in reader.paths("tox.ini"):
        parser = reader.ini(path)
        if parser is None:
            continue
        for section in parser.sections():
            if section == "testenv" or section.startswith("testenv:"):
                commands = [line for _, line in logical_lines(parser.get(section, "commands", fallback="")) if line]
                name = section.partition(":")[2] or section
                targets.append(Target(name, path, table_line(reader.text(path), section),
                                      tuple(c.lstrip("- ") for c in commands)))
    return targets


def nox_targets(reader: Reader) -> list[Target]:
    targets = []
    for path in reader.paths("noxfile.py"):
        tree = reader.python(path)
        for node in tree.body if tree is not None else ():
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                name = _nox_session_name(node)
                if name is not None:
                    targets.append(Target(name, path, node.lineno, tuple(_nox_commands(node))))
    return targets


def _nox_session_name(function: ast.FunctionDef | ast.AsyncFunctionDef) -> str | None:
    for decorator in function.decorator_list:
        call = decorator if isinstance(decorator, ast.Call) else None
        target = call.func if call else decorator
        if ast.unparse(target) in ("nox.session", "session"):
            for keyword in call.keywords if call else ():
                if keyword.arg == "name" and isinstance(keyword.value, ast.Constant):
                    return str(keyword.value.value)
            return function.name
    return None


def _nox_commands(function: ast.FunctionDef | ast.AsyncFunctionDef) -> list[str]:
    if not function.args.args:
        return []
    session = function.args.args[0].arg
    commands = []
    for node in ast.walk(function):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in ("run", "run_always")
            and isinstance(node.func.value, ast.Name)
            and node.func.value.id == session
        ):
            words = [a.value for a in node.args if isinstance(a, ast.Constant) and isinstance(a.value, str)]
            if words:
                commands.append((node.lineno, " ".join(words)))
    return [command for _, command in sorted(commands)]


JUST_RECIPE = re.compile(r"^@?([A-Za-z_][A-Za-z0-9_-]*)(?:\s+[^:]*)?\s*:(?!=)(.*)$")
JUST_KEYWORDS = ("set", "alias", "export", "import", "mod")


def justfile_targets(reader: Reader) -> list[Target]:
    targets: list[Target] = []
    for path in reader.paths("justfile", "Justfile", ".justfile"):
        current: Target | None = None
        commands: list[str] = []
        for number, line in enumerate((reader.text(path) or "").splitlines(), start=1):
            if line[:1] in (" ", "\t"):
                if current is not None and line.strip() and not line.strip().startswith("#"):
                    commands.append(line.strip().lstrip("@-").strip())
                continue
            if current is not None:
                targets.append(Target(current.name, path, current.line, tuple(commands)))
                current = None
            match = JUST_RECIPE.match(line)
            if match and match.group(1) not in JUST_KEYWORDS:
                current, commands = Target(match.group(1), path, number, ()), []
        if current is not None:
            targets.append(Target(current.name, path, current.line, tuple(commands)))
    return targets


def taskfile_targets(reader: Reader) -> list[Target]:
    targets = []
    for path in reader.paths("Taskfile.yml", "Taskfile.yaml", "taskfile.yml", "taskfile.yaml"):
        data, node = reader.yaml(path)
        tasks = dig(data, "tasks")
        lines = key_lines(child(node, "tasks"))
        for name, body in tasks.items() if isinstance(tasks, dict) else ():
            targets.append(Target(str(name), path, lines.get(str(name)), tuple(_task_commands(body))))
    return targets


def _task_commands(body: Any) -> list[str]:
    """Commands of a task: a string, a list, or `cmds:` entries (strings, `cmd:` or `task:` mappings)."""
    if isinstance(body, dict):
        body = body.get("cmds", body.get("cmd", []))
    items = [body] if isinstance(body, str) else body if isinstance(body, list) else []
    commands = []
    for item in items:
        if isinstance(item, str):
            commands.append(item)
        elif isinstance(dig(item, "cmd"), str):
            commands.append(item["cmd"])
        elif isinstance(dig(item, "task"), str):
            commands.append(f"task {item['task']}")
    return commands
