"""Which control an htmx swap of the jobs and knowledge panels asks static/js/app.js to focus
(`data-focus-after-swap`, element ids best first): the same job's or page's row control.
The browser side is pinned by tests/e2e/test_keyboard.py."""

import re

from django.urls import reverse

from tests.conftest import attach, attached_names, sona_of
from tests.factories import JobFactory, KnowledgePageFactory


def focus_ids(response) -> list[str]:
    match = re.search(r'data-focus-after-swap="([^"]*)"', response.text)
    assert match, response.text[:300]
    return match.group(1).split()


def post(client, name, phone, step, data):
    url = reverse(f"callflows:{name}", args=[phone.pk, step.pk])
    return client.post(url, data, HTTP_HX_REQUEST="true")


def test_attach_asks_for_the_same_jobs_detach(owner_client, phone, workspace):
    sona = sona_of(phone)
    job = JobFactory(workspace=workspace)
    response = post(owner_client, "attach", phone, sona, {"job": job.pk})
    assert focus_ids(response)[0] == f"detach-job-{job.pk}"
    assert f'id="detach-job-{job.pk}"' in response.text


def test_move_keeps_the_moved_jobs_control(owner_client, owner, phone, workspace):
    sona = sona_of(phone)
    a, b = JobFactory(workspace=workspace, name="A"), JobFactory(workspace=workspace, name="B")
    attach(sona, [a, b], owner)
    response = post(owner_client, "job_move", phone, sona, {"job": a.pk, "offset": "1"})
    assert attached_names(sona) == ["B", "A"]
    # A is last now: no Move down, so the first id that exists is its Move up.
    assert focus_ids(response)[:3] == [
        f"move-down-job-{a.pk}",
        f"move-up-job-{a.pk}",
        f"detach-job-{a.pk}",
    ]
    assert f'id="move-down-job-{a.pk}"' not in response.text
    assert f'id="move-up-job-{a.pk}"' in response.text


def test_detach_asks_for_the_next_row_then_the_previous_then_attach(
    owner_client, owner, phone, workspace
):
    sona = sona_of(phone)
    a, b, c = (JobFactory(workspace=workspace, name=n) for n in "ABC")
    attach(sona, [a, b, c], owner)
    response = post(owner_client, "detach", phone, sona, {"job": b.pk})
    assert focus_ids(response) == [
        f"detach-job-{c.pk}",
        f"detach-job-{a.pk}",
        f"attach-job-{b.pk}",
        "library-search",
    ]
    response = post(owner_client, "detach", phone, sona, {"job": c.pk})  # the last row
    assert focus_ids(response)[0] == f"detach-job-{a.pk}"
    response = post(owner_client, "detach", phone, sona, {"job": a.pk})  # the only row
    assert focus_ids(response)[0] == f"attach-job-{a.pk}"
    assert attached_names(sona) == []


def test_a_refused_attach_keeps_the_attach_button(owner_client, phone):
    sona = sona_of(phone)
    response = post(owner_client, "attach", phone, sona, {"job": "abc"})
    assert "Choose a job." in response.text
    assert focus_ids(response) == ["library-search"]


def test_knowledge_panel_focus_follows_the_page(owner_client, phone, workspace):
    sona = sona_of(phone)
    page = KnowledgePageFactory(workspace=workspace)
    response = post(owner_client, "knowledge_attach", phone, sona, {"page_id": page.pk})
    assert focus_ids(response)[0] == f"detach-page-{page.pk}"
    assert f'id="detach-page-{page.pk}"' in response.text
    response = post(owner_client, "knowledge_detach", phone, sona, {"page_id": page.pk})
    assert focus_ids(response)[0] == f"attach-page-{page.pk}"
    assert f'id="attach-page-{page.pk}"' in response.text


def test_optimize_asks_for_undo_and_announces_it(owner_client, workspace):
    job = JobFactory(workspace=workspace, instructions="ask their name. ask their name.")
    data = {
        "name": job.name,
        "description": job.description,
        "trigger": job.trigger,
        "instructions": job.instructions,
        "revision": job.revision,
    }
    response = owner_client.post(
        reverse("jobs:optimize", args=[job.pk]), data, HTTP_HX_REQUEST="true"
    )
    text = response.text
    undo = re.search(r"<button[^>]*undo[^>]*>", text, re.S).group(0)
    assert "data-focus-after-swap" in undo
    assert 'hx-swap-oob="innerHTML:#job-announce"' in text
    assert "Optimized and saved:" in text
