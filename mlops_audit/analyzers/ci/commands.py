"""What a CI command does: a pure classifier from command text (or an action / task / orb reference) to kinds.

A command line is split into shell segments (`&&`, `||`, `;`, `|`); each segment is unwrapped from runners
(`uv run`, `poetry run`, `conda run -n env`, `sudo`, `env X=1`, `docker run image ...`) and judged by the
program it runs. Scripts and make/tox/nox targets are judged by the words of their names (`train_model.py`,
`make deploy`). Words a command merely prints or passes as arguments (`echo train`) count for nothing.
"""

from __future__ import annotations

import functools
import re
import shlex
from pathlib import PurePosixPath
from typing import Callable

__all__ = ["classify_command", "classify_task", "classify_uses", "name_kinds", "split_script"]

Handler = Callable[[list[str], list[str], int], set[str]]  # (positional words, all args, depth) -> kinds

MAX_DEPTH = 3  # nested `bash -c "..."` / `docker run ... cmd` levels followed

PYTHON_RE = re.compile(r"^(?:python(?:\d+(?:\.\d+)?)?|py|pypy3?|ipython)$")
SEPARATORS = frozenset({"&&", "||", ";", "|", "&", ";;", "|&"})
ASSIGNMENT_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")
WORD_RE = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])|\d+")

# Runners that run the command that follows them, with the options of theirs that take a value.
RUNNERS: dict[tuple[str, ...], frozenset[str]] = {
    ("uv", "run"): frozenset({"--with", "--python", "-p", "--extra", "--group", "--package", "--env-file",
                              "--directory", "--project", "--index", "--with-requirements"}),
    ("uvx",): frozenset({"--with", "--from", "--python", "-p"}),
    ("npx",): frozenset({"-p", "--package", "-c", "--call"}),
    ("pipx", "run"): frozenset({"--spec", "--python"}),
    ("poetry", "run"): frozenset(),
    ("pipenv", "run"): frozenset(),
    ("pdm", "run"): frozenset(),
    ("rye", "run"): frozenset(),
    ("hatch", "run"): frozenset(),
    ("pixi", "run"): frozenset({"-e", "--environment", "--manifest-path"}),
    ("conda", "run"): frozenset({"-n", "--name", "-p", "--prefix", "--cwd"}),
    ("mamba", "run"): frozenset({"-n", "--name", "-p", "--prefix", "--cwd"}),
    ("micromamba", "run"): frozenset({"-n", "--name", "-p", "--prefix", "--cwd"}),
    ("sudo",): frozenset({"-u", "-g"}),
    ("env",): frozenset({"-u"}),
    ("time",): frozenset(),
    ("nohup",): frozenset(),
    ("exec",): frozenset(),
    ("nice",): frozenset({"-n"}),
    ("xvfb-run",): frozenset({"-s", "--server-args", "-n"}),
    ("dotenv", "run"): frozenset(),
}
SHELLS = frozenset({"bash", "sh", "zsh", "dash", "source", ".", "pwsh", "powershell"})
TASK_RUNNERS = frozenset({"make", "gmake", "just", "task", "invoke", "inv", "poe", "npm", "yarn", "pnpm"})
TASK_RUNNER_VALUE_OPTIONS = frozenset({"-C", "-f", "--file", "--directory", "-j", "--makefile", "--justfile"})
NOTHING = frozenset({"echo", "printf", "cat", "export", "set", "cd", "ls", "mkdir", "rm", "cp", "mv", "true",
                     "false", "exit", "test", "[", "[[", "sleep", "tee", "grep", "sed", "awk", "curl", "wget",
                     "git", "chmod", "chown", "touch", "ln", "tar", "unzip", "apt-get", "apt", "yum", "apk",
                     "brew", "choco", "pip", "pip3", "conda", "mamba", "micromamba", "write-host", "echo.",
                     "uvicorn", "gunicorn", "streamlit", "jupyter-lab", "tensorboard"})
