"""The router's stored vectors: the numpy encoder is all-MiniLM-L6-v2, job texts are embedded on
write (only the new ones) and on deploy (`embed_jobs`), and neither a live route nor a mock call
embeds a job's text: only what the caller said."""

import json
import os
import subprocess
import sys
import uuid
from contextlib import contextmanager
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from django.core.management import call_command

from callflows import services as cf
from calls import routing, runtime, services, vectors
from calls.candidates import step_candidates
from calls.models import JobVector
from calls.routing import minilm
from calls.selectors import mock
from jobs import services as js
from tests.conftest import command_help

from .conftest import BOOKING, save_case

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
REFERENCE = Path(__file__).parent / "data" / "minilm_reference.json"


@contextmanager
def embedding():
    """Counts the texts calls/vectors.py embeds inside the block (`.count` after it)."""
    found = SimpleNamespace(count=None)
    before = vectors.embedded
    yield found
    found.count = vectors.embedded - before


def embedded_during(fn):
    with embedding() as n:
        result = fn()
    return n.count, result


def stored_digests() -> set[str]:
    return set(JobVector.objects.values_list("digest", flat=True))


def digests(texts) -> set[str]:
    return {vectors.digest(t) for t in texts}


@pytest.fixture
def encoded(monkeypatch):
    """Every text the model encodes from here on (the router and calls/vectors.py alike)."""
    seen: list[str] = []
    real = minilm.encode

    def spy(texts):
        seen.extend(texts)
        return real(texts)

    monkeypatch.setattr(minilm, "encode", spy)
    return seen


def all_job_texts(line) -> set[str]:
    return {t for job in (line.booking, line.hours, line.manager) for t in vectors.job_texts(job)}


# The model ------------------------------------------------------------------------------------


def test_the_numpy_encoder_equals_the_reference_vectors():
    """Reference: transformers + PyTorch, computed once outside the project."""
    reference = json.loads(REFERENCE.read_text(encoding="utf-8"))
    got = routing.embed(reference["sentences"])
    assert got.shape == (len(reference["sentences"]), minilm.DIM) and got.dtype == np.float32
    np.testing.assert_allclose(got, np.array(reference["vectors"]), atol=1e-5)
    np.testing.assert_allclose(np.linalg.norm(got, axis=1), 1, atol=1e-5)


def test_the_model_loads_offline_and_the_first_route_after_warm_up_is_fast():
    """A fresh process with HF_HUB_OFFLINE=1 and every proxy pointing nowhere loads the model
    from the installed wheel; after runtime.warm_up (what config/wsgi.py does) the first
    route (stored job vectors, as on the live line) takes < 100 ms."""
    assert os.environ["HF_HUB_OFFLINE"] == "1"  # tests/conftest.py
    code = """
import time, django
django.setup()
from calls import routing, runtime
start = time.perf_counter()
runtime.warm_up()
loaded = time.perf_counter() - start
jobs = [
    routing.Candidate(id=1, name="Book a table", trigger="Caller wants to book a table"),
    routing.Candidate(id=2, name="Opening hours", trigger="Caller asks when we are open"),
    routing.Candidate(id=3, name="Complaint", trigger="Caller wants to speak to a manager"),
]
jobs = [
    routing.Candidate(**{**c.__dict__, "vectors": routing.embed(routing.routed_texts(c))})
    for c in jobs
]
start = time.perf_counter()
decision = routing.route(jobs, "could I reserve a table for four on friday night")
took = time.perf_counter() - start
print(f"{loaded:.3f} {took:.4f} {decision.job.name if decision.job else ''}")
"""
    nowhere = "http://127.0.0.1:9"
    env = {
        **os.environ,
        "HF_HUB_OFFLINE": "1",
        "HTTP_PROXY": nowhere,
        "HTTPS_PROXY": nowhere,
        "http_proxy": nowhere,
        "https_proxy": nowhere,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
    }
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    loaded, took, _ = done.stdout.split(" ", 2)
    assert float(took) < 0.1, done.stdout


# Computed on write ----------------------------------------------------------------------------


