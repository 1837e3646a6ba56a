"""The built-in router: offline, deterministic, the default.

For each attached job it reads two signals for what the caller said:
- semantic: all-MiniLM-L6-v2 (calls/routing/minilm.py) cosine of the caller's sentence with the
  job's nearest *intent* sentence: its name, caller intent (also said in the caller's own voice:
  "Caller wants to move an appointment" -> "I want to move an appointment"), description and the
  owners' test cases; the instructions' sentences count less (they say how, not when);
- lexical: the share of the caller's words the job's texts contain, after stemming and the
  phone-call concept groups of synonyms.py ("can't make it" ~ cancel), IDF-weighted over the
  step's jobs so that a word every job has does not rank.
score = SEMANTIC_WEIGHT * semantic + LEXICAL_WEIGHT * lexical, then the engine decides (job,
clarify, none) on calibrated thresholds (engine.py). The job vectors are computed once per text
and model (calls/vectors.py stores them); a turn embeds only the caller's sentence.
"""

import math
import re
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from . import Candidate
from .text import sentences, terms

# Field weights: where a caller's word is found in the job (the best field counts).
FIELD_WEIGHTS = {
    "name": 1.0,
    "trigger": 1.0,
    "voice": 1.0,
    "examples": 1.0,
    "description": 0.8,
    "instructions": 0.5,
}
INSTRUCTIONS_WEIGHT = 0.9  # an instruction sentence's cosine counts this much
GROUP_IDF_BOOST = 2.0
PLAIN_SHARE = 0.5
UNKNOWN_WEIGHT = 0.5  # words no job has: they dilute every job alike, so count them less
SEMANTIC_WEIGHT = 0.6
LEXICAL_WEIGHT = 0.4
NAME_WEIGHT = 0.9  # a bare name is short: its cosine runs high with anything on its topic


def caller_voice(intent: str) -> str:
    """ "Caller wants to move their appointment" -> "I want to move my appointment"; "" when
    the intent is not written about the caller."""
    m = re.match(
        r"(?i)^\s*(?:the\s+|a\s+|an\s+)?(?:caller|customer|client|patient|person|parent|owner|"
        r"tenant|renter|member|guest|someone|family|student)s?(?:'s)?\s+(\w+)\s*(.*)$",
        intent.strip(),
    )
    if not m:
        return ""
    verb, rest = m.group(1).lower(), m.group(2)
    verbs = {
        "wants": "want",
        "needs": "need",
        "has": "have",
        "is": "am",
        "asks": "am asking",
        "calls": "am calling",
        "reports": "am reporting",
        "would": "would",
        "was": "was",
        "can't": "can't",
        "cannot": "cannot",
        "whose": "whose",
        "who": "who",
    }
    verb = verbs.get(verb, verb[:-1] if verb.endswith("s") and len(verb) > 3 else verb)
    rest = re.sub(r"(?i)\b(their|his|her)\b", "my", rest)
    rest = re.sub(r"(?i)\bthey\b", "I", rest)
    rest = re.sub(r"(?i)\bthem(?:selves)?\b", "me", rest)
    return f"I {verb} {rest}".strip()


def _fields(c: Candidate) -> list[tuple[str, str]]:
    """(field, text) of everything the router reads of a job, in a fixed order."""
    found = [("name", c.name), ("trigger", c.trigger), ("description", c.description)]
    if c.trigger:
        found += [("voice", caller_voice(c.trigger)), ("trigger", f"{c.name}: {c.trigger}")]
    found += [("examples", e) for e in c.examples]
    found += [("instructions", s) for s in sentences(c.instructions)]
    seen, unique = set(), []
    for field, text in found:
        text = (text or "").strip()
        if text and text not in seen:
            seen.add(text)
            unique.append((field, text))
    return unique


def routed_texts(c: Candidate) -> tuple[str, ...]:
    return tuple(text for _, text in _fields(c))


@lru_cache(maxsize=8192)
def _embed_one(text: str) -> np.ndarray:
    from .minilm import encode

    vector = encode([text])[0]
    vector.setflags(write=False)
    return vector


def embed(texts) -> np.ndarray:
    """Unit vectors for texts, cached per text in this process."""
    from .minilm import DIM

    if not texts:
        return np.zeros((0, DIM), dtype=np.float32)
    return np.vstack([_embed_one(t) for t in texts])


@lru_cache(maxsize=1)
def _off_topic() -> np.ndarray:
    """Vectors of calls no job is for (off_topic.py), embedded once per process."""
    from .off_topic import OFF_TOPIC

    return embed(list(OFF_TOPIC))


