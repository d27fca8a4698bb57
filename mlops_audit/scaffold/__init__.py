"""Scaffolding: from the rules a repository fails to a plan of files and code changes that raise its level.

`plan.py` turns an audit into ordered steps (`steps.py` maps each rule's `scaffold:` name to files and codemods),
`stack_choice.py` fits the steps to the tools already in use, `templates/` holds the files as Jinja2 templates,
`codemods/` rewrites Python code with libcst, and `writer.py` applies the plan without ever losing a user's line.
"""