def test_a_new_job_has_its_texts_stored_after_the_commit(
    workspace, owner, django_capture_on_commit_callbacks
):
    data = {**BOOKING, "name": f"Book {uuid.uuid4().hex[:8]}"}
    with embedding() as n, django_capture_on_commit_callbacks(execute=True):
        job = js.job_create(workspace=workspace, user=owner, data=data)
        assert not stored_digests()  # nothing before the commit
    texts = vectors.job_texts(job)
    assert digests(texts) <= stored_digests()
    assert n.count == len(set(texts))
    row = JobVector.objects.get(digest=vectors.digest(texts[0]))
    assert row.model == routing.model_id() == "all-MiniLM-L6-v2"
    np.testing.assert_allclose(
        np.frombuffer(bytes(row.vector), dtype="<f4"), routing.embed([texts[0]])[0], atol=1e-6
    )


def test_an_edit_embeds_exactly_its_new_texts(workspace, owner, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        job = js.job_create(workspace=workspace, user=owner, data=BOOKING)
    old = set(vectors.job_texts(job))
    instructions = BOOKING["instructions"] + "\n4. Thank them for choosing the Red Lion."
    with embedding() as n, django_capture_on_commit_callbacks(execute=True):
        job = js.job_update(job=job, user=owner, data={"instructions": instructions})
    new = set(vectors.job_texts(job)) - old
    assert new == {"Thank them for choosing the Red Lion."}
    assert n.count == 1 and digests(new) <= stored_digests()


def test_saves_that_change_no_routed_text_embed_nothing(
    workspace, owner, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        job = js.job_create(workspace=workspace, user=owner, data=BOOKING)
        first = job.history.order_by("history_id").first()
        job = js.job_update(job=job, user=owner, data={"description": "Tables and rooms."})
    rows = JobVector.objects.count()
    vectors.forget()  # not even this process's memory helps: the database has them
    with embedding() as n, django_capture_on_commit_callbacks(execute=True) as callbacks:
        js.job_update(job=job, user=owner, data={"name": BOOKING["name"]})  # unchanged
        js.job_delete(job=job, user=owner)
        js.job_restore_deleted(job=job, user=owner)
        js.job_restore_version(job=job, version=first, user=owner)  # back to stored texts
    assert callbacks  # the saves did ask to store their texts ...
    assert n.count == 0 and JobVector.objects.count() == rows  # ... and found them stored


def test_a_saved_test_case_stores_its_sentence(line, django_capture_on_commit_callbacks):
    said = f"can I get a table by the window {uuid.uuid4().hex[:6]}"
    with embedding() as n, django_capture_on_commit_callbacks(execute=True):
        save_case(
            call_flow=line.flow,
            user=line.owner,
            step_key=line.sona.key,
            said=said,
            job=line.booking,
        )
    assert n.count == 1 and vectors.digest(said) in stored_digests()


def test_a_job_attached_after_a_bulk_import_gets_its_vectors(
    workspace, owner, sona, django_capture_on_commit_callbacks
):
    record = {**BOOKING, "name": "Imported booking"}
    with django_capture_on_commit_callbacks(execute=True):
        js.job_import(workspace=workspace, user=owner, records=[record])  # no post_save
    job = workspace.jobs.get(name="Imported booking")
    assert not digests(vectors.job_texts(job)) <= stored_digests()
    with django_capture_on_commit_callbacks(execute=True):
        cf.step_attach_job(step=sona, job=job, user=owner)
    assert digests(vectors.job_texts(job)) <= stored_digests()


# One way to the candidates --------------------------------------------------------------------


def test_a_steps_candidates_carry_their_stored_vectors_in_two_queries(
    line, django_assert_num_queries
):
    save_case(
        call_flow=line.flow,
        user=line.owner,
        step_key=line.sona.key,
        said="a table for six tonight",
        job=line.booking,
    )
    call_command("embed_jobs", stdout=open(os.devnull, "w"))  # noqa: SIM115
    vectors.forget()
    jobs = [line.booking, line.hours, line.manager]
    with django_assert_num_queries(2):  # the test cases, the vectors
        found = step_candidates(call_flow_id=line.flow.pk, step_key=line.sona.key, jobs=jobs)
    assert [c.id for c in found] == [j.pk for j in jobs]
    assert found[0].examples == ("a table for six tonight",)
    for c in found:
        texts = routing.routed_texts(c)
        np.testing.assert_allclose(c.vectors, routing.embed(texts), atol=1e-6)
    # The live body's job dicts give the same candidates.
    body = [
        {k: getattr(j, k) for k in ("name", "trigger", "description", "instructions")}
        | {"id": j.pk}
        for j in jobs
    ]
    again = step_candidates(phone_id=line.phone.pk, step_key=line.sona.key, jobs=body)
    assert again == found


def test_vectors_for_reads_all_stored_texts_in_one_query(line, django_assert_num_queries):
    call_command("embed_jobs", stdout=open(os.devnull, "w"))  # noqa: SIM115
    vectors.forget()
    texts = sorted(all_job_texts(line))
    with django_assert_num_queries(1):
        count, found = embedded_during(lambda: vectors.vectors_for(texts))
    assert count == 0 and found.shape == (len(texts), minilm.DIM)
    with django_assert_num_queries(0):  # now remembered by this process
        vectors.vectors_for(texts)


def test_a_live_route_embeds_only_what_the_caller_said(client, published, owner, encoded):
    from workspaces.services import api_token_create

    from .test_api import ask

    line = published
    token = api_token_create(workspace=line.workspace, name="runtime", user=owner).raw
    call_command("embed_jobs", stdout=open(os.devnull, "w"))  # noqa: SIM115  (the deploy step)
    runtime._indexes.clear()
    encoded.clear()
    said = f"When are you open on the {uuid.uuid4().hex[:6]} holiday"
    # The answer's shape is pinned by test_api.py (calls/api.py is changing with the router's
    # new decisions); this test is about what the route embeds on the way to it.
    client.raise_request_exception = False
    count, _ = embedded_during(lambda: ask(client, line.phone.number, token, {"said": said}))
    assert count == 0  # no job text embedded by calls/vectors.py
    assert encoded == [said]  # the model ran once, for the caller's sentence
    [index] = runtime._indexes.values()
    for step in index.steps.values():
        assert all(c.vectors is not None for c in step.candidates)


def test_a_mock_call_embeds_no_job_text(line, encoded):
    call_command("embed_jobs", stdout=open(os.devnull, "w"))  # noqa: SIM115
    vectors.forget()
    encoded.clear()
    turns = [f"I want to book a table {uuid.uuid4().hex[:6]}", "for two people please"]
    count, _ = embedded_during(
        lambda: services.mock_call_end(call_flow=line.flow, user=line.owner, turns=turns)
    )
    assert count == 0
    assert not set(encoded) & all_job_texts(line)
    goal = mock.target(call_flow=line.flow)
    assert all(c.vectors is not None for c in goal.candidates)


# embed_jobs -----------------------------------------------------------------------------------


def test_embed_jobs_is_idempotent_and_prunes_other_models(line, capsys):
    JobVector.objects.create(model="old-model", digest="0" * 64, vector=b"\0" * 4)
    call_command("embed_jobs")
    first = capsys.readouterr().out
    texts = all_job_texts(line)
    assert f"({0} already stored)" not in first or len(texts) > 0
    assert first.startswith("Embedded ") and first.strip().endswith("for all-MiniLM-L6-v2.")
    assert digests(texts) <= stored_digests()
    vectors.forget()
    count, _ = embedded_during(lambda: call_command("embed_jobs"))
    stored = JobVector.objects.filter(model="all-MiniLM-L6-v2").count()
    assert count == 0
    assert capsys.readouterr().out == (
        f"Embedded 0 texts ({stored} already stored) for all-MiniLM-L6-v2.\n"
    )
    call_command("embed_jobs", "--prune")
    assert capsys.readouterr().out.endswith("Pruned 1 vectors of other models.\n")
    assert not JobVector.objects.exclude(model="all-MiniLM-L6-v2").exists()
    assert JobVector.objects.count() == stored


def test_embed_jobs_leaves_deleted_jobs_out(workspace, owner, capsys):
    job = js.job_create(workspace=workspace, user=owner, data={**BOOKING, "name": "Gone"})
    js.job_delete(job=job, user=owner)
    call_command("embed_jobs")
    assert capsys.readouterr().out == "Embedded 0 texts (0 already stored) for all-MiniLM-L6-v2.\n"


def test_embed_jobs_help(capsys):
    out = " ".join(command_help("embed_jobs", capsys).split())
    assert out.startswith("usage: embed_jobs ") and "--prune" in out and "on deploy" in out
