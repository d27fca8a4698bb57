"""Helpers for tests: write an example file tree as a real repository and judge one rule on it; build rules and
assessments by hand."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import git

from mlops_audit.analyzers.ci import CIFacts
from mlops_audit.analyzers.data_versioning import DataFacts
from mlops_audit.analyzers.environment import EnvironmentFacts
from mlops_audit.analyzers.git_history import GitFacts
from mlops_audit.analyzers.notebooks import NotebookFacts
from mlops_audit.analyzers.python_code import PythonFacts
from mlops_audit.analyzers.reachability import Reachability
from mlops_audit.analyzers.secrets import SecretFacts
from mlops_audit.analyzers.stack import StackFacts
from mlops_audit.engine import judge
from mlops_audit.facts import Facts, collect_facts
from mlops_audit.inventory import build_inventory
from mlops_audit.model import (
    Assessment,
    CategoryScore,
    DetectedTool,
    Evidence,
    Finding,
    LevelScore,
    Note,
    Rule,
)

LFS_POINTER = (
    "version https://git-lfs.github.com/spec/v1\n"
    "oid sha256:4d7a214614ab2935c943f9e0ff69d22eadbb8f32b1258daaa5e2ca24d17e2393\n"
    "size 12345678\n"
)


def write_tree(root: Path, files: Mapping[str, Any]) -> None:
    """Write `files` under `root`: text, `{size: N}` for N bytes of binary filler, `{lfs: true}` for a pointer."""
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, Mapping) and "size" in content:
            with path.open("wb") as handle:
                handle.truncate(int(content["size"]))
        elif isinstance(content, Mapping) and content.get("lfs"):
            path.write_text(LFS_POINTER, encoding="utf-8")
        else:
            path.write_text(str(content), encoding="utf-8")


def make_repo(root: Path, files: Mapping[str, Any], use_git: bool = True, commits: int = 1) -> Path:
    """A repository holding `files`, committed (`commits` commits) unless `use_git` is false."""
    root.mkdir(parents=True, exist_ok=True)
    write_tree(root, files)
    if use_git:
        repo = git.Repo.init(root)
        with repo.config_writer() as config:
            config.set_value("user", "name", "Example Dev")
            config.set_value("user", "email", "dev@example.com")
            config.set_value("commit", "gpgsign", "false")
        repo.git.add("--all", "--force")
        for number in range(commits):
            repo.git.commit("--allow-empty", "-q", "-m", f"commit {number + 1}")
        repo.close()
    return root


def judge_example(rule: Rule, example: Mapping[str, Any], root: Path) -> Finding:
    """The finding of `rule` on one of its examples, written as a repository under `root`."""
    from mlops_audit.checks import BUILTINS

    make_repo(root, example["files"], use_git=example.get("git", True), commits=example.get("commits", 2))
    facts = collect_facts(build_inventory(root))
    return judge([rule], facts, BUILTINS)[0]


def make_facts(**records: Any) -> Facts:
    """Facts with every record empty except those given (`python=PythonFacts(...)`, `files=(...)`)."""
    empty = Facts(
        files=(),
        python=PythonFacts(),
        notebooks=NotebookFacts(),
        ci=CIFacts(),
        data=DataFacts(),
        environment=EnvironmentFacts(),
        git=GitFacts(),
        stack=StackFacts(),
        secrets=SecretFacts(),
        notes=(),
        reachability=Reachability(),
    )
    return dataclasses.replace(empty, **records)


def make_rule(rule_id: str, **changes: Any) -> Rule:
    """A builtin rule with placeholder text, its level and category read from `rule_id` (`L1-PIPE-01`)."""
    prefix, category = rule_id.split("-")[:2]
    fields: dict[str, Any] = {
        "id": rule_id,
        "slug": f"{category.lower()}-rule-{rule_id[-2:]}",
        "title": f"Title of {rule_id}",
        "level": int(prefix[1:]) if prefix[1:].isdigit() else None,
        "category": category,
        "weight": 1.0,
        "gate": False,
        "gate_group": None,
        "confidence": "A",
        "rationale": f"Why {rule_id} matters.",
        "source": "Google Cloud, MLOps levels",
        "check": None,
        "partial": None,
        "applies": None,
        "messages": {},
        "remediation": f"Fix {rule_id}.",
        "scaffold": None,
        "docs": None,
        "examples": {},
        "pack": "builtin",
    }
    return Rule(**(fields | changes))


def make_assessment(findings: tuple[Finding, ...] = (), **changes: Any) -> Assessment:
    """A Level-1 assessment of `churn-model` holding `findings`: a Level-2 gate and group failed, one note."""
    counts = {"pass": 1, "partial": 0, "fail": 1, "not_applicable": 0, "unknown": 0}
    fields: dict[str, Any] = {
        "root": "churn-model",
        "applicable": True,
        "level": 1,
        "score": 1.375,
        "levels": (
            LevelScore(0, 1.0, True, (), counts),
            LevelScore(1, 0.8125, True, (), counts),
            LevelScore(2, 0.375, False, ("L2-CI-01", "validated-promotion"), counts),
        ),
        "categories": (CategoryScore("CI", "CI/CD", 0.5, counts),),
        "stack": (
            DetectedTool("mlflow", ("tracker", "registry"), "used", (Evidence("src/train.py", 3),)),
            DetectedTool("wandb", ("tracker",), "declared", ()),
        ),
        "findings": findings,
        "notes": (Note("notebooks/broken.ipynb", "not valid JSON"),),
    }
    return Assessment(**(fields | changes))
