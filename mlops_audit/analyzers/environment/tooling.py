"""Tooling: pre-commit hooks, lint configuration, tests and their configuration, and the importable packages."""

from __future__ import annotations

import yaml

from mlops_audit.analyzers.environment.reader import Reader, child, dig, relative, string_list, table_line
from mlops_audit.inventory import TEST_DIRS, Inventory
from mlops_audit.model import Evidence, clip

LINT_TABLES = ("ruff", "black", "mypy", "pylint", "isort")
LINT_FILES = {"ruff.toml": "ruff", ".ruff.toml": "ruff", "mypy.ini": "mypy", ".mypy.ini": "mypy",
              ".flake8": "flake8", ".pylintrc": "pylint", "pylintrc": "pylint", ".isort.cfg": "isort"}
LINT_SECTIONS = {"flake8": "flake8", "mypy": "mypy", "isort": "isort", "pylint": "pylint"}
PYTEST_SECTIONS = {"pytest.ini": "pytest", "tox.ini": "pytest", "setup.cfg": "tool:pytest"}


def precommit_hooks(reader: Reader) -> list[Evidence]:
    hooks: list[Evidence] = []
    for path in reader.paths(".pre-commit-config.yaml", ".pre-commit-config.yml"):
        data, node = reader.yaml(path)
        repos = data.get("repos") if isinstance(data, dict) else None
        repo_nodes = child(node, "repos")
        if not isinstance(repos, list) or not isinstance(repo_nodes, yaml.SequenceNode):
            continue
        for repo, repo_node in zip(repos, repo_nodes.value):
            hook_nodes = child(repo_node, "hooks")
            hook_list = dig(repo, "hooks")
            if not isinstance(hook_list, list) or not isinstance(hook_nodes, yaml.SequenceNode):
                continue
            for hook, hook_node in zip(hook_list, hook_nodes.value):
                hook_id = dig(hook, "id")
                if isinstance(hook_id, str):
                    id_node = child(hook_node, "id")
                    line = (id_node or hook_node).start_mark.line + 1
                    hooks.append(Evidence(path, line, snippet=clip(hook_id)))
    return hooks


def lint_configs(reader: Reader) -> list[Evidence]:
    found: list[Evidence] = []
    for path in reader.paths("pyproject.toml"):
        tool = dig(reader.toml(path), "tool")
        text = reader.text(path)
        for name in LINT_TABLES:
            if isinstance(tool, dict) and name in tool:
                found.append(Evidence(path, table_line(text, f"tool.{name}"), snippet=name))
    for path in reader.paths(*LINT_FILES):
        found.append(Evidence(path, None, snippet=LINT_FILES[path.rsplit("/", 1)[-1]]))
    for path in reader.paths("setup.cfg", "tox.ini"):
        parser = reader.ini(path)
        for section, tool in LINT_SECTIONS.items():
            if parser is not None and parser.has_section(section):
                found.append(Evidence(path, table_line(reader.text(path), section), snippet=tool))
    return found


def _pytest_ini_section(path: str) -> str | None:
    return PYTEST_SECTIONS.get(path.rsplit("/", 1)[-1])


def configured_testpaths(reader: Reader) -> list[str]:
    """Folders configured as pytest `testpaths`, relative to the audited root."""
    found: list[str] = []
    for path in reader.paths("pyproject.toml"):
        options = dig(reader.toml(path), "tool", "pytest", "ini_options")
        found += [relative(path, p) for p in string_list(dig(options, "testpaths"))]
    for path in reader.paths(*PYTEST_SECTIONS):
        parser, section = reader.ini(path), _pytest_ini_section(path)
        if parser is not None and section and parser.has_section(section):
            found += [relative(path, p) for p in parser.get(section, "testpaths", fallback="").split()]
    return sorted(set(found))


def test_files(inventory: Inventory, testpaths: list[str]) -> list[str]:
    found = []
    for file in inventory.of_kind("python"):
        parts = file.path.split("/")
        if parts[-1] in ("conftest.py", "__init__.py"):
            continue
        # the inventory's `test` role: test_*.py, *_test.py, *_tests.py, or under a tests/ test/ testing/ folder
        if "test" in file.roles or any(file.path.startswith(p + "/") for p in testpaths):
            found.append(file.path)
    return found


def test_config(reader: Reader) -> list[Evidence]:
    found: list[Evidence] = []
    for path in reader.paths("pyproject.toml"):
        if dig(reader.toml(path), "tool", "pytest", "ini_options") is not None:
            found.append(Evidence(path, table_line(reader.text(path), "tool.pytest.ini_options"), snippet="pytest"))
    for path in reader.paths(*PYTEST_SECTIONS):
        parser, section = reader.ini(path), _pytest_ini_section(path)
        if parser is None or section is None:
            continue
        if parser.has_section(section):
            found.append(Evidence(path, table_line(reader.text(path), section), snippet="pytest"))
        if path.endswith("tox.ini"):
            envs = [s for s in parser.sections() if s == "testenv" or s.startswith("testenv:")]
            if envs:
                found.append(Evidence(path, table_line(reader.text(path), envs[0]), snippet="tox"))
    found += [Evidence(p, None, snippet="nox") for p in reader.paths("noxfile.py")]
    found += [Evidence(p, None, snippet="conftest") for p in reader.paths("conftest.py")]
    return found


def packages(inventory: Inventory) -> list[str]:
    names = set()
    for file in inventory.files:
        parts = file.path.split("/")
        if parts[-1] != "__init__.py":
            continue
        if len(parts) == 2:
            names.add(parts[0])
        elif len(parts) == 3 and parts[0] == "src":
            names.add(parts[1])
    return sorted(n for n in names if n.isidentifier() and n not in TEST_DIRS)
