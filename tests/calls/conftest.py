from pathlib import Path

import pytest

from calls.routing import Candidate, corpus

ROOT = Path(__file__).resolve().parents[2]
SHARED = Path("/work/shared/routing")


def shared_corpus():
    paths = sorted(SHARED.glob("*.json"))
    if not paths:
        pytest.skip("the shared routing corpus is not on this machine")
    return corpus.load(*paths)


def heldout_corpus():
    return corpus.load(ROOT / "bench" / "data" / "routing_heldout.json")


GYM = (
    Candidate(
        1, "Membership sign-up", "Caller wants to join the gym or asks about membership options"
    ),
    Candidate(
        2, "Cancel or freeze membership", "Member wants to cancel, pause or freeze their membership"
    ),
    Candidate(3, "Class schedule", "Caller asks about classes, times or booking a class"),
    Candidate(4, "Personal training", "Caller asks about a personal trainer"),
    Candidate(5, "Lost and found", "Caller lost something at the gym"),
)


@pytest.fixture
def gym():
    return GYM
