"""Word-level diffs of document texts (jobs, knowledge pages), as segments a template renders
(escaped) in <ins>/<del>."""

import difflib
import re
from collections import Counter

# A word with the whitespace after it; text that starts with whitespace keeps it as a token.
_TOKENS = re.compile(r"^\s+|\S+\s*")
_TRAILING_SPACE = re.compile(r"\s+$")
_MAX_PAIRS = 1_000_000


def word_diff(old: str, new: str) -> list[tuple[str, str]]:
    """[(op, text)] with op in "equal", "delete", "insert", every character kept.

    Joining the "equal" and "delete" texts gives `old`, "equal" and "insert" gives `new`. Tokens
    are matched on the word alone, so a word whose following space became a line break stays
    equal (only the whitespace shows as changed). Each token carries its whitespace, which keeps
    the token lists short and distinctive: two 10,000-character texts diff in milliseconds, where
    separate whitespace tokens took seconds.
    """
    a, b = _TOKENS.findall(old or ""), _TOKENS.findall(new or "")
    words_a, words_b = _words(a), _words(b)
    # Matching costs about one step per pair of equal words. Text that is mostly one repeated
    # word ("Yes. Yes. Yes. …") would take seconds: there, let very common words not anchor a
    # match (autojunk). The diff stays exact, only coarser.
    in_b = Counter(words_b)
    repetitive = sum(in_b[word] for word in words_a) > _MAX_PAIRS
    matcher = difflib.SequenceMatcher(None, words_a, words_b, autojunk=repetitive)
    segments: list[tuple[str, str]] = []
    deleted, inserted = [], []  # the change being gathered, flushed before the next equal text

    def equal(text):
        if deleted or inserted:
            _append_change(segments, "".join(deleted), "".join(inserted))
            deleted.clear()
            inserted.clear()
        if segments and segments[-1][0] == "equal":
            segments[-1] = ("equal", segments[-1][1] + text)
        elif text:
            segments.append(("equal", text))

    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag != "equal":
            deleted.extend(a[i1:i2])
            inserted.extend(b[j1:j2])
            continue
        for x, y in zip(a[i1:i2], b[j1:j2], strict=True):
            same = len(x.rstrip())  # the word matched; the whitespace after it may differ
            if x == y:
                equal(x)
            else:
                equal(x[:same])
                deleted.append(x[same:])
                inserted.append(y[same:])
    equal("")
    return segments


def _words(tokens: list[str]) -> list[str]:
    return [token.rstrip() or token for token in tokens]


def _append_change(segments: list[tuple[str, str]], deleted: str, inserted: str) -> None:
    """Add a change; keep a replaced word apart from its replacement ("its Its", not "itsIts")."""
    glued = deleted and inserted and not deleted[-1].isspace() and not inserted[0].isspace()
    if glued and segments and segments[-1][0] == "equal":
        space = _TRAILING_SPACE.search(segments[-1][1])
        if space:
            # Move the space before the change into both sides: each text is unchanged.
            segments[-1] = ("equal", segments[-1][1][: space.start()])
            deleted, inserted = space.group() + deleted, space.group() + inserted
            if not segments[-1][1]:
                segments.pop()
    if deleted:
        segments.append(("delete", deleted))
    if inserted:
        segments.append(("insert", inserted))


def unified_diff(old: str, new: str, *, name: str = "instructions") -> str:
    lines = difflib.unified_diff(
        (old or "").splitlines(keepends=True),
        (new or "").splitlines(keepends=True),
        fromfile=f"{name} (before)",
        tofile=f"{name} (after)",
    )
    return "".join(line if line.endswith("\n") else line + "\n" for line in lines)


_CONTEXT_WORDS = re.compile(r"\S+\s*")


def excerpt(segments: list[tuple[str, str]], *, words: int = 6) -> list[tuple[str, str]]:
    """The changes with a few words of unchanged text around each: long unchanged runs are
    cut to their first and last `words` words, the cut shown as "… " (op "gap"). Whole words
    only, spaces kept: no fragments."""
    if not any(op != "equal" for op, _ in segments):
        return []
    out: list[tuple[str, str]] = []
    last = len(segments) - 1
    for i, (op, text) in enumerate(segments):
        if op != "equal":
            out.append((op, text))
            continue
        tokens = _CONTEXT_WORDS.findall(text)
        lead = text[: len(text) - len("".join(tokens))]  # whitespace before the first word
        keep_head = words if i > 0 else 0  # words after the change before
        keep_tail = words if i < last else 0  # words before the change after
        if len(tokens) <= keep_head + keep_tail:
            out.append(("equal", text))
            continue
        head = lead + "".join(tokens[:keep_head]) if keep_head else ""
        tail = "".join(tokens[len(tokens) - keep_tail :]) if keep_tail else ""
        if head:
            out.append(("equal", head))
        out.append(("gap", "… "))
        if tail:
            out.append(("equal", tail))
    return out


DELETED, RESTORED = "deleted", "restored"


def history_changes(older, newer, fields: dict[str, str]) -> list[dict]:
    """What changed between two saved versions, for a history list: one entry per changed text
    field, {"label", "segments"} (an excerpt of the word diff), and {"label", "note"} for a
    delete or restore. `fields` maps field names to labels. `older` None: the first version."""
    if older is None:
        return [{"label": "Created", "note": "first version"}]
    changes = [
        {"label": label, "segments": excerpt(word_diff(getattr(older, f), getattr(newer, f)))}
        for f, label in fields.items()
        if getattr(older, f) != getattr(newer, f)
    ]
    if (older.deleted_at is None) != (newer.deleted_at is None):
        moved = (
            "moved to Recently deleted" if newer.deleted_at else "restored from Recently deleted"
        )
        changes.append({"label": "Status", "note": moved})
    return changes


def annotate_history(historical_records, fields: dict[str, str]) -> None:
    """For the admin's history page: set each record's `history_delta_changes` to its changes
    against the version before it (for the page's last row, the version before the page: one
    query). `fields` as in history_changes."""
    records = list(historical_records)
    if not records:
        return
    before = (
        records[0]
        .instance.history.filter(history_id__lt=records[-1].history_id)
        .order_by("-history_id")
        .first()
    )
    for record, previous in zip(records, [*records[1:], before], strict=True):
        record.history_delta_changes = history_changes(previous, record, fields)
