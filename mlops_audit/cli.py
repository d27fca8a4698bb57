"""The command line: parses options and wires the stages; no logic of its own. Each command imports what only it
needs when it runs, so that `audit` of an unchanged repository and `lint` start fast.

Exit codes: 0 the audit ran and passed the gate, 1 the quality gate failed, 2 usage or internal error.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from pathlib import Path

import click

from mlops_audit import __version__
from mlops_audit.audit import AuditOptions, run_audit
from mlops_audit.baseline import new_findings
from mlops_audit.baseline import write_baseline as write_baseline_file
from mlops_audit.cache import default_cache_dir
from mlops_audit.config import Config, load_config
from mlops_audit.errors import AuditError, PathError
from mlops_audit.init_config import init_config
from mlops_audit.outputs import FORMATS, plan_outputs, render
from mlops_audit.quality_gate import SEVERITIES, gate_failures
from mlops_audit.reporters.text import summary


def _split(values: Sequence[str]) -> tuple[str, ...]:
    """`--select A,B --select C` → (A, B, C)."""
    return tuple(part.strip() for value in values for part in value.split(",") if part.strip())


def _in_pre_commit() -> bool:
    return os.environ.get("PRE_COMMIT") == "1"


def _options(
    config: Config, select: Sequence[str], ignore: Sequence[str], extra_rules: Sequence[str], cache: bool = False
) -> AuditOptions:
    """Audit options: command-line selection over the configuration's."""
    return AuditOptions(
        select=_split(select) or config.select,
        ignore=_split(ignore) or config.ignore,
        extra_packs=(*config.rules, *(Path(p) for p in extra_rules)),
        suppress=config.suppress,
        cache_dir=default_cache_dir() if cache else None,
    )


def _use_color(stream: object) -> bool:
    return "NO_COLOR" not in os.environ and bool(getattr(stream, "isatty", lambda: False)())


def _emit(report: str, output: str | None) -> None:
    if output:
        try:
            Path(output).write_text(report, encoding="utf-8")
        except OSError as error:
            raise AuditError(f"cannot write {output}: {error.strerror}") from None
    else:
        click.echo(report, nl=False)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="mlops-audit")
def cli() -> None:
    """Assess an ML repository against the MLOps maturity levels 0, 1 and 2, with evidence."""


@cli.command()
@click.argument("path", default=".", type=click.Path(path_type=str))
@click.option("--format", "-f", "formats", multiple=True, metavar="FORMAT[:FILE]",
              help=f"Report format ({', '.join(FORMATS)}); FORMAT:FILE writes it to FILE. Repeatable.")
@click.option("--output", "-o", "outputs", multiple=True, type=click.Path(dir_okay=False),
              help="Write the report to FILE (format from --format, or from the extension). Repeatable.")
@click.option("--fail-under", type=click.FloatRange(0, 2), help="Exit 1 when the score is below SCORE.")
@click.option("--min-level", type=click.IntRange(0, 2), help="Exit 1 when the level reached is below N.")
@click.option("--fail-on", type=click.Choice(SEVERITIES),
              help="Exit 1 when a finding has this severity or worse (gate > error > warning).")
@click.option("--baseline", type=click.Path(dir_okay=False),
              help="Only findings not recorded in this baseline fail the gate (--fail-on defaults to warning).")
@click.option("--write-baseline", type=click.Path(dir_okay=False),
              help="Record the current findings as the baseline in FILE and exit 0.")
@click.option("--diff-base", metavar="REF",
              help="Also audit git revision REF (no checkout), print the change, exit 1 if it lowers maturity.")
@click.option("--exit-zero", is_flag=True, help="Always exit 0 when the audit ran, whatever the gate says.")
@click.option("--no-cache", is_flag=True,
              help="Do not read or write the per-file facts cache (in the user cache folder, never the repository).")
@click.option("--select", multiple=True, help="Only these rules: ids, id prefixes (L1, L2-CI) or slugs.")
@click.option("--ignore", multiple=True, help="Skip these rules: ids, id prefixes or slugs.")
@click.option("--rules", "extra_rules", multiple=True, type=click.Path(exists=True, dir_okay=False),
              help="An extra rule pack (YAML); repeatable.")
def audit(
    path: str,
    formats: tuple[str, ...],
    outputs: tuple[str, ...],
    fail_under: float | None,
    min_level: int | None,
    fail_on: str | None,
    baseline: str | None,
    write_baseline: str | None,
    diff_base: str | None,
    exit_zero: bool,
    no_cache: bool,
    select: tuple[str, ...],
    ignore: tuple[str, ...],
    extra_rules: tuple[str, ...],
) -> None:
    """Audit the repository at PATH (default: the current folder)."""
    root = Path(path)
    if not root.is_dir():
        raise PathError(f"{path}: {'not a directory' if root.exists() else 'no such file or directory'}")
    config = load_config(root.resolve())
    options = _options(config, select, ignore, extra_rules, cache=not no_cache)
    requested = formats or ((config.format,) if config.format else ())
    planned = plan_outputs(requested, outputs)
    assessment = run_audit(root, options, shown_root=path)
    for output in planned:
        if output.path is None and not requested and _in_pre_commit():
            _emit(summary(assessment), None)
        else:
            _emit(render(output.format, assessment, color=output.path is None and _use_color(sys.stdout)), output.path)
    lowered = False
    if diff_base:
        from mlops_audit.diff_gate import audit_revision, compare, delta_lowers_maturity, render_delta

        delta = compare(audit_revision(root, diff_base, options), assessment)
        click.echo(render_delta(delta), err=True, nl=False)
        lowered = delta_lowers_maturity(delta)
    if write_baseline:
        count = write_baseline_file(assessment, write_baseline)
        click.echo(f"mlops-audit: wrote {count} findings to the baseline {write_baseline}", err=True)
        return
    baseline_path = baseline or config.baseline
    only = {f.rule.id for f in new_findings(assessment, baseline_path)} if baseline_path else None
    failures = gate_failures(
        assessment,
        fail_under if fail_under is not None else config.fail_under,
        min_level if min_level is not None else config.min_level,
        fail_on or config.fail_on or ("warning" if baseline_path else None),
        only,
    )
    for failure in failures:
        click.echo(f"mlops-audit: quality gate failed: {failure}", err=True)
    if (failures or lowered) and not exit_zero:
        raise SystemExit(1)


