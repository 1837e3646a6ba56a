"""The router's job vectors: computed once per text and model, stored, never on the request path.

A job's routed texts (routing.routed_texts: its name, caller intent and description, the intent
in the caller's voice, its instruction sentences, and the test cases' sentences as examples) are
embedded when they are written (calls/receivers.py, after the commit) and for every job on deploy
(`manage.py embed_jobs`). Rows are content-addressed (JobVector: model id + sha256 of the text),
so an edit embeds only its new texts, an unchanged save embeds nothing, and undo, restore or a
second job with the same sentence reuse the stored rows. A step's index is the stack of its
jobs' vectors (`candidate_vectors`): one query, then the router embeds only the caller.

Vectors read are also kept in this process (they are addressed by content, so never stale).
"""

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import replace

import numpy as np
from django.db import transaction

from . import routing
from .models import JobVector
from .routing.minilm import DIM

KEPT = 16_384  # vectors kept per process, least recently used dropped (~25 MB)
_CHUNK = 2_000  # digests per query and texts per embedding batch in bulk work
_DTYPE = np.dtype("<f4")

embedded = 0  # texts this process ran through the model here (tests read it)

_kept: OrderedDict[tuple[str, str], np.ndarray] = OrderedDict()
_lock = threading.Lock()


def digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def job_texts(job) -> tuple[str, ...]:
    """The routed texts of a job (a Job or the live body's job dict), without examples."""
    return routing.routed_texts(candidate(job))


def example_texts(said: Iterable[str]) -> tuple[str, ...]:
    """The routed texts of test case sentences (as the router reads examples: stripped)."""
    return routing.routed_texts(routing.Candidate(id=0, name="", examples=tuple(said)))


def candidate(job, examples: Sequence[str] = ()) -> routing.Candidate:
    """A Candidate from a Job or from a job dict of the live body (same five fields)."""
    if isinstance(job, dict):
        pk, name, trigger = job["id"], job["name"], job["trigger"]
        description, instructions = job["description"], job["instructions"]
    else:
        pk, name, trigger = job.pk, job.name, job.trigger
        description, instructions = job.description, job.instructions
    return routing.Candidate(
        id=pk,
        name=name,
        trigger=trigger,
        description=description,
        instructions=instructions,
        examples=tuple(examples),
    )


def forget() -> None:
    """Empty this process's kept vectors (tests)."""
    with _lock:
        _kept.clear()


def _recall(model: str, digests: Iterable[str]) -> dict[str, np.ndarray]:
    found = {}
    with _lock:
        for d in digests:
            vector = _kept.get((model, d))
            if vector is not None:
                _kept.move_to_end((model, d))
                found[d] = vector
    return found


def _remember(model: str, vectors: dict[str, np.ndarray]) -> None:
    with _lock:
        for d, vector in vectors.items():
            _kept[(model, d)] = vector
        while len(_kept) > KEPT:
            _kept.popitem(last=False)


def _embed(texts: list[str]) -> list[np.ndarray]:
    global embedded
    rows = np.asarray(routing.embed(texts), dtype=np.float32)
    with _lock:
        embedded += len(texts)
    return [row for row in rows]


def _decode(raw) -> np.ndarray:
    vector = np.frombuffer(bytes(raw), dtype=_DTYPE).astype(np.float32)
    vector.setflags(write=False)
    return vector


def _stored(model: str, digests: list[str]) -> dict[str, np.ndarray]:
    rows = JobVector.objects.filter(model=model, digest__in=digests).values_list("digest", "vector")
    return {d: _decode(raw) for d, raw in rows}


def _insert(model: str, vectors: dict[str, np.ndarray]) -> None:
    JobVector.objects.bulk_create(
        [
            JobVector(model=model, digest=d, vector=np.asarray(v, dtype=_DTYPE).tobytes())
            for d, v in vectors.items()
        ],
        batch_size=500,
        ignore_conflicts=True,  # stored meanwhile by another process: the same vector
    )


