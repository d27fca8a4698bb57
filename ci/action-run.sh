#!/usr/bin/env bash
# The GitHub Action's run step (action.yml): one audit that prints its report to the log, writes the requested
# reports and the Markdown job summary, and whose exit code is the step's: 0 passed, 1 the quality gate failed,
# 2 an error.
#
# Environment: MLOPS_AUDIT (the command, default `mlops-audit`), AUDIT_PATH (default `.`), MIN_LEVEL, FAIL_UNDER,
# FORMATS (`FORMAT:FILE` entries separated by spaces, commas or newlines; a FORMAT alone replaces the text report
# in the log, so `github` gives annotations), ARGS (more arguments, split on whitespace), GITHUB_STEP_SUMMARY.
set -uo pipefail
set -f  # no globbing: inputs are split on whitespace only

formats=${FORMATS:-}
# shellcheck disable=SC2206
requested=(${formats//,/ })
# shellcheck disable=SC2206
extra=(${ARGS:-})

options=()
text_to_log=yes
for entry in ${requested[@]+"${requested[@]}"}; do
  options+=(--format "$entry")
  case $entry in *:*) ;; *) text_to_log="" ;; esac
done
if [ -n "$text_to_log" ]; then options+=(--format text); fi
summary=""
if [ -n "${GITHUB_STEP_SUMMARY:-}" ]; then
  summary=$(mktemp)
  options+=(--format "markdown:$summary")
fi
if [ -n "${MIN_LEVEL:-}" ]; then options+=(--min-level "$MIN_LEVEL"); fi
if [ -n "${FAIL_UNDER:-}" ]; then options+=(--fail-under "$FAIL_UNDER"); fi

"${MLOPS_AUDIT:-mlops-audit}" audit "${AUDIT_PATH:-.}" "${options[@]}" ${extra[@]+"${extra[@]}"}
status=$?

if [ -n "$summary" ]; then
  cat "$summary" >> "$GITHUB_STEP_SUMMARY"  # the Markdown report keeps itself under GitHub's 1 MiB limit
  rm -f "$summary"
fi
exit "$status"