LINTERS = frozenset({"ruff", "flake8", "black", "mypy", "pylint", "isort", "pyright", "pydocstyle",
                     "pycodestyle", "yamllint", "hadolint", "shellcheck", "nbqa", "sqlfluff", "bandit",
                     "codespell", "autopep8", "yapf", "pyflakes", "interrogate", "pre-commit", "prek",
                     "blackdoc", "docformatter", "vulture", "semgrep", "pip-audit", "safety"})
TEST_RUNNERS = frozenset({"pytest", "py.test", "nosetests", "nose2", "ward", "unittest"})
LINT_MODULES = LINTERS | {"pre_commit", "pip_audit"}
NOTEBOOK_EXECUTORS = frozenset({"papermill", "treon"})
GENERIC_NAMES = frozenset({"main", "__main__", "cli", "run", "app", "entrypoint", "script", "scripts", "src",
                           "index", "start"})

# Name words (of scripts, modules, make targets, tox envs) and the kind each signals.
WORD_KINDS: dict[str, str] = {
    **dict.fromkeys(("train", "training", "retrain", "retraining", "fit", "finetune", "tune", "tuning", "hpo",
                     "experiment", "experiments"), "train"),
    **dict.fromkeys(("evaluate", "evaluation", "eval", "evals"), "evaluate"),
    **dict.fromkeys(("test", "tests", "testing", "unittest", "unittests", "pytest"), "test"),
    **dict.fromkeys(("lint", "linting", "linter", "format", "fmt", "typecheck", "mypy", "ruff", "flake8",
                     "pylint", "black", "isort", "style", "precommit"), "lint"),
    **dict.fromkeys(("build", "compile", "package"), "build"),
    **dict.fromkeys(("publish", "push", "upload"), "publish"),
    **dict.fromkeys(("deploy", "deployment", "rollout"), "deploy"),
    **dict.fromkeys(("infra", "infrastructure", "terraform", "provision"), "infra"),
}
DATA_WORDS = frozenset({"data", "dataset", "datasets"})
DATA_CHECK_WORDS = frozenset({"test", "tests", "validate", "validation", "check", "checks", "expectations",
                              "quality"})
NOTEBOOK_WORDS = frozenset({"notebook", "notebooks", "nb", "nbs", "ipynb"})
DATA_TOOL_RE = re.compile(
    r"\bgreat[_-]expectations\b|\bgx\s+checkpoint\b|\bsoda\s+scan\b|\bpandera\b", re.IGNORECASE
)


@functools.lru_cache(maxsize=1 << 14)  # the same commands are read in every view of a monorepo
def classify_command(text: str, depth: int = 0) -> tuple[str, ...]:
    """The sorted kinds of one command line (possibly several shell segments)."""
    kinds: set[str] = set()
    for segment in _segments(text):
        kinds |= _segment_kinds(segment, depth)
        if DATA_TOOL_RE.search(" ".join(segment)) and not _installs_or_prints(segment):
            kinds |= {"data_test", "test"}
    return tuple(sorted(kinds))


def _installs_or_prints(segment: list[str]) -> bool:
    """`pip install great_expectations`, `echo pandera`: a tool named, not run."""
    head = _unwrap(segment)[:1]
    return not head or _program(head[0]) in NOTHING or _program(head[0]).startswith("pip")


def _segments(text: str) -> list[list[str]]:
    lexer = shlex.shlex(text, posix=True, punctuation_chars=";&|")
    lexer.whitespace_split = True
    lexer.commenters = ""
    try:
        tokens = list(lexer)
    except ValueError:  # unbalanced quotes: fall back to plain words
        tokens = text.split()
    segments: list[list[str]] = [[]]
    for token in tokens:
        if token.startswith("#"):
            break
        if token in SEPARATORS:
            segments.append([])
        else:
            segments[-1].append(token)
    return [segment for segment in segments if segment]


def _program(token: str) -> str:
    """`/usr/bin/python3.exe` -> `python3`; `gcr.io/cloud-builders/docker:latest` -> `docker`."""
    name = token.replace("\\", "/").rsplit("/", 1)[-1].lower()
    name = name.split("@", 1)[0].split(":", 1)[0]
    return name[:-4] if name.endswith(".exe") else name