def vectors_for(texts: Sequence[str]) -> np.ndarray:
    """Unit vectors (one row per text, float32) of the current model: from this process's memory,
    else the database (one query for all of them); any still missing are embedded in one batch
    and stored (after the commit when inside a transaction). Writes store their texts first
    (`store`), so on the request path nothing is missing and nothing is embedded."""
    texts = list(texts)
    model = routing.model_id()
    keys = [digest(t) for t in texts]
    found = _recall(model, keys)
    wanted = list(dict.fromkeys(k for k in keys if k not in found))
    if wanted:
        stored = _stored(model, wanted)
        found |= stored
        missing = {k: t for k, t in zip(keys, texts, strict=True) if k not in found}
        new = dict(zip(missing, _embed(list(missing.values())), strict=True)) if missing else {}
        if new:
            transaction.on_commit(lambda: _insert(model, new), robust=True)
        found |= new
        _remember(model, stored | new)
    if not texts:
        return np.zeros((0, DIM), dtype=np.float32)
    return np.vstack([found[k] for k in keys])


def store(texts: Iterable[str]) -> tuple[int, int]:
    """Store the vectors of `texts` the database lacks for the current model: one query (per
    2,000 texts) finds them, the missing are embedded in one batch and inserted. Returns
    (stored now, already stored). Unchanged texts cost that one query and embed nothing."""
    unique = {digest(t): t for t in texts if t}
    model = routing.model_id()
    keys = list(unique)
    added = had = 0
    for start in range(0, len(keys), _CHUNK):
        chunk = keys[start : start + _CHUNK]
        present = set(
            JobVector.objects.filter(model=model, digest__in=chunk).values_list("digest", flat=True)
        )
        had += len(present)
        missing = [k for k in chunk if k not in present]
        if not missing:
            continue
        known = _recall(model, missing)  # read on a request path before: not embedded again
        to_embed = [k for k in missing if k not in known]
        new = known | dict(
            zip(to_embed, _embed([unique[k] for k in to_embed]), strict=True) if to_embed else {}
        )
        _insert(model, new)
        _remember(model, new)
        added += len(new)
    return added, had


def candidate_vectors(candidates: Sequence[routing.Candidate]) -> tuple[routing.Candidate, ...]:
    """The candidates with `vectors` set: the rows of routing.routed_texts(candidate), in
    order, for every candidate of a step (or of several steps) with one query."""
    texts = [routing.routed_texts(c) for c in candidates]
    unique = list(dict.fromkeys(t for found in texts for t in found))
    if not unique:
        return tuple(candidates)
    rows = dict(zip(unique, vectors_for(unique), strict=True))
    return tuple(
        replace(c, vectors=np.vstack([rows[t] for t in found]) if found else None)
        for c, found in zip(candidates, texts, strict=True)
    )


# Bulk: deploy (`embed_jobs`) and imports ---------------------------------------------------


def _batches(texts: Iterable[str]) -> Iterable[list[str]]:
    batch = []
    for text in texts:
        batch.append(text)
        if len(batch) >= _CHUNK:
            yield batch
            batch = []
    if batch:
        yield batch


def store_all(texts: Iterable[str]) -> tuple[int, int]:
    """`store` over many texts, 2,000 at a time (each batch is stored as it is done)."""
    added = had = 0
    for batch in _batches(texts):
        a, h = store(batch)
        added, had = added + a, had + h
    return added, had


def every_routed_text() -> Iterable[str]:
    """Every routed text of every job not deleted and of every test case (a one-turn scenario
    naming a job)."""
    from jobs.models import Job

    from .models import Scenario

    fields = ("pk", "name", "trigger", "description", "instructions")
    jobs = Job.objects.filter(deleted_at__isnull=True).order_by("pk").values_list(*fields)
    for row in jobs.iterator(chunk_size=_CHUNK):
        yield from job_texts(dict(zip(("id", *fields[1:]), row, strict=True)))
    rows = Scenario.objects.order_by("pk").values_list("turns", "expect")
    # the router's examples: one-turn scenarios naming a job (test cases)
    said = (
        turns[0]
        for turns, expect in rows.iterator(chunk_size=_CHUNK)
        if isinstance(turns, list)
        and len(turns) == 1
        and isinstance(expect, dict)
        and isinstance(expect.get("job"), str)
    )
    for batch in _batches(said):
        yield from example_texts(batch)


def embed_all() -> tuple[int, int]:
    """Store the vectors of every job's and test case's texts for the current model (deploy):
    (stored now, already stored). A second run stores nothing."""
    return store_all(every_routed_text())


def prune_other_models() -> int:
    """Delete the vectors of every model but the current one; the number deleted."""
    deleted, _ = JobVector.objects.exclude(model=routing.model_id()).delete()
    return deleted