@dataclass(frozen=True)
class _Job:
    candidate: Candidate
    weights: dict  # term -> best field weight
    surface: dict  # term -> the job's words for it (for `why`)
    sentences: tuple  # routed texts
    kinds: tuple  # their fields
    sentence_weights: np.ndarray
    vectors: np.ndarray


@dataclass(frozen=True)
class _Index:
    jobs: tuple
    df: dict  # term -> number of jobs having it


@lru_cache(maxsize=256)
def index(candidates: tuple[Candidate, ...]) -> _Index:
    """Per-step data, cached by the candidates' texts: a turn only embeds the caller."""
    jobs = []
    for c in candidates:
        weights, surface = {}, {}
        fields = _fields(c)
        for field, text in fields:
            for term, words in terms(text).items():
                if FIELD_WEIGHTS[field] > weights.get(term, 0):
                    weights[term] = FIELD_WEIGHTS[field]
                    surface[term] = words
        texts = tuple(text for _, text in fields)
        vectors = c.vectors
        if vectors is None or len(vectors) != len(texts):
            vectors = embed(list(texts))
        jobs.append(
            _Job(
                c,
                weights,
                surface,
                texts,
                tuple(field for field, _ in fields),
                np.array(
                    [
                        INSTRUCTIONS_WEIGHT
                        if f == "instructions"
                        else NAME_WEIGHT
                        if f == "name"
                        else 1.0
                        for f, _ in fields
                    ],
                    dtype=np.float32,
                ),
                np.asarray(vectors, dtype=np.float32),
            )
        )
    df = {}
    for job in jobs:
        for term in job.weights:
            df[term] = df.get(term, 0) + 1
    return _Index(tuple(jobs), df)


def _idf(df: int, n: int) -> float:
    return math.log(1 + (n - df + 0.5) / (df + 0.5))


@dataclass(frozen=True)
class Scored:
    candidate: Candidate
    value: float  # SEMANTIC_WEIGHT * semantic + LEXICAL_WEIGHT * lexical
    semantic: float  # cosine with the nearest sentence (instructions discounted)
    lexical: float
    nearest: str  # the job sentence nearest to what the caller said
    hits: tuple  # (the caller's words, the job's words, group name or "") that matched
    off_topic: float = 0.0  # nearness to calls no job is for (the same for every job)


def score(candidates: tuple[Candidate, ...], said: str) -> list[Scored]:
    """One Scored per candidate, in the candidates' order."""
    idx = index(candidates)
    n = len(idx.jobs)
    asked = terms(said)
    idf = {
        t: _idf(idx.df.get(t, 0), n)
        * (GROUP_IDF_BOOST if t.startswith("_") else 1.0)
        * (UNKNOWN_WEIGHT if t not in idx.df else 1.0)
        for t in asked
    }
    total = sum(idf.values())
    # Plain weights (no IDF) say whether the caller is on this step's topic at all: a word many
    # jobs share ("pests" at a pest-control firm) does not rank, but it is not off-topic either.
    plain_weight = {t: GROUP_IDF_BOOST if t.startswith("_") else 1.0 for t in asked}
    plain_total = sum(plain_weight.values())
    query = embed([said])[0] if said.strip() else None
    off_topic = float((_off_topic() @ query).max()) if query is not None else 0.0
    found = []
    for job in idx.jobs:
        hits = [t for t in asked if t in job.weights]
        ranked = sum(idf[t] * job.weights[t] for t in hits) / total if total else 0.0
        on_topic = (
            sum(plain_weight[t] * job.weights[t] for t in hits) / plain_total if hits else 0.0
        )
        lexical = (1 - PLAIN_SHARE) * ranked + PLAIN_SHARE * on_topic
        nearest, cosine = "", 0.0
        if query is not None and len(job.sentences):
            sims = (job.vectors @ query) * job.sentence_weights
            best = int(np.argmax(sims))
            nearest, cosine = job.sentences[best], float(sims[best])
        value = SEMANTIC_WEIGHT * max(cosine, 0.0) + LEXICAL_WEIGHT * lexical
        matched = tuple(
            (asked[t], job.surface[t], t[1:] if t.startswith("_") else "")
            for t in sorted(hits, key=lambda t: (t.startswith("_"), t))
        )
        found.append(Scored(job.candidate, value, cosine, lexical, nearest, matched, off_topic))
    return found
