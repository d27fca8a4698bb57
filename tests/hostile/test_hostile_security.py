"""Untrusted repositories (pull requests from forks): no command runs, imports or renders the repository's code,
no report leaks a secret whole, nothing touches the network, and the repository's configuration cannot make the
tool read outside the root."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import yaml
from jinja2.exceptions import SecurityError, TemplateNotFound
from jinja2.sandbox import SandboxedEnvironment

from conftest import audit_all_formats, audit_json, git_repo, run_cli, write
from mlops_audit.scaffold import templates as scaffold_templates

SECRETS = {
    "aws": "AKIAZ7Q4MJ3XKV2PLW9D",
    "github": "ghp_" + "Zq8Yw3Xv6Ut1Sr9Qp4On2Ml7Kj5Ih0Gf3Ed8C",
    "slack": "xoxb-" + "2048163264-1357924680-Zy9Xw8Vu7Ts6Rq5Po4Nm3Lk",
    "password": "Tr0ub4dor&3-horse-Battery",
    "db": "S3cr3tDbPassw0rdZ",
}


def _payloads(markers: Path) -> dict[str, str]:
    """Files that leave a marker named after themselves if anything executes, imports or renders them."""

    def touch(name: str) -> str:
        return f"__import__('pathlib').Path({str(markers / name)!r}).touch()"

    yaml_tag = '!!python/object/apply:os.system ["touch {}"]'
    yaml_files = (".github/workflows/ci.yml", ".gitlab-ci.yml", "dvc.yaml", "dvc.lock", "data/raw.csv.dvc",
                  "environment.yml", "params.yaml", "MLproject", ".pre-commit-config.yaml", "conda.yaml",
                  "bitbucket-pipelines.yml", "azure-pipelines.yml", ".circleci/config.yml", "cloudbuild.yaml",
                  "buildspec.yml", "docker-compose.yml", "python_env.yaml", "conf/config.yaml", "compose.yaml",
                  "conf/base/catalog.yml", "conf/base/parameters.yml", "Taskfile.yml", "conda-lock.yml",
                  ".lakectl.yaml", "feature_store.yaml", "databricks.yml", "prefect.yaml", ".pre-commit-hooks.yaml",
                  "k8s/deployment.yaml")
    files = {
        name: f"key: {yaml_tag.format(markers / ('yaml-' + name.replace('/', '_')))}\n"
              f"stages: {{train: {{cmd: {yaml_tag.format(markers / 'yaml-cmd')}}}}}\n"
        for name in yaml_files
    }
    files.update({
        "setup.py": touch("setup.py") + "\nfrom setuptools import setup\nsetup(name='x')\n",
        "conftest.py": touch("conftest.py") + "\n",
        "src/__init__.py": touch("__init__.py") + "\n",
        "src/train.py": touch("train.py") + "\nfrom sklearn.svm import SVC\nSVC().fit([[0]], [0])\n",
        "sitecustomize.py": touch("sitecustomize.py") + "\n",
        "usercustomize.py": touch("usercustomize.py") + "\n",
        "evil.pth": f"import pathlib; pathlib.Path({str(markers / 'pth')!r}).touch()\n",
        "dags/train_dag.py": touch("dag.py") + "\nfrom airflow import DAG\nwith DAG('train') as dag:\n    pass\n",
        "noxfile.py": touch("noxfile.py") + "\n",
        "templates/report.html.j2": "{{ cycler.__init__.__globals__.os.system('touch "
                                    + str(markers / "jinja") + "') }}\n",
        "templates/params.yaml.j2": "{{ lipsum.__globals__['os'].popen('touch " + str(markers / "jinja2") + "') }}\n",
        "notebooks/train.ipynb": json.dumps({
            "cells": [{"cell_type": "code", "execution_count": 1, "metadata": {}, "outputs": [],
                       "source": [touch("notebook") + "\n", "!touch " + str(markers / "shell") + "\n",
                                  "%run -i evil.py\n"]}],
            "metadata": {"kernelspec": {"name": "python3"}}, "nbformat": 4, "nbformat_minor": 5}),
        "Makefile": f"all:\n\ttouch {markers / 'make'}\n",
        "Dockerfile": f"FROM python:3.11\nRUN touch {markers / 'docker'}\n",
        "requirements.txt": f"scikit-learn==1.4.2\n-e git+file://{markers}/pkg#egg=pkg\n",
        "pyproject.toml": '[build-system]\nrequires = ["setuptools"]\nbuild-backend = "evil_backend"\n'
                          '[project]\nname = "victim"\nversion = "0"\n',
        "evil_backend.py": touch("backend") + "\n",
        "Jenkinsfile": f"pipeline {{ stages {{ stage('x') {{ steps {{ sh 'touch {markers / 'jenkins'}' }} }} }} }}\n",
        # Names the scaffold's templates receive as values (the raw dataset, the notebook folders): never rendered.
        # A name holds no `/`, so these markers would appear in the working directory, the repository itself.
        f"data/{JINJA_NAME}.csv": "a,b\n1,2\n",
        f"nb_{JINJA_FOLDER}/explore.ipynb": json.dumps({"cells": [], "metadata": {}, "nbformat": 4,
                                                          "nbformat_minor": 5}),
    })
    return files


JINJA_NAME = "{{ cycler.__init__.__globals__.os.system('touch JINJA_NAME_MARKER') }}"
JINJA_FOLDER = "{{ lipsum.__globals__.os.popen('touch JINJA_FOLDER_MARKER').read() }}"


def test_nothing_from_the_repository_is_run_imported_or_rendered(tmp_path: Path) -> None:
    markers = tmp_path / "markers"
    markers.mkdir()
    root = git_repo(tmp_path / "repo", _payloads(markers))
    audit_all_formats(root, tmp_path / "out", cwd=root)
    for command in (["lint", *sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()
                                     and ".git" not in p.parts)],
                    ["scaffold", str(root)], ["scaffold", "--diff", str(root)], ["scaffold", "--to-level", "2",
                                                                                 "--diff", str(root)],
                    ["rules"], ["explain", "L1-PIPE-01"]):
        run = run_cli(command, watch=root, cwd=root)
        assert run.code in (0, 1), (command, run.stderr)
    assert sorted(p.name for p in markers.iterdir()) == []
    assert not list(root.glob("*_MARKER"))


def _secret_repo(root: Path) -> Path:
    notebook = {
        "cells": [{"cell_type": "code", "execution_count": 1, "metadata": {},
                   "source": [f"token = '{SECRETS['github']}'\n"],
                   "outputs": [{"output_type": "stream", "name": "stdout", "text": [f"password={SECRETS['password']}\n"]}]}],
        "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    return git_repo(root, {
        "src/train.py": f"AWS_ACCESS_KEY_ID = '{SECRETS['aws']}'\nSLACK = '{SECRETS['slack']}'\n"
                        "from sklearn.svm import SVC\nSVC().fit([[0]], [0])\n",
        "notebooks/explore.ipynb": json.dumps(notebook),
        "conf/db.yaml": f"url: postgresql://admin:{SECRETS['db']}@db.internal:5432/prod\n",
        ".github/workflows/ci.yml": f"on: push\nenv:\n  GH_TOKEN: {SECRETS['github']}\njobs: {{}}\n",
        f"docs/{SECRETS['aws']}.md": "a secret in a file name\n",
    })


def test_secrets_never_appear_whole_in_any_report(tmp_path: Path) -> None:
    root = _secret_repo(tmp_path / "repo")
    texts = audit_all_formats(root, tmp_path / "out")
    lint = run_cli(["lint", "src/train.py", "notebooks/explore.ipynb", "conf/db.yaml", ".github/workflows/ci.yml"],
                   watch=root, cwd=root)
    texts["lint"] = lint.stdout + lint.stderr
    for name, text in texts.items():
        for kind, secret in SECRETS.items():
            if kind == "aws" and name in ("json", "sarif", "html", "markdown", "gitlab", "text", "junit", "github"):
                text = text.replace(f"docs/{secret}.md", "")  # a file's name is shown as its name
            assert secret not in text, (name, kind)
    report = json.loads(texts["json"])
    secret_finding = next(f for f in report["findings"] if f["id"] == "ANY-SEC-01")
    assert secret_finding["outcome"] == "fail"
    assert any("AKIA…" in (e["snippet"] or "") for e in secret_finding["evidence"])


RUNNER = """
import socket, subprocess, sys
attempts, commands = [], []
def deny(*args, **kwargs):
    attempts.append(repr(args[1:] or args)[:200])
    raise OSError("network access is disabled in this test")
