"""Hostile structure: monorepos of hundreds of projects, project templates full of template injection, import
graphs with cycles and thousands-deep chains. Bounded time; capped work is said in a note; nothing is rendered."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from conftest import audit, notes_about, write

TRAIN = "from sklearn.svm import SVC\nSVC().fit(X, y)\n"


def test_a_monorepo_of_two_hundred_projects_is_capped_and_says_so(tmp_path: Path) -> None:
    files: dict[str, str | bytes] = {}
    for number in range(200):
        files[f"projects/p{number:03d}/pyproject.toml"] = f"[project]\nname = 'p{number}'\n"
        files[f"projects/p{number:03d}/src/train.py"] = TRAIN
    nested = "/".join(f"n{depth}" for depth in range(120))  # 120 roots nested in one another: one project
    for depth in range(1, 121):
        files["/".join(nested.split("/")[:depth]) + "/setup.cfg"] = "[metadata]\nname = n\n"
    files[f"{nested}/train.py"] = TRAIN
    root = write(tmp_path / "repo", files)
    run = audit(root, timeout=30)
    report = run.json()
    assert run.seconds < 30
    assert len(report["projects"]) == 50
    assert "n0" in {project["root"] for project in report["projects"]}  # the nested roots: one project
    assert any("201 project roots" in message and "first 50" in message for message in notes_about(report, "."))


COOKIECUTTER_DIR = "{{cookiecutter.__class__.__mro__[1].__subclasses__()}}"
INJECTIONS = (
    "{{ ''.__class__.__mro__[1].__subclasses__() }}\n"
    "{{ cycler.__init__.__globals__.os.system('touch TEMPLATE_MARKER') }}\n"
    "{% include '/etc/passwd' %}\n{% import '/etc/passwd' as secrets %}{{ secrets }}\n"
    "{% for i in range(10**12) %}{% for j in range(10**12) %}{{ i * j }}{% endfor %}{% endfor %}\n"
    "{{ '%s' * 10**12 }}\n"
)


def _template_files(root_name: str) -> dict[str, str | bytes]:
    """A template tree whose names and contents try to run code, read files outside and never end."""
    return {
        f"{root_name}/src/train.py": INJECTIONS + "{{ '{{' * 100000 }}\n" + "{%" * 50_000 + "\n" + TRAIN,
        f"{root_name}/{{% include '..' %}}/x.py": "import torch\n",
        f"{root_name}/{{{{ lipsum.__globals__.os.popen('touch TEMPLATE_MARKER').read() }}}}.py": INJECTIONS,
        f"{root_name}/{{% for i in range(10**12) %}}{{{{ i }}}}{{% endfor %}}/params.yaml": INJECTIONS,
        f"{root_name}/.github/workflows/ci.yml": "on: push\njobs:\n  t:\n    runs-on: ubuntu-latest\n"
                                                 "    steps:\n      - run: " + INJECTIONS.splitlines()[1] + "\n",
    }


@pytest.mark.parametrize("kind", ["cookiecutter", "copier", "databricks"])
def test_a_project_template_full_of_injections_is_read_never_rendered(tmp_path: Path, kind: str) -> None:
    if kind == "cookiecutter":
        files = {"cookiecutter.json": json.dumps({"project_name": INJECTIONS, "_copy_without_render": [INJECTIONS],
                                                  "_extensions": ["evil.Extension"]}),
                 **_template_files(COOKIECUTTER_DIR)}
    elif kind == "copier":
        files = {"copier.yml": "_subdirectory: ../../../../etc\n_tasks: ['touch TEMPLATE_MARKER']\n"
                               "_exclude: ['[z-a]', '\\\\']\n_templates_suffix: !!python/name:os.system\n"
                               "name: !!python/object/apply:os.system ['touch TEMPLATE_MARKER']\n",
                 **_template_files(""), "train.py.jinja": INJECTIONS + TRAIN}
    else:
        files = {"databricks_template_schema.json": json.dumps({"properties": {"x": {"default": INJECTIONS}}}),
                 **_template_files("template/{{.input_root_dir}}"),
                 "template/{{template `x` .}}{{range $i := .}}{{end}}/y.py.tmpl": "{{template `/etc/passwd` .}}\n"}
    root = write(tmp_path / "repo", files)
    run = audit(root, cwd=root, timeout=30)
    report = run.json()
    assert run.seconds < 30
    assert "root:" not in run.stdout and "/bin/bash" not in run.stdout  # nothing of /etc/passwd
    assert not list(root.rglob("*MARKER")) and not list(tmp_path.glob("*MARKER"))
    assert any(note["kind"] == "template" for note in report["notes"]), report["notes"]


def test_import_cycles_and_chains_thousands_deep(tmp_path: Path) -> None:
    """1,000 modules importing the next (absolutely and relatively) in one cycle, run by 250 DVC stages and 250
    Makefile targets, and a chain of folders 300 deep. Reachability visits each file once."""
    count = 1000
    files: dict[str, str | bytes] = {"pkg/__init__.py": "from . import m0\n"}
    for number in range(count):
        files[f"pkg/m{number}.py"] = (f"import pkg.m{(number + 1) % count}\nfrom . import m{(number + 7) % count}\n"
                                      f"from .m{(number + 13) % count} import *\n")
    files[f"pkg/m{count - 1}.py"] += TRAIN
    deep = "/".join(["d"] * 300)
    files[f"{deep}/leaf.py"] = "import pkg\n"
    files["dvc.yaml"] = "stages:\n" + "".join(f"  s{n}:\n    cmd: python -m pkg.m{n * 4}\n" for n in range(250))
    files["Makefile"] = "".join(f"t{n}:\n\tpython pkg/m{n}.py && python -m pkg && cd {deep} && python leaf.py\n"
                                for n in range(250))
    root = write(tmp_path / "repo", files)
    run = audit(root, timeout=30)
    run.json()
    assert run.seconds < 30


def test_shell_scripts_that_call_one_another_are_expanded_once(tmp_path: Path) -> None:
    """40 scripts, each calling all 40 (itself included): expanded to depth 3 without memory, 40**4 expansions;
    each expanded once, the audit takes its usual second."""
    count = 40
    calls = "".join(f"bash scripts/s{n}.sh\n" for n in range(count)) + "python train.py\n"
    root = write(tmp_path / "repo", {"train.py": TRAIN, **{f"scripts/s{n}.sh": calls for n in range(count)}})
    try:
        run = audit(root, timeout=5)
    except subprocess.TimeoutExpired as error:  # report the timeout as the assertion it is
        raise AssertionError(f"the audit did not finish: {error}") from None
    run.json()
