"""The word diff behind Compare, the conflict page and the admin history."""

import random
import re
import time

from hypothesis import given, settings
from hypothesis import strategies as st

from core.diff import word_diff

WORDS = (
    "the caller a to and of ask for name number if they say you can help is in on with "
    "your our please confirm date time appointment message transfer call back office hours "
    "price address email text sms team member book cancel reschedule order refund its Its"
).split()


def sentence(rng):
    words = [rng.choice(WORDS) for _ in range(rng.randint(6, 16))]
    return " ".join(words).capitalize() + rng.choice([".", "?", "!"])


def text(rng, length=10_000):
    paragraphs = []
    while sum(map(len, paragraphs)) < length:
        paragraphs.append(" ".join(sentence(rng) for _ in range(rng.randint(3, 6))))
    return "\n\n".join(paragraphs)[:length]


def realistic_pair(seed):
    """Two 10,000-character texts: the new one shuffles half the old sentences, adds others."""
    rng = random.Random(seed)
    old = text(rng)
    sentences = re.split(r"(?<=[.?!]) ", old)
    rng.shuffle(sentences)
    new = " ".join(sentences[: len(sentences) // 2]) + "\n\n" + text(rng)
    return old, new[:10_000]


def old_side(segments):
    return "".join(t for op, t in segments if op != "insert")


def new_side(segments):
    return "".join(t for op, t in segments if op != "delete")


def glued(segments):
    """Places where a removed word runs straight into the word that replaced it."""
    return [
        (a, b)
        for (op_a, a), (op_b, b) in zip(segments, segments[1:], strict=False)
        if (op_a, op_b) == ("delete", "insert") and not a[-1].isspace() and not b[0].isspace()
    ]


def test_realistic_texts_round_trip_fast_and_unglued():
    for seed in range(3):
        old, new = realistic_pair(seed)
        assert len(old) == len(new) == 10_000

        start = time.perf_counter()
        segments = word_diff(old, new)
        elapsed = time.perf_counter() - start

        assert old_side(segments) == old
        assert new_side(segments) == new
        assert glued(segments) == []
        assert {op for op, _ in segments} == {"equal", "delete", "insert"}
        assert elapsed < 1.0  # was 4.5-5.5 s; about 20 ms now (bench/diff.py)


def test_a_replaced_last_word_is_kept_apart_from_its_replacement():
    segments = word_diff("Check its status", "Check Its")

    assert segments == [("equal", "Check"), ("delete", " its status"), ("insert", " Its")]


def test_a_changed_space_leaves_the_words_equal():
    segments = word_diff("Ask the\ncaller now", "Ask the caller now")

    assert segments == [
        ("equal", "Ask the"),
        ("delete", "\n"),
        ("insert", " "),
        ("equal", "caller now"),
    ]


def test_repetitive_text_stays_exact_and_fast():
    for old, new in [
        ("Yes. " * 2000, "No. " + "Yes. " * 1999 + "Maybe."),
        ("a b " * 2500, "b a " * 2500),
    ]:
        start = time.perf_counter()
        segments = word_diff(old, new)

        assert time.perf_counter() - start < 1.0  # 1-3 s without the guard, ~1 ms with it
        assert (old_side(segments), new_side(segments)) == (old, new)


# Word-like pieces (with case changes and whitespace runs) make matches and near-misses likely.
pieces = st.lists(st.sampled_from(["a", "b", "Its", "its", " ", "  ", "\n", ".", "é"]))


@settings(max_examples=300, deadline=None)
@given(pieces, pieces)
def test_any_pair_round_trips(old_parts, new_parts):
    old, new = "".join(old_parts), "".join(new_parts)
    segments = word_diff(old, new)

    assert old_side(segments) == old
    assert new_side(segments) == new
    assert all(text for _, text in segments)
    assert all(a[0] != b[0] for a, b in zip(segments, segments[1:], strict=False))


@settings(max_examples=100, deadline=None)
@given(st.text(), st.text())
def test_any_unicode_pair_round_trips(old, new):
    segments = word_diff(old, new)

    assert (old_side(segments), new_side(segments)) == (old, new)