socket.socket.connect = deny
socket.socket.connect_ex = deny
socket.socket.sendto = deny
socket.create_connection = deny
socket.getaddrinfo = deny
_popen_init = subprocess.Popen.__init__
def record(self, args, *rest, **kwargs):
    commands.append([str(a) for a in (args if isinstance(args, (list, tuple)) else [args])])
    return _popen_init(self, args, *rest, **kwargs)
subprocess.Popen.__init__ = record
from mlops_audit.cli import main
try:
    code = main(sys.argv[2:])
finally:
    import json
    with open(sys.argv[1], "w") as log:
        json.dump({"attempts": attempts, "commands": commands}, log)
sys.exit(code)
"""
READ_ONLY_GIT = {"ls-files", "rev-parse", "tag", "rev-list", "log", "count-objects", "cat-file", "ls-tree",
                 "version", "config", "for-each-ref", "show", "status", "diff", "describe", "branch", "symbolic-ref"}


def _network_repo(root: Path) -> Path:
    lfs = ("version https://git-lfs.github.com/spec/v1\noid sha256:"
           "4d7a214614ab2935c943f9e0ff69d22eadbb8f32b1258daaa5e2ca24d17e2393\nsize 12345678\n")
    return git_repo(root, {
        "src/train.py": "import mlflow\nmlflow.set_tracking_uri('http://mlflow.example.invalid:5000')\n"
                        "from sklearn.svm import SVC\nSVC().fit([[0]], [0])\n",
        ".gitmodules": '[submodule "vendor"]\n\tpath = vendor\n\turl = https://example.invalid/vendor.git\n',
        ".gitattributes": "*.pkl filter=lfs diff=lfs merge=lfs -text\n",
        "models/model.pkl": lfs,
        ".dvc/config": "[core]\n    remote = store\n['remote \"store\"']\n    url = s3://bucket.example.invalid/x\n",
        "data/raw.csv.dvc": "outs:\n- md5: 0123456789abcdef0123456789abcdef\n  path: raw.csv\n",
        "requirements.txt": "--index-url https://pypi.example.invalid/simple\nscikit-learn==1.4.2\n"
                            "pkg @ https://example.invalid/pkg.whl\n",
        "notebooks/a.ipynb": json.dumps({"cells": [{"cell_type": "markdown", "metadata": {},
                                                    "source": ["![x](https://example.invalid/x.png)"]}],
                                         "metadata": {}, "nbformat": 4, "nbformat_minor": 5}),
        "pyproject.toml": "[tool.mlops-audit]\nselect = ['L0', 'L1', 'L2', 'ANY']\n",
    }, commits=2)


@pytest.mark.parametrize("fmt", ["json", "html"])
def test_no_network_and_only_read_only_git(tmp_path: Path, fmt: str) -> None:
    root = _network_repo(tmp_path / "repo")
    runner = tmp_path / "runner.py"
    runner.write_text(RUNNER, encoding="utf-8")
    log = tmp_path / "log.json"
    run = run_cli([str(log), "audit", str(root), "--format", fmt, "--diff-base", "HEAD~1"], watch=root,
                  runner=runner)
    assert run.code in (0, 1), run.stderr
    record = json.loads(log.read_text(encoding="utf-8"))
    assert record["attempts"] == []
    for command in record["commands"]:
        assert Path(command[0]).name == "git", command
        subcommand = next(part for part in command[1:] if not part.startswith("-") and "=" not in part)
        assert subcommand in READ_ONLY_GIT, command


@pytest.mark.parametrize("setting", [
    'rules = ["../outside.yaml"]',
    'rules = ["linked.yaml"]',
    'baseline = "/etc/passwd"',
    'baseline = "../outside.json"',
    'baseline = "linked.json"',
])
def test_configuration_cannot_reach_outside_the_root(tmp_path: Path, setting: str) -> None:
    """Outside files are FIFOs: opening one would block the audit until the timeout, so "never read" is observable."""
    os.mkfifo(tmp_path / "outside.yaml")
    os.mkfifo(tmp_path / "outside.json")
    root = write(tmp_path / "repo", {"pyproject.toml": f"[tool.mlops-audit]\n{setting}\n",
                                     "src/train.py": "from sklearn.svm import SVC\nSVC().fit([[0]], [0])\n"})
    (root / "linked.yaml").symlink_to(tmp_path / "outside.yaml")
    (root / "linked.json").symlink_to(tmp_path / "outside.json")
    run = run_cli(["audit", str(root)], watch=root, timeout=20)
    assert run.code == 2
    assert "outside the audited repository" in run.stderr
    assert run.stdout == ""


@pytest.mark.parametrize("name", [".mlops-audit.toml", "pyproject.toml"])
def test_configuration_file_itself_cannot_lead_outside_or_be_endless(tmp_path: Path, name: str) -> None:
    (tmp_path / "outside.toml").write_text("[tool.mlops-audit]\nselect = ['OUTSIDE_MARKER']\n", encoding="utf-8")
    root = write(tmp_path / "repo", {"src/train.py": "from sklearn.svm import SVC\nSVC().fit([[0]], [0])\n"})
    (root / name).symlink_to(tmp_path / "outside.toml")
    run = run_cli(["audit", str(root)], watch=root, timeout=20)
    assert run.code == 2 and "outside" in run.stderr and "OUTSIDE_MARKER" not in run.stderr + run.stdout
    (root / name).unlink()
    (root / name).symlink_to("/dev/zero")
    assert run_cli(["audit", str(root), "--format", "json"], watch=root, timeout=20).code in (0, 1)
    (root / name).unlink()
    with (root / name).open("wb") as handle:
        handle.truncate(3 * 2**30)
    run = run_cli(["audit", str(root)], watch=root, timeout=20)
    assert run.code == 2 and name in run.stderr


def test_scaffold_dry_run_and_diff_change_nothing_even_when_files_are_hostile(tmp_path: Path) -> None:
    root = write(tmp_path / "repo", {
        "src/train.py": "from sklearn.svm import SVC\nSVC().fit([[0]], [0])\n",
        "params.yaml": '!!python/object/apply:os.system ["touch PARAMS_MARKER"]\n',
        "requirements.txt": b"\xff\xfe not utf-8\n",
        "notebooks/train.ipynb": "[" * 100_000,
    })
    (root / ".gitignore").symlink_to("/dev/zero")
    os.mkfifo(root / ".pre-commit-config.yaml")
    with (root / "Dockerfile").open("wb") as handle:
        handle.truncate(3 * 2**30)
    for mode in ("--dry-run", "--diff"):
        run = run_cli(["scaffold", mode, "--to-level", "2", str(root)], watch=root, cwd=root, timeout=30)
        assert run.code in (0, 1), run.stderr
    assert not (root / "PARAMS_MARKER").exists()


def test_names_the_scaffold_renders_with_are_values_never_templates(tmp_path: Path) -> None:
    """The dataset path and the notebook folders go into the scaffold's templates (the DVC stage, the CI job) as
    values: they appear as written, quoted where YAML needs it, and nothing in them is evaluated."""
    root = write(tmp_path / "repo", {
        "src/train.py": "import pandas as pd\nfrom sklearn.svm import SVC\nSVC().fit(pd.read_csv('x.csv'), [0])\n",
        f"data/{JINJA_NAME}.csv": "a,b\n1,2\n",
        f"nb_{JINJA_FOLDER}/explore.ipynb": json.dumps({"cells": [], "metadata": {}, "nbformat": 4,
                                                          "nbformat_minor": 5}),
    })
    for command in (["scaffold", "--diff", str(root)], ["scaffold", "--diff", "--to-level", "2", str(root)]):
        run = run_cli(command, watch=root, cwd=root)
        assert run.code == 0, run.stderr
        assert f"data/{JINJA_NAME}.csv" in run.stdout and f"nb_{JINJA_FOLDER}" in run.stdout
    assert not list(root.glob("*_MARKER"))


def _pack(**fields: object) -> str:
    """A rule pack of one valid rule (which fails on any repository without `nothing-here`), with `fields` over it."""
    rule = {"id": "X-SEC-01", "slug": "hostile-pack-rule", "title": "A rule", "level": "any", "category": "SEC",
            "weight": 1, "gate": False, "confidence": "B", "rationale": "r", "source": "s",
            "check": {"file": "nothing-here"}, "remediation": "r",
            "examples": {"pass": [{"files": {"nothing-here": "x"}}], "fail": [{"files": {"a": "b"}}]}}
    return yaml.safe_dump({"pack": "hostile", "rules": [{**rule, **fields}]}, sort_keys=False)


def test_rule_packs_with_python_tags_are_rejected_and_never_run(tmp_path: Path) -> None:
    """A pack can come with the repository (`rules = [...]` in its configuration) or from the command line: a
    `!!python/...` tag in it is a configuration error (exit 2, naming the pack), never a constructor that runs."""
    marker = tmp_path / "PACK_MARKER"
    tagged = f'pack: evil\nrules: !!python/object/apply:os.system ["touch {marker}"]\nextra: !!python/name:os.system\n'
    root = write(tmp_path / "repo", {"src/train.py": "from sklearn.svm import SVC\nSVC().fit([[0]], [0])\n",
                                     "packs/evil.yaml": tagged})
    configured = write(tmp_path / "configured", {"src/train.py": "import sklearn\n", "packs/evil.yaml": tagged,
                                                 "pyproject.toml": "[tool.mlops-audit]\nrules = ['packs/evil.yaml']\n"})
    for command, folder in ((["audit", str(configured)], configured), (["lint", "src/train.py"], configured),
                            (["audit", str(root), "--rules", "packs/evil.yaml"], root),
                            (["explain", "X-SEC-01", "--rules", "packs/evil.yaml"], root)):
        run = run_cli(command, watch=folder, cwd=folder)
        assert run.code == 2 and "evil.yaml" in run.stderr, (command, run.stderr)
    assert not marker.exists()


def test_text_of_a_pack_is_shown_as_written_never_rendered(tmp_path: Path) -> None:
    """Packs hold no templates: the scaffold renders only its own, in a sandbox, and a pack's `scaffold` names one
    of them or none. Jinja in a pack's title, remediation or messages is text, in the report and in `explain`."""
    jinja = "{{ cycler.__init__.__globals__.os.system('touch PACK_JINJA_MARKER') }}"
    root = write(tmp_path / "repo", {
        "src/train.py": "from sklearn.svm import SVC\nSVC().fit([[0]], [0])\n",
        "packs/texts.yaml": _pack(title=f"Title {jinja}", remediation=f"Fix {jinja}",
                                  messages={"fail": f"Failed {jinja}"}),
        "pyproject.toml": "[tool.mlops-audit]\nrules = ['packs/texts.yaml']\n",
    })
    report = audit_json(root, "--select", "X-SEC-01", cwd=root)
    finding = next(f for f in report["findings"] if f["id"] == "X-SEC-01")
    halved = jinja.replace("{{", "{").replace("}}", "}")  # messages are format strings: `{{` is a literal brace
    assert finding["outcome"] == "fail" and finding["message"] == f"Failed {halved}"
    explained = run_cli(["explain", "X-SEC-01", "--rules", "packs/texts.yaml"], watch=root, cwd=root)
    assert f"Title {jinja}" in explained.stdout and f"Fix {jinja}" in explained.stdout
    assert not list(root.glob("*MARKER")) and not list(tmp_path.glob("*MARKER"))