def _unwrap(tokens: list[str]) -> list[str]:
    """Drop environment assignments and runner prefixes until the program that does the work."""
    for _ in range(8):
        while tokens and ASSIGNMENT_RE.match(tokens[0]):
            tokens = tokens[1:]
        stripped = _strip_runner(tokens)
        if stripped is tokens:
            return tokens
        tokens = stripped
    return tokens


def _strip_runner(tokens: list[str]) -> list[str]:
    if not tokens:
        return tokens
    words = [_program(tokens[0])] + [t.lower() for t in tokens[1:2]]
    for prefix, value_options in RUNNERS.items():
        if tuple(words[: len(prefix)]) == prefix:
            return _skip_options(tokens[len(prefix):], value_options)
    if words[0] == "timeout" and len(tokens) > 1:
        return _skip_options(tokens[1:], frozenset({"-s", "-k", "--signal"}))[1:]
    if words[0] == "coverage" and words[1:] == ["run"]:
        return ["python", *_skip_options(tokens[2:], frozenset({"--rcfile", "--source", "--omit", "--include"}))]
    return tokens


def _skip_options(tokens: list[str], value_options: frozenset[str]) -> list[str]:
    index = 0
    while index < len(tokens) and tokens[index].startswith("-"):
        index += 2 if tokens[index] in value_options else 1
    return tokens[index:]


def _segment_kinds(segment: list[str], depth: int) -> set[str]:
    tokens = _unwrap(segment)
    if not tokens:
        return set()
    program = _program(tokens[0])
    args = tokens[1:]
    words = [a.lower() for a in args if not a.startswith("-")]
    if PYTHON_RE.match(program):
        return _python_kinds(args, depth)
    if program in SHELLS:
        return _shell_kinds(args, depth)
    if program in TEST_RUNNERS:
        return _pytest_kinds(args)
    if program in LINTERS:
        return {"lint"} if program != "pre-commit" or "install" not in words[:1] else set()
    if program in NOTEBOOK_EXECUTORS:
        return {"notebook_test"} | ({"train"} & name_kinds(" ".join(words[:1])))
    if program in TASK_RUNNERS:
        return _target_kinds(args)
    if program in ("tox", "nox"):
        return _session_kinds(args)
    if program in NOTHING or program.startswith("pip"):
        return {"build"} if program.startswith("pip") and words[:1] == ["wheel"] else set()
    handler = PROGRAMS.get(program)
    if handler is not None:
        return handler(words, args, depth)
    return name_kinds(_script_stem(tokens[0]))


def _python_kinds(args: list[str], depth: int) -> set[str]:
    index = 0
    while index < len(args) and args[index].startswith("-") and args[index] not in ("-m", "-c"):
        index += 2 if args[index] in ("-W", "-X") else 1
    rest = args[index:]
    if not rest or rest[0] == "-c":
        return set()
    if rest[0] == "-m":
        return _module_kinds(rest[1:], depth) if len(rest) > 1 else set()
    script, script_args = rest[0], [a.lower() for a in rest[1:]]
    stem = _script_stem(script)
    if PurePosixPath(script.replace("\\", "/")).name == "setup.py":
        return _setup_py_kinds(script_args)
    kinds = name_kinds(stem)
    if "flow" in _words(stem) and "run" in script_args:  # Metaflow: `python flow.py run`
        kinds.add("train")
    if not kinds and any(a in ("argo-workflows", "step-functions", "airflow") for a in script_args):
        kinds.add("deploy")
    if not kinds:
        kinds = set().union(*(name_kinds(mode) for mode in _script_modes(script_args)))
    return kinds


MODE_OPTIONS = ("--mode", "--action", "--task", "--step", "--stage", "--command")


