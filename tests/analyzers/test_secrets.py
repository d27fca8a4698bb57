"""The secrets analyzer on real files, notebooks and repositories.

Every fake secret is put together at run time, so this file holds nothing a secret scanner would flag.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mlops_audit.analyzers import secrets
from mlops_audit.analyzers.secrets import (
    ENTROPY_THRESHOLD,
    MAX_PER_FILE,
    Secret,
    SecretFacts,
    analyze_secrets,
    entropy,
    mask,
    scan_notebook,
    scan_text,
)
from mlops_audit.audit import run_audit
from mlops_audit.checks import BUILTINS
from mlops_audit.engine import judge
from mlops_audit.inventory import build_inventory
from mlops_audit.packs import load_rules
from mlops_audit.reporters import json_report
from mlops_audit.reporters import text as text_report
from mlops_audit.testing import make_facts, make_repo

AWS_ID = "AK" + "IA" + "Z3QW7RT2YB5K8M4N"
AWS_SECRET_VALUE = "wJalrXUtnFEMIK7MDENG" + "bPxRfiCYzq8Lk2Ab9Xy1"
GITHUB = "gh" + "p_" + "aB3dE5fG7hJ9kL1mN3pQ" + "5rS7tU9vW1xY3zA5"
GITHUB_PAT = "github" + "_pat_" + "11ABCDEFG0" + "aB3dE5fG7hJ9kL1mN3pQ5r"
SLACK = "xo" + "xb-" + "123456789012-1234567890123-" + "AbCdEfGhIjKlMnOpQrStUvWx"
GOOGLE = "AI" + "za" + "SyA1b2C3d4E5f6G7h8I9" + "j0K1l2M3n4O5p6Q"
OPENAI = "sk" + "-" + "Ab3De5Gh7Jk9Lm1Np3Qr" + "5St7Uv9Wx1Yz3Ab5Cd7Ef9Gh"
OPENAI_PROJECT = "sk" + "-proj-" + "Ab3De5Gh7Jk9Lm1Np3Qr" + "5St7_Uv9Wx-1Yz3"
HUGGINGFACE = "hf" + "_" + "AbCdEfGhIjKlMnOp" + "QrStUvWxYzAbCdEfGh"
WANDB = "0123456789abcdef" + "0123456789abcdef01234567"
AZURE = "Ab3De5Gh7Jk9Lm1Np3Qr" + "5St7Uv9Wx1Yz3Ab5Cd7Ef9Gh1Ij3Kl5=="
DB_PASSWORD = "Qm7vX2pL" + "9rT4"
GENERIC = "Xk9#mQ2$" + "vL7pR4wZ"
PRIVATE_KEY_HEADER = "-----BEGIN RSA " + "PRIVATE KEY-----"
PRIVATE_KEY = PRIVATE_KEY_HEADER + "\nMIIEowIBAAKCAQEA7V2h\n-----END RSA " + "PRIVATE KEY-----\n"

# (file text, kind, masked form, the secret that must not show)
CASES = {
    "aws-id": (f'key_id = "{AWS_ID}"\n', "aws-access-key", "AKIA…", AWS_ID),
    "aws-secret": (f"[default]\naws_secret_access_key = {AWS_SECRET_VALUE}\n", "aws-access-key", "wJal…",
                   AWS_SECRET_VALUE),
    "private-key": (PRIVATE_KEY, "private-key", PRIVATE_KEY_HEADER + "…", "MIIEowIBAAKCAQEA7V2h"),
    "github": (f'token = "{GITHUB}"\n', "github-token", "ghp_…", GITHUB),
    "github-pat": (f"export GH_TOKEN={GITHUB_PAT}\n", "github-token", "github_pat_…", GITHUB_PAT),
    "slack": (f'SLACK = "{SLACK}"\n', "slack-token", "xoxb-…", SLACK),
    "google": (f'maps_key = "{GOOGLE}"\n', "google-api-key", "AIza…", GOOGLE),
    "openai": (f'os.environ["OPENAI_API_KEY"] = "{OPENAI}"\n', "openai-key", "sk-…", OPENAI),
    "openai-project": (f'client = OpenAI(api_key="{OPENAI_PROJECT}")\n', "openai-key", "sk-proj-…", OPENAI_PROJECT),
    "huggingface": (f'login(token="{HUGGINGFACE}")\n', "huggingface-token", "hf_…", HUGGINGFACE),
    "wandb": (f"WANDB_API_KEY={WANDB}\n", "wandb-key", "0123…", WANDB),
    "wandb-login": (f'wandb.login(key="{WANDB}")\n', "wandb-key", "0123…", WANDB),
    "azure": (f'conn = "DefaultEndpointsProtocol=https;AccountName=ml;AccountKey={AZURE};"\n',
              "azure-storage-key", "Ab3D…", AZURE),
    "db-url": (f"url: postgresql+psycopg2://ml:{DB_PASSWORD}@db:5432/features\n", "db-url-password", "Qm7…",
               DB_PASSWORD),
    "mlflow-basic-auth": (f'mlflow.set_tracking_uri("https://ml:{DB_PASSWORD}@mlflow.acme.io")\n',
                          "db-url-password", "Qm7…", DB_PASSWORD),
    "generic-python": (f'DB_PASSWORD = "{GENERIC}"\n', "generic-assignment", "Xk9#…", GENERIC),
    "generic-json": (f'{{"client_secret": "{GENERIC}"}}\n', "generic-assignment", "Xk9#…", GENERIC),
}


def repo(tmp_path: Path, files: dict[str, object], use_git: bool = True) -> list[Secret]:
    return list(analyze_secrets(build_inventory(make_repo(tmp_path / "repo", files, use_git=use_git))).findings)


def lines(source: str) -> list[str]:
    return source.splitlines(keepends=True)


def notebook(*cells: dict) -> str:
    return json.dumps({"cells": list(cells), "metadata": {}, "nbformat": 4, "nbformat_minor": 5}, indent=1)


def code(source: str, outputs: list | None = None, count: int | None = 1) -> dict:
    return {"cell_type": "code", "execution_count": count, "metadata": {}, "outputs": outputs or [],
            "source": lines(source)}


# Patterns ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_each_pattern_is_found_and_masked(case: tuple[str, str, str, str]) -> None:
    source, kind, masked, secret = case
    [found] = scan_text("src/settings.py", source)
    assert (found.kind, found.masked) == (kind, masked)
    assert found.line == source[: source.index(masked.removesuffix("…"))].count("\n") + 1
    assert secret not in found.snippet and masked in found.snippet


def test_every_kind_is_found_in_the_files_a_repository_holds(tmp_path: Path) -> None:
    found = repo(tmp_path, {
        "src/train.py": CASES["openai"][0],
        "conf/base/catalog.yml": CASES["db-url"][0],
        "config.json": CASES["generic-json"][0],
        "pyproject.toml": f'[tool.poetry]\nname = "churn"\n[tool.secrets]\ntoken = "{GITHUB}"\n',
        "Dockerfile": f"FROM python:3.11\nENV HF_TOKEN={HUGGINGFACE}\n",
        ".github/workflows/train.yml": f"env:\n  WANDB_API_KEY: {WANDB}\n",
        "scripts/deploy.sh": f"export AWS_ACCESS_KEY_ID={AWS_ID}\n",
        "settings.ini": f"[s3]\naws_secret_access_key = {AWS_SECRET_VALUE}\n",
        "README.md": f"Set `OPENAI_API_KEY={OPENAI}`.\n",  # documentation is not scanned
        "data/users.csv": f"name,token\nann,{GITHUB}\n",  # nor data
    })
    assert [(f.path, f.line, f.kind) for f in found] == [
        (".github/workflows/train.yml", 2, "wandb-key"),
        ("Dockerfile", 2, "huggingface-token"),
        ("conf/base/catalog.yml", 1, "db-url-password"),
        ("config.json", 1, "generic-assignment"),
        ("pyproject.toml", 4, "github-token"),
        ("scripts/deploy.sh", 1, "aws-access-key"),
        ("settings.ini", 2, "aws-access-key"),
        ("src/train.py", 1, "openai-key"),
    ]


def test_a_token_assigned_to_a_secret_name_is_reported_as_its_provider() -> None:
    [found] = scan_text("a.py", f'HF_TOKEN = "{HUGGINGFACE}"\n')
    assert found.kind == "huggingface-token"


def test_every_secret_on_a_line_is_masked_in_each_snippet() -> None:
    source = f'creds = {{"id": "{AWS_ID}", "aws_secret_access_key": "{AWS_SECRET_VALUE}", "gh": "{GITHUB}"}}\n'
    found = scan_text("a.py", source)
    assert [f.kind for f in found] == ["aws-access-key", "aws-access-key", "github-token"]
    for finding in found:
        assert not any(secret in finding.snippet for secret in (AWS_ID, AWS_SECRET_VALUE, GITHUB))


def test_a_long_line_is_clipped_around_the_secret() -> None:
    [found] = scan_text("a.json", "x" * 5000 + f' "{GITHUB}" ' + "y" * 5000)
    assert "ghp_…" in found.snippet and len(found.snippet) <= 200


# What is not reported ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "source",
    [
        "url: postgresql://ml:${DB_PASSWORD}@db:5432/features",
        "url: postgresql://ml:{password}@db:5432/features",
        "url: postgresql://ml:<password>@db:5432/features",
        "url: postgresql://ml:$DB_PASSWORD@db:5432/features",
        "url: postgresql://ml:****@db:5432/features",
        "url: postgresql://ml:password@db:5432/features",
        "url: postgresql://ml:changeme@db:5432/features",
        "url: postgresql://ml:xxx@db:5432/features",
        "url: postgresql://mlflow:mlflow@db:5432/mlflow",
        "uri = f'https://{user}:{token}@mlflow.acme.io'",
        "api_key: '${{ secrets.OPENAI_API_KEY }}'",
        'password = "<your-password-here>"',
        'token = "your_token_goes_here_1234"',
        'secret = "REPLACE_WITH_A_REAL_SECRET"',
        'api_key = "xxxxxxxxxxxxxxxxxxxxxxxx"',
        'password = os.environ["DB_PASSWORD"]',
        'tokenizer = "distilbert-base-uncased-finetuned"',
        "max_tokens = 2048",
        "key_id = 'AK" + "IAXXXXXXXXXXXXXXXX'",
        "key_id = 'AK" + "IAIOSFODNN7EXAMPLE'",
        "http://localhost:5000/api",
    ],
)
def test_placeholders_and_lookalikes_are_not_reported(source: str) -> None:
    assert scan_text("conf/app.py", source + "\n") == []


def test_generic_assignments_need_high_entropy() -> None:
    assert entropy("aaaa") == 0.0
    assert entropy("abcd") == 2.0
    low, high = "hunter2hunter2", "Xk9mQ2vL7pR4wZ"
    assert entropy(low) < ENTROPY_THRESHOLD <= entropy(high)
    assert scan_text("a.py", f'password = "{low}"\n') == []
    assert [f.masked for f in scan_text("a.py", f'password = "{high}"\n')] == ["Xk9…"]


def test_a_rejected_low_entropy_value_is_still_masked_next_to_a_reported_secret() -> None:
    [found] = scan_text("a.py", f'password = "hunter2hunter2"; key = "{AWS_ID}"\n')
    assert "hunter2hunter2" not in found.snippet


@pytest.mark.parametrize("marker", ["# pragma: allowlist secret", "# gitleaks:allow"])
def test_allow_list_comments_skip_their_line(marker: str) -> None:
    source = f'A = "{GITHUB}"  {marker}\nB = "{GITHUB}"\n'
    assert [f.line for f in scan_text("a.py", source)] == [2]


def test_an_inline_suppression_keeps_the_finding_on_its_line_for_the_suppression_to_cover() -> None:
    source = f'A = "{GITHUB}"  # mlops-audit: ignore[ANY-SEC-01] revoked token kept for a regression test\n'
    assert [(f.line, f.kind) for f in scan_text("a.py", source)] == [(1, "github-token")]


def test_obvious_dummies_are_skipped_in_tests_and_fixtures_only(tmp_path: Path) -> None:
    fake = "hf" + "_fake" + "AbCdEfGhIjKlMnOpQrStUvWxYz"
    files = {
        "tests/test_hub.py": f'TOKEN = "{fake}"\nREAL = "{HUGGINGFACE}"\n',
        "tests/fixtures/kaggle.json": '{"username": "dummy", "key": "0000"}',
        "fixtures/app/config.yaml": f"token: {'gh' + 'p_' + 'test' + 'aB3dE5fG7hJ9kL1mN3pQ5rS7tU9vW1x'}\n",
        "src/hub.py": f'TOKEN = "{fake}"\n',
    }
    assert [(f.path, f.line) for f in repo(tmp_path, files)] == [("src/hub.py", 1), ("tests/test_hub.py", 2)]


# Notebooks -----------------------------------------------------------------------------------------------------


def test_notebook_sources_and_outputs_carry_their_cell_numbers(tmp_path: Path) -> None:
    text = notebook(
        {"cell_type": "markdown", "metadata": {}, "source": ["# Explore"]},
        code(f'import os\n\nos.environ["OPENAI_API_KEY"] = "{OPENAI}"'),
        code("print(os.environ)", [{"name": "stdout", "output_type": "stream", "text": [f"KEY {AWS_ID}\n"]}]),
        code("creds", [{"output_type": "execute_result", "execution_count": 3, "metadata": {},
                        "data": {"text/plain": [f"'{GITHUB}'"], "image/png": "iVBORw0KGgo="}}]),
        code("connect()", [{"output_type": "error", "ename": "OperationalError", "evalue": "failed",
                            "traceback": [f"could not connect to postgresql://ml:{DB_PASSWORD}@db:5432"]}]),
    )
    found = repo(tmp_path, {"notebooks/explore.ipynb": text})
    assert [(f.cell, f.line, f.output, f.kind) for f in found] == [
        (2, 3, False, "openai-key"),
        (3, None, True, "aws-access-key"),
        (4, None, True, "github-token"),
        (5, None, True, "db-url-password"),
    ]
    assert found[1].snippet == "output: KEY AKIA…"
    assert not any(secret in json.dumps([f.snippet for f in found]) for secret in (OPENAI, AWS_ID, GITHUB))


def test_nbformat_3_outputs_are_scanned() -> None:
    text = json.dumps({"nbformat": 3, "worksheets": [{"cells": [
        {"cell_type": "code", "input": ["x"], "prompt_number": 1,
         "outputs": [{"output_type": "pyout", "text": [f"'{SLACK}'"]}]},
    ]}]})
    assert [(f.cell, f.kind) for f in scan_notebook("old.ipynb", text)] == [(1, "slack-token")]


def test_a_notebook_that_does_not_load_is_scanned_as_text() -> None:
    text = '{"cells": [\n  "token = \\"' + GITHUB + '\\""\n'
    assert [(f.line, f.cell, f.kind) for f in scan_notebook("broken.ipynb", text)] == [(2, None, "github-token")]


# Credential files ----------------------------------------------------------------------------------------------


def test_credential_files_are_one_finding_each(tmp_path: Path) -> None:
    service_account = json.dumps({"type": "service_account", "project_id": "acme", "private_key": PRIVATE_KEY})
    certificate = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"
    files = {
        ".env": "MLFLOW_TRACKING_PASSWORD=changeme\n",
        ".env.production": "DEBUG=0\n",
        ".env.example": "MLFLOW_TRACKING_URI=\nAWS_PROFILE=\n",
        "kaggle.json": '{"username": "ann", "key": "0f1e2d3c"}',
        "keys/gcp-service-account.json": service_account,
        "keys/deployer.json": service_account,
        "keys/tls.pem": certificate,
        "keys/server.key": PRIVATE_KEY,
        ".dvc/config.local": "['remote \"storage\"']\n    access_key_id = x\n",
        "conf/local/credentials.yml": "db:\n  con: x\n",
        ".netrc": "machine api.wandb.ai login user password x\n",
        ".pypirc": "[pypi]\nusername = __token__\npassword = x\n",
        "certs/client.p12": {"size": 64},
    }
    found = repo(tmp_path, files)
    assert [(f.path, f.kind) for f in found] == [
        (".dvc/config.local", "credential-file"),
        (".env", "credential-file"),
        (".env.production", "credential-file"),
        (".netrc", "credential-file"),
        (".pypirc", "credential-file"),
        ("certs/client.p12", "credential-file"),
        ("conf/local/credentials.yml", "credential-file"),
        ("kaggle.json", "credential-file"),
        ("keys/deployer.json", "credential-file"),
        ("keys/gcp-service-account.json", "credential-file"),
        ("keys/server.key", "credential-file"),
    ]
    assert found[1].snippet == "credential file: environment file with settings and secrets"
    assert all(f.line is None and f.masked == "" for f in found)


def test_an_untracked_file_that_is_not_ignored_is_scanned_but_an_ignored_one_is_not(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "repo", {".gitignore": ".env\n", "src/app.py": "x = 1\n"})
    (root / ".env").write_text("TOKEN=abc\n", encoding="utf-8")
    (root / "local.py").write_text(f'TOKEN = "{GITHUB}"\n', encoding="utf-8")
    assert [f.path for f in analyze_secrets(build_inventory(root)).findings] == ["local.py"]


# Limits --------------------------------------------------------------------------------------------------------


def test_findings_per_file_are_capped(tmp_path: Path) -> None:
    source = "".join(f'K{n} = "{AWS_ID[:-2]}{n:02d}"\n' for n in range(50))
    assert len(repo(tmp_path, {"keys.py": source})) == MAX_PER_FILE


def test_large_and_binary_files_are_skipped(tmp_path: Path) -> None:
    big = f'TOKEN = "{GITHUB}"\n' + "#" * (1024 * 1024)
    root = make_repo(tmp_path / "repo", {"big.py": big})
    (root / "blob.cfg").write_bytes(b"\0\1" + f"token={GITHUB}".encode())
    assert analyze_secrets(build_inventory(root)).findings == ()


# The rule and the reports ---------------------------------------------------------------------------------------


def test_the_rule_fails_with_masked_evidence() -> None:
    rule = next(r for r in load_rules([], BUILTINS) if r.id == "ANY-SEC-01")
    finding = Secret("notebooks/explore.ipynb", None, 3, "aws-access-key", "AKIA…", "output: KEY AKIA…", True)
    [failed] = judge([rule], make_facts(secrets=SecretFacts((finding,))), BUILTINS)
    assert failed.outcome.value == "fail"
    assert [(e.path, e.line, e.cell, e.snippet) for e in failed.evidence] == [
        ("notebooks/explore.ipynb", None, 3, "output: KEY AKIA…")
    ]
    [passed] = judge([rule], make_facts(), BUILTINS)
    assert passed.outcome.value == "pass"


def test_reports_never_show_a_secret_whole(tmp_path: Path) -> None:
    secrets = (AWS_ID, AWS_SECRET_VALUE, GITHUB, OPENAI, DB_PASSWORD, GENERIC, WANDB)
    root = make_repo(tmp_path / "repo", {
        "src/train.py": (
            "from sklearn.linear_model import LogisticRegression\n\n"
            f'AWS = {{"id": "{AWS_ID}", "aws_secret_access_key": "{AWS_SECRET_VALUE}"}}\n'
            f'PASSWORD = "{GENERIC}"\n'
            "LogisticRegression().fit([[0], [1]], [0, 1])\n"
        ),
        "conf/db.yaml": f"url: postgresql://ml:{DB_PASSWORD}@db:5432/features\nwandb_api_key: {WANDB}\n",
        "notebooks/explore.ipynb": notebook(
            code(f'GH = "{GITHUB}"', [{"name": "stdout", "output_type": "stream", "text": [OPENAI]}])
        ),
    })
    assessment = run_audit(root)
    finding = next(f for f in assessment.findings if f.rule.id == "ANY-SEC-01")
    assert finding.outcome.value == "fail"
    assert [(e.path, e.line, e.cell) for e in finding.evidence] == [
        ("conf/db.yaml", 1, None),
        ("conf/db.yaml", 2, None),
        ("notebooks/explore.ipynb", None, 1),  # the output
        ("notebooks/explore.ipynb", 1, 1),
        ("src/train.py", 3, None),  # both AWS secrets share a line, hence one evidence snippet
        ("src/train.py", 4, None),
    ]
    reports = json_report.render(assessment) + text_report.render(assessment, color=False)
    assert "AKIA…" in reports and "postgresql://ml:Qm7…@db" in reports
    assert [secret for secret in secrets if secret in reports] == []


# Properties ----------------------------------------------------------------------------------------------------

ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
TOKENS = st.one_of(
    st.tuples(st.just("AK" + "IA"), st.text("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", min_size=16, max_size=16)),
    st.tuples(st.just("gh" + "p_"), st.text(ALNUM, min_size=36, max_size=36)),
    st.tuples(st.just("AI" + "za"), st.text(ALNUM + "-_", min_size=35, max_size=35)),
    st.tuples(st.just("sk" + "-"), st.text(ALNUM, min_size=20, max_size=60)),
    st.tuples(st.just("hf" + "_"), st.text(ALNUM[:52], min_size=30, max_size=40)),
    st.tuples(st.just("postgresql://ml:"), st.text(ALNUM + "!%^&*()", min_size=1, max_size=30)),
    st.tuples(st.just('password = "'), st.text(ALNUM + "!#$%&()*+,-./;<>?[]^_{|}~", min_size=8, max_size=60)),
)


@settings(max_examples=300, deadline=None)
@given(TOKENS)
def test_masks_never_show_more_than_four_characters_of_a_secret(token: tuple[str, str]) -> None:
    prefix, body = token
    suffix = {"postgresql://ml:": "@db:5432/x", 'password = "': '"'}.get(prefix, "")
    for found in scan_text("a.py", f"x = 1\n{prefix}{body}{suffix}\n"):
        shown = found.masked.removesuffix("…")
        whole_value = found.kind in ("db-url-password", "generic-assignment")
        shown_body = shown if whole_value else shown.removeprefix(prefix)
        assert len(shown_body) <= 4 and body.startswith(shown_body)
        if len(body) > 4:
            assert body not in found.snippet


@given(st.text(min_size=1, max_size=200))
def test_mask_shows_at_most_a_quarter_and_four_characters(value: str) -> None:
    shown = mask(value).removesuffix("…")
    assert value.startswith(shown) and len(shown) <= min(4, len(value) // 4)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(alphabet="ak IA_=:\"'@/-\nghpsxobfzwKEYPASStoken$*{}<>" + ALNUM, max_size=400) | st.text(max_size=300))
def test_arbitrary_text_never_raises(source: str) -> None:
    for found in scan_text("a.py", source) + scan_notebook("a.ipynb", source):
        assert found.masked.endswith("…")


NAMES = st.sampled_from(["password", "PassWord", "api_key", "APIKEY", "clientsecret", "authtoken", "token", "secret",
                         "aws_secret_access_key", "wandb.login(key", "tokenizer", "x"])
FRAGMENTS = st.one_of(
    TOKENS.map("".join),
    st.tuples(NAMES, st.sampled_from([" = ", ": ", "="]), st.sampled_from(["'", '"']), st.text(ALNUM, min_size=6,
              max_size=45)).map(lambda t: f"{t[0]}{t[1]}{t[2]}{t[3]}{t[2]}"),  # an assignment
    NAMES,
    st.sampled_from(["AccountKey=", "://", "@", "-----BEGIN PRIVATE KEY-----", "'", '"', "\n", " "]),
    st.text(ALNUM, min_size=1, max_size=45),
    st.sampled_from(["é", "İ", "ı", "ſ", "\u212a", "ß", "…"]),  # lower case in other lengths, or matched as i, s, k
)


@settings(max_examples=300, deadline=None)
@given(st.lists(FRAGMENTS, max_size=30).map("".join))
def test_matches_tried_only_where_a_start_is_written_are_those_of_trying_every_position(text: str) -> None:
    lowered = text.lower()
    active = tuple(p.name for p in secrets.PATTERNS if any(written in lowered for written in p.starts))
    matches = secrets.combined(active).finditer(text) if active else ()
    every = [hit for match in matches for hit in secrets._hits(text, match, False)]
    found = secrets.find_hits(text)
    spans = [(h.kind, h.start, h.end, h.reported) for h in found]
    assert spans == [(h.kind, h.start, h.end, h.reported) for h in every]


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=40),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=20,
)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.dictionaries(st.sampled_from(["cell_type", "source", "outputs", "text", "data"]), JSON_VALUES),
                max_size=4))
def test_arbitrary_notebook_json_never_raises(cells: list[dict]) -> None:
    scan_notebook("a.ipynb", json.dumps({"cells": cells, "nbformat": 4}))


def test_a_view_reuses_the_scans_of_its_files_where_fakes_are_expected_alike(tmp_path: Path) -> None:
    fake = 'password = "fake-Xy7Qp2Lm9Rt4Kd8"\n'  # a fake where fixtures are expected, a secret anywhere else
    root = make_repo(tmp_path / "repo", {"fixtures/app/settings.py": fake, "fixtures/app/keys.py": f'k = "{AWS_ID}"\n'})
    inventory = build_inventory(root)
    assert [(s.path, s.kind) for s in analyze_secrets(inventory).findings] == [
        ("fixtures/app/keys.py", "aws-access-key")
    ]
    view = inventory.subset("fixtures/app")  # shares the scans made for the whole repository
    fresh = build_inventory(root).subset("fixtures/app")
    assert analyze_secrets(view) == analyze_secrets(fresh)
    assert [(s.path, s.kind) for s in analyze_secrets(view).findings] == [
        ("keys.py", "aws-access-key"), ("settings.py", "generic-assignment")
    ]