@cli.command("lint")
@click.argument("files", nargs=-1, type=click.Path())
@click.option("--select", multiple=True, help="Only these rules: ids, id prefixes or slugs.")
@click.option("--ignore", multiple=True, help="Skip these rules: ids, id prefixes or slugs.")
@click.option("--rules", "extra_rules", multiple=True, type=click.Path(exists=True, dir_okay=False),
              help="An extra rule pack (YAML); repeatable.")
def lint_files(files: tuple[str, ...], select: tuple[str, ...], ignore: tuple[str, ...],
               extra_rules: tuple[str, ...]) -> None:
    """Check FILES (as pre-commit passes them) with the file-level rules: notebook outputs and order, secrets,
    absolute paths, large data or model files outside DVC/LFS, unseeded randomness. Exit 1 on problems."""
    root = Path.cwd()
    from mlops_audit.lint import lint, render_lint

    result = lint(root, files, _options(load_config(root), select, ignore, extra_rules))
    _emit(render_lint(result, terse=_in_pre_commit()), None)
    if result.problems:
        raise SystemExit(1)


@cli.command("scaffold")
@click.argument("path", default=".", type=click.Path(exists=True, file_okay=False))
@click.option("--to-level", type=click.IntRange(1, 2), help="Plan what reaches this level (default: the next one).")
@click.option("--rule", "rules", multiple=True, help="Plan the fix of this rule (id or slug); repeatable.")
@click.option("--dry-run", "mode", flag_value="dry-run", default=True, help="Show the plan only (the default).")
@click.option("--diff", "mode", flag_value="diff", help="Show the plan and the unified diff of every file.")
@click.option("--apply", "mode", flag_value="apply", help="Write the files; never overwrites a file of yours.")
def scaffold(path: str, to_level: int | None, rules: tuple[str, ...], mode: str) -> None:
    """Plan, show and write the files and code changes that fix failed rules at PATH, fitted to its stack."""
    from mlops_audit.scaffold.command import scaffold as run_scaffold

    code = run_scaffold(Path(path), to_level, _split(rules), mode, sys.stdout)  # type: ignore[arg-type]
    if code:
        raise SystemExit(code)


@cli.command("init")
@click.argument("path", default=".", type=click.Path(exists=True, file_okay=False))
def init(path: str) -> None:
    """Write a commented starter configuration into PATH (pyproject.toml or .mlops-audit.toml); never overwrites."""
    written = init_config(Path(path))
    click.echo(f"mlops-audit: wrote a starter configuration to {written}", err=True)


@cli.command("rules")
@click.option("--format", "-f", "fmt", type=click.Choice(("text", "json")), default="text", show_default=True)
@click.option("--rules", "extra_rules", multiple=True, type=click.Path(exists=True, dir_okay=False),
              help="Also list the rules of this pack; repeatable.")
def list_rules(fmt: str, extra_rules: tuple[str, ...]) -> None:
    """List every rule: id, level, category, whether it gates, confidence and title."""
    from mlops_audit.checks import BUILTINS
    from mlops_audit.explain import rules_json, rules_table
    from mlops_audit.packs import load_rules

    rules = load_rules([Path(p) for p in extra_rules], BUILTINS)
    click.echo(rules_json(rules) if fmt == "json" else rules_table(rules), nl=False)


@cli.command("explain")
@click.argument("rule")
@click.option("--rules", "extra_rules", multiple=True, type=click.Path(exists=True, dir_okay=False),
              help="Also look in this pack; repeatable.")
def explain_rule(rule: str, extra_rules: tuple[str, ...]) -> None:
    """Explain RULE (an id such as L1-PIPE-01, or a slug): why, what evidence it looks for, how to fix."""
    from mlops_audit.checks import BUILTINS
    from mlops_audit.explain import explain
    from mlops_audit.packs import find_rule, load_rules

    found = find_rule(load_rules([Path(p) for p in extra_rules], BUILTINS), rule)
    if found is None:
        raise AuditError(f"no rule `{rule}`; `mlops-audit rules` lists them")
    click.echo(explain(found), nl=False)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI and return its exit code; errors become a message on stderr and exit 2, never a traceback."""
    try:
        returned = cli.main(
            args=list(argv) if argv is not None else None, prog_name="mlops-audit", standalone_mode=False
        )
    except SystemExit as exit_:
        return exit_.code if isinstance(exit_.code, int) else 0
    except click.exceptions.Abort:
        click.echo("mlops-audit: interrupted", err=True)
        return 130
    except click.ClickException as error:
        error.show()
        return 2
    except AuditError as error:
        click.echo(f"mlops-audit: error: {error}", err=True)
        return 2
    except KeyboardInterrupt:
        click.echo("mlops-audit: interrupted", err=True)
        return 130
    except Exception as error:  # noqa: BLE001 - the last line of defence: a message, never a traceback
        click.echo(
            f"mlops-audit: internal error: {type(error).__name__}: {error}\n"
            "This is a bug in mlops-audit; please report it with the command you ran.",
            err=True,
        )
        return 2
    return returned if isinstance(returned, int) else 0


def run() -> None:
    """The `mlops-audit` console script."""
    raise SystemExit(main())