def _script_modes(args: list[str]) -> list[str]:
    """What a generic script is asked to do: a leading subcommand word or a `--mode` value.

    `python build/utils.py --mode deploy-model` deploys; `python cli.py train` trains. Paths and file names are
    not modes (`python run.py data/train.csv` says nothing).
    """
    modes = [value for option, value in zip(args, args[1:]) if option in MODE_OPTIONS]
    modes += [arg.split("=", 1)[1] for arg in args if arg.startswith(tuple(o + "=" for o in MODE_OPTIONS))]
    if args and not args[0].startswith("-") and "/" not in args[0] and "." not in args[0]:
        modes.append(args[0])
    return modes


def _setup_py_kinds(args: list[str]) -> set[str]:
    if any(a in ("sdist", "bdist_wheel", "bdist", "build") for a in args):
        return {"build"}
    return {"test"} if "test" in args else set()


def _module_kinds(rest: list[str], depth: int) -> set[str]:
    module, args = rest[0], rest[1:]
    top = module.split(".", 1)[0].lower()
    if top in TEST_RUNNERS:
        return _pytest_kinds(args)
    if top in LINT_MODULES:
        return {"lint"}
    if top in NOTEBOOK_EXECUTORS:
        return {"notebook_test"}
    if top == "pip":
        return {"build"} if args[:1] == ["wheel"] else set()
    if top == "build":
        return {"build"}
    if top in ("twine", "kfp", "dvc", "mlflow", "kedro", "zenml", "great_expectations"):
        return _segment_kinds([top, *args], depth)
    parts = [p for p in module.split(".") if p]
    stem = parts[-1] if parts else ""
    if stem in GENERIC_NAMES and len(parts) > 1:
        stem = parts[-2]
    if "tests" in parts or "test" in parts:
        return {"test"} | _data_or_notebook(parts)
    return name_kinds(stem)


def _script_stem(script: str) -> str:
    """The name that says what a script does: its stem, or its folder's when the stem is generic."""
    path = PurePosixPath(script.replace("\\", "/"))
    stem = path.stem
    if stem.lower() in GENERIC_NAMES and path.parent.name:
        return path.parent.name
    return stem


def _words(name: str) -> list[str]:
    return [w.lower() for w in WORD_RE.findall(name)]


def name_kinds(name: str) -> set[str]:
    """Kinds signalled by a script, module, target or job name (`train_model`, `test-notebooks`, `deploy`)."""
    words = _words(name)
    joined = "".join(words)
    words += [compound for compound in ("finetune", "precommit") if compound in joined]
    kinds = {WORD_KINDS[w] for w in words if w in WORD_KINDS}
    if "run" in words and ("pipeline" in words or "pipelines" in words) or "flow" in words and "run" in words:
        kinds.add("train")
    if "test" in kinds or DATA_WORDS & set(words) and DATA_CHECK_WORDS & set(words):
        return {"test"} | _data_or_notebook(words)
    return kinds


def _data_or_notebook(words: list[str]) -> set[str]:
    lowered = {w.lower() for w in words}
    if NOTEBOOK_WORDS & lowered:
        return {"notebook_test"}
    if DATA_WORDS & lowered:
        return {"data_test"}
    return set()


def _pytest_kinds(args: list[str]) -> set[str]:
    lowered = [a.lower() for a in args]
    if any(a.startswith(("--nbmake", "--nbval")) for a in lowered) or any(
        a.endswith(".ipynb") for a in lowered
    ):
        return {"notebook_test"}
    positional = [a for a in lowered if not a.startswith("-")]
    if any("data" in _words(a) for a in positional):
        return {"test", "data_test"}
    return {"test"}


def _shell_kinds(args: list[str], depth: int) -> set[str]:
    if "-c" in args or "-command" in [a.lower() for a in args]:
        index = max(i for i, a in enumerate(args) if a.lower() in ("-c", "-command"))
        if index + 1 < len(args) and depth < MAX_DEPTH:
            return set(classify_command(args[index + 1], depth + 1))
        return set()
    scripts = [a for a in args if not a.startswith("-")]
    return name_kinds(_script_stem(scripts[0])) if scripts else set()


