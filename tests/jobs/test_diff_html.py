"""The word diff as people read it: spaces kept, changes marked by element, colour and words."""

import pytest
from django.urls import reverse

from core.diff import excerpt, word_diff
from jobs import services

pytestmark = pytest.mark.django_db
R, A = '<span class="sr-only">removed: </span>', '<span class="sr-only">added: </span>'


def _compare(client, job):
    versions = list(job.history.order_by("history_id"))
    url = reverse("jobs:compare", args=[job.pk])
    return client.get(url, {"a": versions[-2].history_id, "b": versions[-1].history_id}).text


def _job(workspace, owner, old, new):
    job = services.job_create(
        workspace=workspace, user=owner, data={"name": "Status", "instructions": old}
    )
    return services.job_update(job=job, user=owner, data={"instructions": new})


def test_its_and_its_stay_apart(owner_client, workspace, owner):
    job = _job(workspace, owner, "Check its status", "Check Its status")
    body = _compare(owner_client, job)
    assert f"Check <del>{R}its </del><ins>{A}Its </ins>status" in body
    assert "itsIts" not in body.replace(R, "").replace(A, "").replace("</del><ins>", "")


def test_multiple_spaces_and_line_breaks_are_kept(owner_client, workspace, owner):
    job = _job(workspace, owner, "Say   hello\n\nthen ask", "Say   hello\n\nthen  ask twice")
    body = _compare(owner_client, job)
    assert "Say   hello\n\nthen" in body  # unchanged text, every space and line break
    assert f"<ins>{A}ask twice</ins>" in body or "twice</ins>" in body


def test_user_text_inside_a_diff_is_escaped(owner_client, workspace, owner):
    job = _job(workspace, owner, "Say <b>hi</b>", "Say <script>alert(1)</script>")
    body = _compare(owner_client, job)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;</ins>" in body
    assert "&lt;b&gt;hi&lt;/b&gt;</del>" in body
    assert "<script>alert" not in body and "<b>hi" not in body


def test_the_legend_and_styles_are_on_the_page(owner_client, workspace, owner):
    body = _compare(owner_client, _job(workspace, owner, "a", "b"))
    assert "css/diff.css" in body and "<del>removed</del>" in body and "<ins>added</ins>" in body


def test_excerpt_keeps_whole_words_around_changes():
    old = " ".join(f"w{i}" for i in range(30)) + " end"
    new = " ".join(f"w{i}" for i in range(30)) + " END"
    cut = excerpt(word_diff(old, new), words=3)
    assert cut[0] == ("gap", "… ")
    assert cut[1] == ("equal", "w27 w28 w29")
    assert [op for op, _ in cut[2:]] == ["delete", "insert"]
    assert excerpt(word_diff("same", "same")) == []