def test_the_scaffold_renders_only_its_own_templates_in_a_sandbox() -> None:
    """The only Jinja environment: sandboxed (no attribute escapes), loading the scaffold's own templates only."""
    env = scaffold_templates.environment()
    assert isinstance(env, SandboxedEnvironment)
    assert [Path(p) for p in env.loader.searchpath] == [scaffold_templates.TEMPLATES_DIR]  # type: ignore[union-attr]
    for escape in ("{{ cycler.__init__.__globals__.os.system('true') }}",
                   "{{ ''.__class__.__mro__[1].__subclasses__() }}",
                   "{{ lipsum.__globals__['os'].popen('true').read() }}"):
        with pytest.raises(SecurityError):
            env.from_string(escape).render()
    with pytest.raises(TemplateNotFound):
        env.get_template("/etc/passwd")
    with pytest.raises(TemplateNotFound):
        env.get_template("../../../../etc/passwd")


@pytest.mark.parametrize("message", ["{nope}", "lone { brace", 5, "{count:>2000000000}"])
def test_a_pack_message_is_never_a_way_to_crash_the_audit(tmp_path: Path, message: object) -> None:
    """Messages are format strings over `{title}`, `{detail}` and `{count}`. An unknown field, a lone brace, a
    message that is no text, or a width of two billion is a configuration error naming the pack (exit 2) or is
    shown harmlessly: never an internal error, never a message gigabytes long."""
    root = write(tmp_path / "repo", {"src/train.py": "from sklearn.svm import SVC\nSVC().fit([[0]], [0])\n",
                                     "packs/messages.yaml": _pack(messages={"fail": message}),
                                     "pyproject.toml": "[tool.mlops-audit]\nrules = ['packs/messages.yaml']\n"})
    run = run_cli(["audit", str(root), "--format", "json"], watch=root, timeout=30)
    if run.code == 2:
        assert "messages.yaml" in run.stderr, run.stderr
    else:
        assert len(run.stdout) < 2**20