def _target_kinds(args: list[str]) -> set[str]:
    """`make train deploy`, `just test`, `npm run lint`: kinds of the named targets."""
    targets = _skip_options(args, TASK_RUNNER_VALUE_OPTIONS)
    kinds: set[str] = set()
    for target in targets:
        if target.startswith("-") or "=" in target or target == "run":
            continue
        target_kinds = name_kinds(target)
        if not target_kinds and "docker" in _words(target):  # `make docker`
            target_kinds = {"build"}
        kinds |= target_kinds
    return kinds


def _session_kinds(args: list[str]) -> set[str]:
    """`tox`, `tox -e lint`, `nox -s tests-3.11`: named sessions by name, the default run as tests."""
    names: list[str] = []
    for index, arg in enumerate(args):
        if arg in ("-e", "-s", "--session", "--sessions", "-f") and index + 1 < len(args):
            names.extend(args[index + 1].split(","))
        elif arg.startswith("-e") and len(arg) > 2:
            names.extend(arg[2:].split(","))
    if not names:
        return {"test"}
    kinds: set[str] = set()
    for name in names:
        kinds |= name_kinds(name) or ({"test"} if re.fullmatch(r"py\d*|py\d+-?\w*|all", name) else set())
    return kinds


def _sub(words: list[str], *sub: str) -> bool:
    """The positional words begin with `sub` (`docker buildx build` -> ("buildx", "build"))."""
    return tuple(words[: len(sub)]) == sub


def _docker(words: list[str], args: list[str], depth: int) -> set[str]:
    if _sub(words, "compose"):
        words = words[1:]
    kinds: set[str] = set()
    if _sub(words, "build") or _sub(words, "buildx", "build") or _sub(words, "image", "build") or _sub(
        words, "buildx", "bake"
    ):
        kinds.add("build")
        if "--push" in args:
            kinds.add("publish")
    elif _sub(words, "push") or _sub(words, "image", "push") or _sub(words, "manifest", "push"):
        kinds.add("publish")
    elif words[:1] in (["run"], ["exec"]) and depth < MAX_DEPTH:
        kinds |= _nested(args, depth)
    return kinds


def _nested(args: list[str], depth: int) -> set[str]:
    """The command a container runs: from the first token that is a known program (python, pytest, dvc…)."""
    for index, token in enumerate(args):
        program = _program(token)
        if PYTHON_RE.match(program) or program in TEST_RUNNERS or program in PROGRAMS or program in SHELLS:
            return set(classify_command(shlex.join(args[index:]), depth + 1))
    return set()


def _dvc(words: list[str], args: list[str], depth: int) -> set[str]:
    if _sub(words, "repro") or _sub(words, "exp", "run") or _sub(words, "run"):
        return {"train"}
    if _sub(words, "metrics", "diff") or _sub(words, "plots", "diff") or _sub(words, "metrics", "show"):
        return {"evaluate"}
    return set()


def _kubectl(words: list[str], args: list[str], depth: int) -> set[str]:
    verbs = ("apply", "create", "replace", "set", "rollout", "patch", "scale")
    return {"deploy"} if words[:1] and words[0] in verbs else set()


def _helm(words: list[str], args: list[str], depth: int) -> set[str]:
    return {"deploy"} if words[:1] and words[0] in ("upgrade", "install", "rollback") else set()


def _iac(apply_verbs: tuple[str, ...]) -> Handler:
    def handler(words: list[str], args: list[str], depth: int) -> set[str]:
        return {"infra", "deploy"} if set(words[:2]) & set(apply_verbs) else {"infra"}

    return handler


def _verb(verb_kinds: dict[tuple[str, ...], set[str]]) -> Handler:
    def handler(words: list[str], args: list[str], depth: int) -> set[str]:
        for sub, kinds in verb_kinds.items():
            if _sub(words, *sub):
                return set(kinds)
        return set()

    return handler


