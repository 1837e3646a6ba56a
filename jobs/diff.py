"""Word-level diffs of job texts, as segments a template renders (escaped) in <ins>/<del>."""

import difflib
import re

_TOKENS = re.compile(r"\s+|[^\s]+")


def word_diff(old: str, new: str) -> list[tuple[str, str]]:
    """[(op, text)] with op in "equal", "delete", "insert"; whitespace is kept as tokens."""
    a, b = _TOKENS.findall(old or ""), _TOKENS.findall(new or "")
    segments: list[tuple[str, str]] = []
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag in ("delete", "replace"):
            segments.append(("delete", "".join(a[i1:i2])))
        if tag in ("insert", "replace"):
            segments.append(("insert", "".join(b[j1:j2])))
        if tag == "equal":
            segments.append(("equal", "".join(a[i1:i2])))
    return segments


def unified_diff(old: str, new: str, *, name: str = "instructions") -> str:
    lines = difflib.unified_diff(
        (old or "").splitlines(keepends=True),
        (new or "").splitlines(keepends=True),
        fromfile=f"{name} (before)",
        tofile=f"{name} (after)",
    )
    return "".join(line if line.endswith("\n") else line + "\n" for line in lines)
