"""Assessments for the CI report formats: the bundled fixtures audited for real, hand-built ones, hostile ones.

Golden files live in `golden/`; `UPDATE_GOLDEN=1 python -m pytest tests/reporters` rewrites them.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import strategies as st

from mlops_audit.audit import run_audit
from mlops_audit.model import (
    Assessment,
    DetectedTool,
    Evidence,
    Finding,
    LevelScore,
    Note,
    Outcome,
    ProjectResult,
    Rule,
)
from mlops_audit.testing import make_assessment, make_repo, make_rule

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
FIXTURE_NAMES = ("level0-notebook-churn", "level1-dvc-pipeline", "level2-cicd-platform")
GOLDEN = Path(__file__).resolve().parent / "golden"

# Text that would be markup, HTML, a link, a mention, a workflow command or broken XML if copied raw.
HOSTILE_PATH = "docs/<script>alert(1)</script>](javascript:alert(1)) |x| `t` @octocat #1 100%.py"
HOSTILE_SNIPPET = "x = '<img src=x onerror=alert(1)>'\x1b[31m\x00\x0b bad \udc80\n::error::injected"
HOSTILE_MESSAGE = "Ping @octocat, [see](javascript:alert(1)) | a | `code` ${{ secrets.T }} %0A\r\n::set-env name=X::1"


def fixture_repo(name: str, root: Path) -> Path:
    """A copy of the fixture as a git repository with a short history."""
    target = root / name
    shutil.copytree(FIXTURES / name, target)
    return make_repo(target, {}, commits=3)


@pytest.fixture(scope="session")
def audited(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Assessment]:
    """Each bundled fixture audited, its root shown as its name."""
    root = tmp_path_factory.mktemp("fixtures")
    return {name: run_audit(fixture_repo(name, root), shown_root=name) for name in FIXTURE_NAMES}


@pytest.fixture(params=FIXTURE_NAMES)
def fixture_name(request: pytest.FixtureRequest) -> str:
    """Each bundled fixture's name in turn."""
    return str(request.param)


@pytest.fixture(scope="session")
def golden() -> Callable[[str, str, str], None]:
    """Compare a report with its golden file, or rewrite the file when UPDATE_GOLDEN=1."""

    def check(name: str, extension: str, text: str) -> None:
        path = GOLDEN / f"{name}.{extension}"
        data = text.encode("utf-8")
        if os.environ.get("UPDATE_GOLDEN") == "1":
            path.parent.mkdir(exist_ok=True)
            path.write_bytes(data)
        assert path.is_file(), f"missing {path.name}: run UPDATE_GOLDEN=1 python -m pytest tests/reporters"
        assert path.read_bytes() == data, f"{path.name} differs: run UPDATE_GOLDEN=1 python -m pytest tests/reporters"

    return check


def _sample_findings() -> tuple[Finding, ...]:
    """One finding of each kind the formats tell apart."""
    return (
        Finding(make_rule("L2-CI-01", gate=True, weight=3.0, docs="https://example.org/ci"), Outcome.FAIL,
                "No workflow runs tests on pull requests.", (Evidence(".github/workflows/ci.yml", 3, None, "on: push"),
                                                             Evidence("Makefile", 7, None, "test:"))),
        Finding(make_rule("L2-MV-03", gate=True, weight=3.0, gate_group="validated-promotion"), Outcome.PARTIAL,
                "Comparison runs but does not block.", (Evidence("src/promote.py", 12, None, "compare()"),)),
        Finding(make_rule("L1-EXP-02"), Outcome.FAIL, "Tracking goes to a local folder."),
        Finding(make_rule("L0-NB-04"), Outcome.PARTIAL, "One notebook installs packages.",
                (Evidence("train.ipynb", 1, 4, "!pip install xgboost"),)),
        Finding(make_rule("ANY-DOC-04", weight=0.5), Outcome.FAIL, "No CODEOWNERS file."),
        Finding(make_rule("L1-PIPE-01", gate=True, weight=3.0), Outcome.PASS, "Pipeline in dvc.yaml.",
                (Evidence("dvc.yaml", 1),)),
        Finding(make_rule("L2-MON-02"), Outcome.NOT_APPLICABLE, "No serving code."),
        Finding(make_rule("ANY-SEC-01"), Outcome.UNKNOWN, "Could not read the history."),
    )