def _gcloud(words: list[str], args: list[str], depth: int) -> set[str]:
    words = [w for w in words if w not in ("alpha", "beta")]
    if _sub(words, "builds", "submit"):
        return {"build"}
    if _sub(words, "ai", "custom-jobs", "create") or _sub(words, "ai", "hp-tuning-jobs", "create") or _sub(
        words, "ai-platform", "jobs", "submit", "training"
    ) or _sub(words, "ai", "pipelines"):
        return {"train"}
    if _sub(words, "ai", "models", "upload"):
        return {"publish"}
    if "deploy" in words or "deploy-model" in words or _sub(words, "run", "services", "update") or _sub(
        words, "run", "services", "replace"
    ):
        return {"deploy"}
    if _sub(words, "artifacts", "docker", "images", "push"):
        return {"publish"}
    return set()


def _aws(words: list[str], args: list[str], depth: int) -> set[str]:
    if _sub(words, "sagemaker"):
        action = words[1] if len(words) > 1 else ""
        if action in ("start-pipeline-execution", "create-training-job", "create-hyper-parameter-tuning-job",
                      "create-processing-job"):
            return {"train"}
        if action in ("create-endpoint", "update-endpoint", "update-endpoint-weights-and-capacities"):
            return {"deploy"}
        if action in ("create-model-package",):
            return {"publish"}
        return set()
    if _sub(words, "cloudformation", "deploy") or _sub(words, "cloudformation", "create-stack") or _sub(
        words, "cloudformation", "update-stack"
    ):
        return {"infra", "deploy"}
    if _sub(words, "ecs", "update-service") or _sub(words, "lambda", "update-function-code") or _sub(
        words, "deploy", "create-deployment"
    ):
        return {"deploy"}
    return set()


def _az(words: list[str], args: list[str], depth: int) -> set[str]:
    if _sub(words, "ml", "job", "create") or _sub(words, "ml", "job", "submit"):
        return {"train"}
    if _sub(words, "ml") and len(words) > 2 and words[1] in (
        "online-deployment", "online-endpoint", "batch-deployment", "batch-endpoint"
    ) and words[2] in ("create", "update"):
        return {"deploy"}
    if _sub(words, "ml", "model", "create") or _sub(words, "ml", "model", "register"):
        return {"publish"}
    if _sub(words, "acr", "build"):
        return {"build", "publish"}
    if _sub(words, "deployment"):
        return {"infra", "deploy"} if "create" in words else {"infra"}
    if words[:1] and words[0] in ("webapp", "containerapp", "functionapp", "aks") and (
        {"deploy", "up", "update", "create"} & set(words[1:3])
    ):
        return {"deploy"}
    return set()


