"""Hypothesis strategies shared by the property tests of path globs."""

from __future__ import annotations

from hypothesis import strategies as st


def paths_and_globs(
    segments: st.SearchStrategy[str], max_paths: int, max_globs: int
) -> tuple[st.SearchStrategy[set[str]], st.SearchStrategy[list[str]]]:
    """Sets of paths made of the `segments` without wildcards, and lists of globs made of any of them."""
    plain = segments.filter(lambda segment: not any(char in segment for char in "*?"))
    paths = st.sets(st.lists(plain, min_size=1, max_size=4).map("/".join), max_size=max_paths)
    globs = st.lists(st.lists(segments, min_size=1, max_size=3).map("/".join), min_size=1, max_size=max_globs)
    return paths, globs
