"""The built-in router: offline, deterministic, the default.

Score of a job for what the caller said (0..1) =
  LEXICAL_WEIGHT * lexical + SEMANTIC_WEIGHT * semantic + SOFT_WEIGHT * soft, where
- lexical: the share of the caller's words that the job's texts contain, after stemming
  (PyStemmer) and the phone-call concept groups of synonyms.py ("can't make it" ~ "cancel");
  half IDF-weighted over the step's jobs (to rank), half plain (to tell off-topic callers). A
  word in the name, caller intent or a test case counts fully, in the description or
  instructions less; words no job has count half, groups double.
- semantic: cosine of the caller's sentence with the job's nearest sentence (name, caller
  intent, description, test cases, instructions), WordLlama l2_supercat embeddings (16 MB,
  inside the wheel), rescaled from 0.1..0.7 to 0..1.
- soft: each caller word against the job's nearest word (WordLlama), for near-synonyms.

Why (bench/routing.py; accuracy incl. "no job" on shared / dev / held-out):
  plain BM25 on name + intent 67% / 51% / 30%; WordLlama alone 71% / 70% / 51%;
  lexical with stems + groups 96% / 88% / 66%; this mix 96% / 86% / 70%.
WordLlama is the only semantic model that ships in a wheel without PyTorch here; it is weak on
word associations ("jaw" ~ "tooth" 0.18), so the synonym groups carry most of the accuracy.
all-MiniLM-L6-v2 (about 80% zero-shot) needs PyTorch and is not used.
"""

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from . import Candidate, Match, semantic
from .text import sentences, terms

# Field weights: where a caller's word is found in the job (the best field counts).
FIELD_WEIGHTS = {
    "name": 1.0,
    "trigger": 1.0,
    "examples": 1.0,
    "description": 0.8,
    "instructions": 0.5,
}
# Sentences of the instructions say how to do the job, not when: their similarity counts less.
SENTENCE_WEIGHTS = {
    "name": 1.0,
    "trigger": 1.0,
    "examples": 1.0,
    "description": 0.95,
    "instructions": 0.85,
}
GROUP_IDF_BOOST = 2.0
PLAIN_SHARE = 0.5
UNKNOWN_WEIGHT = 0.5  # words no job has: they dilute every job alike, so count them less
LEXICAL_WEIGHT = 0.6
SEMANTIC_WEIGHT = 0.3
SOFT_WEIGHT = 0.1  # each caller word against the job's nearest word (WordLlama)
SEMANTIC_FLOOR = 0.1  # cosines under this say nothing (unrelated sentences sit around 0-0.15)
SEMANTIC_CEILING = 0.7
SOFT_FLOOR = 0.15


@dataclass(frozen=True)
class _Job:
    candidate: Candidate
    weights: dict  # term -> best field weight
    surface: dict  # term -> the job's words for it (for `why`)
    sentences: tuple
    word_list: tuple  # the job's content words (surface forms)
    word_weights: np.ndarray
    word_vectors: np.ndarray
    sentence_weights: np.ndarray
    vectors: np.ndarray


@dataclass(frozen=True)
class _Index:
    jobs: tuple
    df: dict  # term -> number of jobs having it


def _fields(c: Candidate) -> list[tuple[str, str]]:
    found = [("name", c.name), ("trigger", c.trigger), ("description", c.description)]
    found += [("examples", e) for e in c.examples]
    found += [("instructions", s) for s in sentences(c.instructions)]
    return [(field, text) for field, text in found if text and text.strip()]


@lru_cache(maxsize=256)
def index(candidates: tuple[Candidate, ...]) -> _Index:
    """Per-step data, cached by the candidates' texts so later turns only embed the caller."""
    jobs = []
    for c in candidates:
        weights, surface = {}, {}
        texts, sentence_weights = [], []
        for field, text in _fields(c):
            for term, words in terms(text).items():
                if FIELD_WEIGHTS[field] > weights.get(term, 0):
                    weights[term] = FIELD_WEIGHTS[field]
                    surface[term] = words
            texts.append(text)
            sentence_weights.append(SENTENCE_WEIGHTS[field])
        if c.name and c.trigger:
            texts.append(f"{c.name}: {c.trigger}")
            sentence_weights.append(1.0)
        plain = sorted(t for t in weights if not t.startswith("_"))
        word_list = tuple(surface[t] for t in plain)
        jobs.append(
            _Job(
                c,
                weights,
                surface,
                tuple(texts),
                word_list,
                np.array([weights[t] for t in plain], dtype=np.float32),
                semantic.embed(list(word_list)),
                np.array(sentence_weights, dtype=np.float32),
                semantic.embed(texts),
            )
        )
    df = {}
    for job in jobs:
        for term in job.weights:
            df[term] = df.get(term, 0) + 1
    return _Index(tuple(jobs), df)


def _idf(df: int, n: int) -> float:
    return math.log(1 + (n - df + 0.5) / (df + 0.5))


def score(candidates: tuple[Candidate, ...], said: str) -> list[tuple[float, float, float, Match]]:
    """(score, lexical, semantic, Match) per candidate, in the candidates' order."""
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
    query = semantic.embed([said])[0] if said.strip() else None
    plain = [t for t in asked if not t.startswith("_")]
    qwords = semantic.embed([asked[t] for t in plain])
    qidf = np.array([idf[t] for t in plain], dtype=np.float32)
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
        soft = 0.0
        if len(plain) and len(job.word_list):
            sims = np.clip((qwords @ job.word_vectors.T - SOFT_FLOOR) / (1 - SOFT_FLOOR), 0, 1)
            soft = float((sims * job.word_weights).max(axis=1) @ qidf / qidf.sum())
        sem = min(max((cosine - SEMANTIC_FLOOR) / (SEMANTIC_CEILING - SEMANTIC_FLOOR), 0.0), 1.0)
        value = LEXICAL_WEIGHT * lexical + SEMANTIC_WEIGHT * sem + SOFT_WEIGHT * soft
        why = _why(hits, asked, job, nearest)
        match = Match(job.candidate.id, job.candidate.name, round(min(value, 1.0), 3), why)
        found.append((value, lexical, sem, soft, match))
    return found


def _why(hits, asked, job, nearest) -> tuple[str, ...]:
    reasons = []
    for term in sorted(hits, key=lambda t: (t.startswith("_"), t)):
        said_words, job_words = asked[term], job.surface[term]
        if term.startswith("_"):
            if said_words.lower() != job_words.lower():
                reasons.append(f'"{said_words}" ~ "{job_words}"')
        elif job_words not in reasons:
            reasons.append(job_words)
    if nearest:
        reasons.append(f'nearest: "{nearest}"')
    return tuple(dict.fromkeys(reasons))