PROGRAMS: dict[str, Handler] = {
    "docker": _docker,
    "podman": _docker,
    "docker-compose": lambda w, a, d: _docker(["compose", *w], a, d),
    "dvc": _dvc,
    "kubectl": _kubectl,
    "oc": _kubectl,
    "helm": _helm,
    "terraform": _iac(("apply",)),
    "tofu": _iac(("apply",)),
    "terragrunt": _iac(("apply", "run-all")),
    "pulumi": _iac(("up",)),
    "cdk": lambda w, a, d: _iac(("deploy",))(w, a, d) | ({"build"} if w[:1] == ["synth"] else set()),
    "anyscale": _verb({("job", "submit"): {"train"}, ("jobs", "submit"): {"train"},
                       ("service", "rollout"): {"deploy"}, ("service", "deploy"): {"deploy"}}),
    "ray": _verb({("job", "submit"): {"train"}}),
    "sam": _verb({("deploy",): {"deploy", "infra"}, ("build",): {"build"}}),
    "serverless": _verb({("deploy",): {"deploy"}}),
    "sls": _verb({("deploy",): {"deploy"}}),
    "gcloud": _gcloud,
    "aws": _aws,
    "az": _az,
    "kedro": _verb({("run",): {"train"}, ("package",): {"build"}}),
    "mlflow": _verb({("run",): {"train"}, ("models", "build-docker"): {"build"},
                     ("deployments", "create"): {"deploy"}, ("deployments", "update"): {"deploy"}}),
    "zenml": _verb({("pipeline", "run"): {"train"}}),
    "prefect": _verb({("deployment", "run"): {"train"}, ("deploy",): {"deploy"}, ("deployment", "apply"):
                      {"deploy"}}),
    "kfp": _verb({("dsl", "compile"): {"build"}, ("compile",): {"build"}, ("run",): {"train"},
                  ("pipeline", "upload"): {"deploy"}, ("pipeline", "create"): {"deploy"}}),
    "dsl-compile": lambda w, a, d: {"build"},
    "databricks": _verb({("bundle", "deploy"): {"deploy"}, ("bundle", "run"): {"train"},
                         ("jobs", "run-now"): {"train"}}),
    "great_expectations": lambda w, a, d: {"data_test", "test"},
    "gx": lambda w, a, d: {"data_test", "test"} if w[:1] == ["checkpoint"] else set(),
    "soda": lambda w, a, d: {"data_test", "test"} if w[:1] == ["scan"] else set(),
    "jupyter": lambda w, a, d: {"notebook_test"} if w[:1] == ["execute"] or "--execute" in a else set(),
    "twine": _verb({("upload",): {"publish"}}),
    "poetry": _verb({("build",): {"build"}, ("publish",): {"publish"}}),
    "uv": _verb({("build",): {"build"}, ("publish",): {"publish"}}),
    "hatch": _verb({("build",): {"build"}, ("publish",): {"publish"}, ("test",): {"test"}}),
    "flit": _verb({("build",): {"build"}, ("publish",): {"publish"}}),
    "pdm": _verb({("build",): {"build"}, ("publish",): {"publish"}}),
    "buildah": _verb({("bud",): {"build"}, ("build",): {"build"}, ("push",): {"publish"}}),
    "executor": lambda w, a, d: {"build"} if "--no-push" in a else {"build", "publish"},  # kaniko
    "pack": _verb({("build",): {"build"}}),
    "bentoml": _verb({("build",): {"build"}, ("containerize",): {"build"}, ("push",): {"publish"},
                      ("deploy",): {"deploy"}}),
    "skopeo": _verb({("copy",): {"publish"}}),
    "crane": _verb({("push",): {"publish"}, ("copy",): {"publish"}}),
    "skaffold": _verb({("run",): {"build", "deploy"}, ("deploy",): {"deploy"}, ("build",): {"build"}}),
    "argocd": _verb({("app", "sync"): {"deploy"}}),
    "helmfile": _verb({("apply",): {"deploy"}, ("sync",): {"deploy"}}),
    "kustomize": lambda w, a, d: set(),
    "modal": _verb({("deploy",): {"deploy"}, ("run",): set()}),
    "fly": _verb({("deploy",): {"deploy"}}),
    "flyctl": _verb({("deploy",): {"deploy"}}),
    "heroku": _verb({("container:release",): {"deploy"}, ("container:push",): {"publish"}}),
    "cml": lambda w, a, d: set(),
}

# Actions (GitHub), pipes (Bitbucket), orb jobs (CircleCI) and tasks (Azure) whose name tells what they do.
USES_KINDS: tuple[tuple[re.Pattern[str], tuple[str, ...]], ...] = tuple(
    (re.compile(pattern), kinds)
    for pattern, kinds in (
        (r"^docker/(build-push-action|bake-action)$", ("build",)),
        (r"^pypa/gh-action-pypi-publish$", ("publish",)),
        (r"^(pre-commit/action|psf/black|(chartboost|astral-sh)/ruff-action|py-actions/flake8)$", ("lint",)),
        (r"great[_-]expectations", ("data_test", "test")),
        (r"nbmake", ("notebook_test",)),
        (r"^hashicorp/setup-terraform$", ("infra",)),
        (r"^pulumi/actions$", ("infra",)),
        (r"^azure/arm-deploy$|cloudformation", ("infra", "deploy")),
        (r"deploy", ("deploy",)),
        (r"build-and-push|build_and_push|push-image|ecr/build", ("build", "publish")),
        (r"(^|/)lint|-lint$", ("lint",)),
    )
)
AZURE_TASK_KINDS = {
    "kubernetesmanifest": ("deploy",), "kubernetes": ("deploy",), "helmdeploy": ("deploy",),
    "azurewebapp": ("deploy",), "azurermwebappdeployment": ("deploy",), "azurefunctionapp": ("deploy",),
    "azurecontainerapps": ("deploy",), "azureresourcemanagertemplatedeployment": ("infra", "deploy"),
    "terraformtaskv4": ("infra",), "terraformtaskv3": ("infra",), "terraform": ("infra",),
    "twineauthenticate": (), "publishtestresults": (), "usepythonversion": (),
}