@pytest.fixture(name="make_rule", scope="session")
def rule_factory() -> Callable[..., Rule]:
    return make_rule


@pytest.fixture(name="make_assessment", scope="session")
def assessment_factory() -> Callable[..., Assessment]:
    return make_assessment


@pytest.fixture(scope="session")
def sample() -> Assessment:
    """A Level-1 assessment with a failed gate, a partial gated group member, notebook and repository findings."""
    return make_assessment(_sample_findings())


@pytest.fixture(scope="session")
def hostile() -> Assessment:
    """Injection payloads in every piece of repository text."""
    evidence = (Evidence(HOSTILE_PATH, 2, None, HOSTILE_SNIPPET), Evidence(HOSTILE_PATH, None, 3, HOSTILE_SNIPPET))
    findings = (
        Finding(make_rule("L2-CI-01", gate=True, weight=3.0, title="Title <b>`|`</b> @team"), Outcome.FAIL,
                HOSTILE_MESSAGE, evidence),
        Finding(make_rule("L1-EXP-02"), Outcome.PARTIAL, HOSTILE_MESSAGE, evidence[1:]),
    )
    return make_assessment(
        findings,
        root=HOSTILE_PATH,
        stack=(DetectedTool("<b>@evil</b>", ("x|y",), "used", ()),),
        notes=(Note(HOSTILE_PATH, HOSTILE_MESSAGE),),
        projects=(ProjectResult(HOSTILE_PATH, 1, 1.375, True), ProjectResult(HOSTILE_MESSAGE, 0, 0.0, False)),
        project=HOSTILE_PATH,
    )


_texts = st.text(alphabet=st.characters(codec=None, exclude_categories=()), max_size=30)
_positions = st.none() | st.integers(min_value=1, max_value=10**6)
_evidence = st.builds(Evidence, path=_texts, line=_positions, cell=_positions, snippet=st.none() | _texts)
_projects = st.lists(
    st.builds(ProjectResult, _texts.filter(bool), st.integers(0, 2), st.floats(0, 2), st.booleans()),
    max_size=3,
    unique_by=lambda p: p.root,
)


@st.composite
def _findings(draw: st.DrawFn) -> Finding:
    level = draw(st.sampled_from(["L0", "L1", "L2", "ANY"]))
    rule = make_rule(
        f"{level}-{draw(st.sampled_from(['PIPE', 'CI', 'NB']))}-{draw(st.integers(1, 99)):02d}",
        title=draw(_texts),
        weight=draw(st.floats(min_value=0.1, max_value=10)),
        gate=draw(st.booleans()),
        gate_group=draw(st.none() | _texts),
        rationale=draw(_texts),
        remediation=draw(_texts),
        docs=draw(st.none() | _texts),
    )
    return Finding(rule, draw(st.sampled_from(Outcome)), draw(_texts), tuple(draw(st.lists(_evidence, max_size=3))))


@st.composite
def _assessments(draw: st.DrawFn) -> Assessment:
    findings = tuple(draw(st.lists(_findings(), max_size=6, unique_by=lambda f: f.rule.id)))
    gates = tuple(f.rule.id for f in findings if f.gate_failed)
    levels = tuple(
        LevelScore(n, draw(st.none() | st.floats(0, 1)), not gates, gates if n == 2 else (), {}) for n in range(3)
    )
    projects = tuple(draw(_projects))
    return make_assessment(
        findings,
        root=draw(_texts),
        applicable=draw(st.booleans()),
        level=draw(st.integers(0, 2)),
        score=draw(st.floats(min_value=0, max_value=2)),
        levels=levels,
        stack=tuple(draw(st.lists(st.builds(DetectedTool, _texts, st.lists(_texts).map(tuple),
                                            st.sampled_from(["used", "declared"]), st.just(())), max_size=3))),
        notes=tuple(draw(st.lists(st.builds(Note, _texts, _texts, _texts), max_size=2))),
        projects=projects,
        project=draw(st.none() | st.sampled_from([p.root for p in projects] or [None])),
    )


@pytest.fixture(scope="session")
def assessments() -> st.SearchStrategy[Assessment]:
    """Arbitrary assessments with arbitrary text everywhere (draw with `st.data()`)."""
    return _assessments()
