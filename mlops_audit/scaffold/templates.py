"""Render the scaffold's Jinja2 templates (kept as data in `templates/`) in a sandbox, failing on any unknown name."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from jinja2 import FileSystemLoader, StrictUndefined
from jinja2.sandbox import SandboxedEnvironment

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"


def yaml_scalar(value: object) -> str:
    """A value written as an inline YAML scalar, quoted only when it needs to be."""
    return yaml.safe_dump(value, default_flow_style=True, width=1000).removesuffix("\n").removesuffix("\n...")


def github_expression(expression: str) -> str:
    """`${{ expression }}` for GitHub workflows, which share Jinja's delimiters."""
    return "${{ " + expression + " }}"


@lru_cache(maxsize=1)
def environment() -> SandboxedEnvironment:
    env = SandboxedEnvironment(
        loader=FileSystemLoader(str(TEMPLATES_DIR)),
        undefined=StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        autoescape=False,
    )
    env.filters["yaml"] = yaml_scalar
    env.filters["python"] = repr
    env.globals["gh"] = github_expression
    return env


def render(template: str, context: dict[str, Any]) -> str:
    return environment().get_template(template).render(**context)


def template_names() -> list[str]:
    return sorted(environment().list_templates(extensions=["j2"]))