def classify_uses(ref: str, inputs: object = None) -> tuple[str, ...]:
    """Kinds of an action, pipe or orb job reference (`docker/build-push-action@v5`, `atlassian/aws-ecs-deploy:1.0`),
    given its `with:` / `variables:` mapping."""
    inputs = inputs if isinstance(inputs, dict) else {}
    name = ref.strip().lower()
    if name.startswith(("docker://", "./", "../")):
        return ()
    name = name.split("@", 1)[0].split(":", 1)[0]
    for pattern, kinds in USES_KINDS:
        if pattern.search(name):
            extra = _push_input(name, inputs)
            return tuple(sorted(set(kinds) | extra))
    return ()


def _push_input(name: str, inputs: dict[object, object]) -> set[str]:
    """docker/build-push-action publishes only with `push:` set (true or an expression)."""
    if not name.startswith("docker/"):
        return set()
    push = inputs.get("push")
    return {"publish"} if push not in (None, False, "false", "False", "") else set()


def classify_task(ref: str, inputs: object = None) -> tuple[str, ...]:
    """Kinds of an Azure Pipelines task (`Docker@2` with `command: buildAndPush`, `HelmDeploy@0`)."""
    inputs = inputs if isinstance(inputs, dict) else {}
    task = ref.strip().lower().split("@", 1)[0]
    command = str(inputs.get("command", inputs.get("action", ""))).lower()
    if task == "docker":
        kinds = {"build"} if "build" in command else set()
        return tuple(sorted(kinds | ({"publish"} if "push" in command else set())))
    if task.startswith("terraform") and "apply" in command:
        return ("deploy", "infra")
    if task == "helmdeploy" and command not in ("upgrade", "install", ""):
        return ()
    if task in AZURE_TASK_KINDS:
        return AZURE_TASK_KINDS[task]
    return ("deploy",) if "deploy" in task else ()


HEREDOC_RE = re.compile(r"<<-?\s*(['\"]?)([A-Za-z_][A-Za-z0-9_]*)\1(?![.\w])")  # not CircleCI `<< a.b >>`


def split_script(text: str, line: int | None, literal: bool = True) -> list[tuple[str, int | None]]:
    """Commands of a multi-line script with their lines: one per line, backslash continuations joined,
    blank lines, comments and here-document bodies skipped. Without a literal block all share `line`."""
    commands: list[tuple[str, int | None]] = []
    pending: list[str] = []
    start: int | None = line
    heredoc: str | None = None
    for offset, raw in enumerate(text.splitlines()):
        here = line + offset if line is not None and literal else line
        stripped = raw.strip()
        if heredoc is not None:
            heredoc = None if stripped == heredoc else heredoc
            continue
        if not pending:
            if not stripped or stripped.startswith("#"):
                continue
            start = here
        continues = stripped.endswith(("\\", "`")) and not stripped.endswith("\\\\")
        pending.append(stripped[:-1].strip() if continues else stripped)
        if continues:
            continue
        command = " ".join(part for part in pending if part)
        pending = []
        match = HEREDOC_RE.search(command)
        if match and "<<<" not in command:
            heredoc = match.group(2)
        commands.append((command, start))
    if pending:
        commands.append((" ".join(part for part in pending if part), start))
    return commands
