"""The Calls pages: the list (filters, keyset pages, scoping, pinned queries), a call's page,
the CSV export, and the calls panel of the job page and the number page (since the last edit,
calls per day by outcome with each edit marked, and the same numbers as a table)."""

import csv
import io
import re
from datetime import UTC, datetime, timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from callflows import services as callflow_services
from calls.models import Call, Outcome, Source
from calls.selectors import log
from calls.views import csv_safe
from jobs import services as job_services
from tests.factories import CallFactory, JobFactory, MembershipFactory, PhoneNumberFactory

pytestmark = pytest.mark.django_db
LIST = "/calls/"


def _at(days_ago=0, hours=0):
    return timezone.now() - timedelta(days=days_ago, hours=hours)


def _calls(phone, count, **kwargs):
    start = kwargs.pop("start", timezone.now() - timedelta(minutes=count))
    return [
        CallFactory(phone_number=phone, started_at=start + timedelta(minutes=i), **kwargs)
        for i in range(count)
    ]


def _ids(response):
    return [c.pk for c in response.context["page"].calls]


# List: filters -------------------------------------------------------------------------------


def test_calls_are_listed_newest_first_with_their_columns(owner_client, phone):
    job = JobFactory(workspace=phone.workspace, name="Opening hours")
    old = CallFactory(phone_number=phone, started_at=_at(2), caller="+15555550111")
    new = CallFactory(
        phone_number=phone,
        started_at=_at(1),
        caller="+15555550112",
        job=job,
        job_name=job.name,
        outcome=Outcome.SMS_SENT,
        actions=[{"type": "send_sms", "status": "failed", "detail": "Number not registered"}],
    )
    response = owner_client.get(LIST)
    assert response.status_code == 200
    assert _ids(response) == [new.pk, old.pk]
    html = response.content.decode()
    assert "+15555550112" in html and "Opening hours" in html and "SMS sent" in html
    assert "Send SMS" in html and "failed" in html and "Number not registered" in html
    assert reverse("calls:detail", args=[new.pk]) in html
    # the nav link (an icon, then its words), current
    assert re.search(
        r'<a href="/calls/" aria-current="page"><span class="icon icon-calls" aria-hidden="true"></span>\s*Calls</a>',
        html,
        re.S,
    )
    assert '<button type="submit">Filter</button>' in html
    assert '<button type="submit">Export CSV</button>' in html


def test_filters_number_job_outcome_source_and_search(owner_client, workspace, phone):
    other_phone = PhoneNumberFactory(workspace=workspace)
    job, other_job = JobFactory(workspace=workspace), JobFactory(workspace=workspace)
    a = CallFactory(
        phone_number=phone, job=job, outcome=Outcome.TRANSFERRED, summary="Wants a refund"
    )
    b = CallFactory(phone_number=other_phone, job=other_job, summary="Hours")
    c = CallFactory(phone_number=phone, job=other_job, outcome=Outcome.VOICEMAIL)
    mock = CallFactory(phone_number=phone, job=job, source=Source.MOCK, summary="Refund test")
    assert _ids(owner_client.get(LIST, {"number": phone.pk})) == [c.pk, a.pk]
    assert _ids(owner_client.get(LIST, {"job": job.pk})) == [a.pk]
    assert _ids(owner_client.get(LIST, {"outcome": "voicemail"})) == [c.pk]
    assert _ids(owner_client.get(LIST, {"source": "live"})) == [c.pk, b.pk, a.pk]
    assert _ids(owner_client.get(LIST, {"source": "mock"})) == [mock.pk]
    assert _ids(owner_client.get(LIST, {"source": "mock", "job": job.pk})) == [mock.pk]
    assert _ids(owner_client.get(LIST, {"q": "REFUND"})) == [a.pk]  # case-insensitive
    assert _ids(owner_client.get(LIST, {"q": "REFUND", "source": "all"})) == [mock.pk, a.pk]
    assert _ids(owner_client.get(LIST, {"number": phone.pk, "job": other_job.pk})) == [c.pk]
    assert _ids(owner_client.get(LIST, {"q": "nothing like this"})) == []


@pytest.mark.parametrize(("time_zone", "country"), [("America/New_York", "GB"), ("", "US")])
def test_date_range_counts_days_in_the_workspace_zone(
    owner_client, workspace, phone, time_zone, country
):
    """Its own zone, else its country's main zone (US: New York)."""
    workspace.time_zone, workspace.country = time_zone, country
    workspace.save(update_fields=["time_zone", "country"])
    # 03:00 UTC on the 10th is still the 9th in New York.
    late_on_9th = CallFactory(phone_number=phone, started_at=datetime(2026, 3, 10, 3, tzinfo=UTC))
    on_10th = CallFactory(phone_number=phone, started_at=datetime(2026, 3, 10, 15, tzinfo=UTC))
    on_11th = CallFactory(phone_number=phone, started_at=datetime(2026, 3, 11, 15, tzinfo=UTC))
    params = {"date_from": "2026-03-10", "date_to": "2026-03-10"}
    assert _ids(owner_client.get(LIST, params)) == [on_10th.pk]
    assert _ids(owner_client.get(LIST, {"date_to": "2026-03-09"})) == [late_on_9th.pk]
    assert _ids(owner_client.get(LIST, {"date_from": "2026-03-10"})) == [on_11th.pk, on_10th.pk]


def test_a_reversed_date_range_is_an_error_next_to_the_field(owner_client, phone):
    CallFactory(phone_number=phone)
    response = owner_client.get(LIST, {"date_from": "2026-03-10", "date_to": "2026-03-01"})
    assert response.status_code == 200
    assert response.context["page"] is None
    assert "The end date is before the start date." in response.content.decode()


def test_another_workspaces_calls_are_never_listed_nor_filterable(
    owner_client, phone, other_workspace
):
    mine = CallFactory(phone_number=phone, summary="Mine")
    foreign_phone = PhoneNumberFactory(workspace=other_workspace)
    foreign_job = JobFactory(workspace=other_workspace)
    CallFactory(phone_number=foreign_phone, job=foreign_job, summary="Theirs")
    assert _ids(owner_client.get(LIST)) == [mine.pk]
    assert _ids(owner_client.get(LIST, {"q": "Theirs"})) == []
    for params in ({"job": foreign_job.pk}, {"number": foreign_phone.pk}):
        response = owner_client.get(LIST, params)
        assert response.context["page"] is None
        assert "Select a valid choice" in response.content.decode()


def test_another_workspaces_call_page_is_404(owner_client, other_workspace):
    call = CallFactory(phone_number=PhoneNumberFactory(workspace=other_workspace))
    assert owner_client.get(reverse("calls:detail", args=[call.pk])).status_code == 404


def test_members_read_the_pages_and_strangers_are_sent_to_log_in(client, member_client, phone):
    call = CallFactory(phone_number=phone)
    assert member_client.get(LIST).status_code == 200
    assert member_client.get(reverse("calls:detail", args=[call.pk])).status_code == 200
    client.logout()
    assert client.get(LIST).status_code == 302


# List: keyset pages ---------------------------------------------------------------------------


def test_older_and_newer_walk_every_call_once_in_order(owner_client, phone, monkeypatch):
    monkeypatch.setattr(log, "LIST_PAGE_SIZE", 3)
    same_time = timezone.now() - timedelta(hours=1)
    calls = _calls(phone, 5) + [
        CallFactory(phone_number=phone, started_at=same_time) for _ in range(3)
    ]
    expected = [c.pk for c in sorted(calls, key=lambda c: (c.started_at, c.pk), reverse=True)]
    seen, pages, params = [], [], {}
    while True:
        response = owner_client.get(LIST, params)
        page = response.context["page"]
        pages.append((params, _ids(response)))
        seen += _ids(response)
        if not page.older:
            break
        params = {"after": page.older}
    assert seen == expected  # ties on started_at are split by id: nothing twice, nothing lost
    assert len(pages) == 3
    # back from the last page with "Newer"
    newer = owner_client.get(LIST, {"before": response.context["page"].newer})
    assert _ids(newer) == pages[1][1]
    assert newer.context["page"].newer  # page 1 is newer still
    first = owner_client.get(LIST, {"before": newer.context["page"].newer})
    assert _ids(first) == pages[0][1]
    assert not first.context["page"].newer


def test_cursor_links_keep_the_filters(owner_client, phone, monkeypatch):
    monkeypatch.setattr(log, "LIST_PAGE_SIZE", 2)
    _calls(phone, 3, outcome=Outcome.FAILED)
    _calls(phone, 3, outcome=Outcome.RESOLVED)
    response = owner_client.get(LIST, {"outcome": "failed"})
    html = response.content.decode()
    assert "?outcome=failed&amp;after=" in html
    older = owner_client.get(LIST, {"outcome": "failed", "after": response.context["page"].older})
    assert [Call.objects.get(pk=pk).outcome for pk in _ids(older)] == ["failed"]


@pytest.mark.parametrize("cursor", ["garbage", "a:b:c", "W10:1abc:xyz", "x" * 5000, "é"])
def test_a_bad_cursor_shows_the_newest_calls_with_a_notice(owner_client, phone, cursor):
    newest = _calls(phone, 2)[-1]
    for name in ("after", "before"):
        response = owner_client.get(LIST, {name: cursor})
        assert response.status_code == 200
        assert _ids(response)[0] == newest.pk
        assert "This page link is not valid any more. Showing the newest calls." in (
            response.content.decode()
        )


def test_a_cursor_is_signed_so_it_cannot_be_forged():
    from django.core import signing

    forged = signing.dumps(["2026-01-01T00:00:00+00:00", 1], salt="something else")
    with pytest.raises(log.BadCursor):
        log.cursor_decode(forged)
    unsigned_shape = signing.dumps(["2026-01-01T00:00:00+00:00", "1; drop"], salt=log.CURSOR_SALT)
    with pytest.raises(log.BadCursor):
        log.cursor_decode(unsigned_shape)


def _pinned(client, url, params, expected, django_assert_max_num_queries):
    with django_assert_max_num_queries(expected):
        response = client.get(url, params)
    assert response.status_code == 200
    return response


# session, user, membership(+workspace), phone numbers (filter), jobs (filter), the page
LIST_QUERIES = 7


@pytest.mark.parametrize("count", [3, 60])
def test_list_queries_do_not_grow_with_calls(
    owner_client, workspace, phone, count, django_assert_max_num_queries
):
    job = JobFactory(workspace=workspace)
    calls = _calls(
        phone, count, job=job, job_name=job.name, actions=[{"type": "send_sms", "status": "ok"}]
    )
    first = _pinned(owner_client, LIST, {}, LIST_QUERIES, django_assert_max_num_queries)
    filtered = {"job": job.pk, "number": phone.pk, "outcome": "resolved", "q": "hours"}
    # + the chosen job's and number's names, + the copy of new summaries into the search
    # index that the page makes where no worker runs (calls/search.py catch_up: 3 at most)
    response = _pinned(
        owner_client, LIST, filtered, LIST_QUERIES + 2 + 3, django_assert_max_num_queries
    )
    assert len(_ids(response)) == min(count, log.LIST_PAGE_SIZE)
    if first.context["page"].older:
        _pinned(
            owner_client,
            LIST,
            {"after": first.context["page"].older},
            LIST_QUERIES,
            django_assert_max_num_queries,
        )
    assert calls


# A call's page ----------------------------------------------------------------------------


def test_call_page_shows_everything_and_links_the_job_version(
    owner_client, owner, workspace, phone
):
    job = job_services.job_create(
        workspace=workspace,
        user=owner,
        data={"name": "Opening hours", "trigger": "When open", "instructions": "1. Say the hours."},
    )
    first_version = job.history.latest("history_id").history_id
    job = job_services.job_update(
        job=job,
        user=owner,
        data={
            "name": "Opening hours",
            "trigger": "When open",
            "instructions": "1. Say the hours twice.",
        },
    )
    second_version = job.history.latest("history_id").history_id
    call = CallFactory(
        phone_number=phone,
        caller="+15555550177",
        job=job,
        job_name=job.name,
        job_history_id=second_version,
        version_number=3,
        step_key="s1",
        step_name="Sona",
        score=0.87,
        source=Source.LIVE,
        outcome=Outcome.TRANSFERRED,
        summary="Asked for <b>hours</b>.",
        next_steps=["Call back tomorrow"],
        actions=[
            {"type": "transfer_call", "status": "ok"},
            {"type": "send_sms", "status": "failed", "detail": "Not registered"},
        ],
        transcript="Caller: when are you open?\nSona: 9 to 5.",
        recording_url="https://rec.example.test/1.mp3",
    )
    response = owner_client.get(reverse("calls:detail", args=[call.pk]))
    html = response.content.decode()
    assert "Call from +15555550177" in html
    assert "Asked for &lt;b&gt;hours&lt;/b&gt;." in html  # escaped
    assert "Call back tomorrow" in html
    assert "Transfer call" in html and "Send SMS" in html and "Not registered" in html
    assert "Caller: when are you open?" in html
    assert 'href="https://rec.example.test/1.mp3"' in html
    assert "call flow version 3" in html and "Sona" in html and "Live" in html
    assert "0.87" not in html  # the router's score is for the admin and the export
    compare = reverse("jobs:compare", args=[job.pk]) + f"?a={first_version}&amp;b={second_version}"
    assert f'href="{compare}">version 2</a>' in html
    assert owner_client.get(compare.replace("&amp;", "&")).status_code == 200


def test_call_page_without_job_or_with_an_unsafe_recording(owner_client, phone):
    call = CallFactory(phone_number=phone, recording_url="ftp://files.example.test/a.mp3", job=None)
    html = owner_client.get(reverse("calls:detail", args=[call.pk])).content.decode()
    assert "No job" in html and "ftp://" not in html


# CSV export ----------------------------------------------------------------------------------


def _csv(response):
    assert response.streaming
    body = b"".join(response.streaming_content).decode()
    return list(csv.reader(io.StringIO(body)))


def test_export_streams_the_filtered_list_newest_first(
    owner_client, workspace, phone, other_workspace
):
    job = JobFactory(workspace=workspace, name="Hours")
    older = CallFactory(
        phone_number=phone,
        job=job,
        job_name="Hours",
        started_at=_at(2),
        outcome=Outcome.SMS_SENT,
        actions=[{"type": "send_sms", "status": "ok"}],
        next_steps=["a", "b"],
    )
    newer = CallFactory(
        phone_number=phone, job=job, job_name="Hours", started_at=_at(1), summary="Second"
    )
    CallFactory(phone_number=phone, started_at=_at(0), summary="No job")
    CallFactory(phone_number=PhoneNumberFactory(workspace=other_workspace), summary="Theirs")
    response = owner_client.get(reverse("calls:export"), {"job": job.pk})
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="calls-')
    rows = _csv(response)
    header = rows[0]
    assert header[:4] == ["Started", "Ended", "Number", "Caller"]
    by_name = [dict(zip(header, row, strict=True)) for row in rows[1:]]
    assert [r["Summary"] for r in by_name] == [newer.summary, older.summary]
    assert by_name[1]["Outcome"] == "SMS sent" and by_name[1]["Actions"] == "send_sms: ok"
    assert by_name[1]["Next steps"] == "a; b" and by_name[1]["Job"] == "Hours"
    assert by_name[1]["Number"] == "'" + phone.number  # a leading + is quoted too


def test_export_is_safe_from_csv_injection(owner_client, phone):
    CallFactory(
        phone_number=phone,
        summary='=HYPERLINK("http://evil.test","x")',
        next_steps=["@SUM(A1)"],
        step_name="-2+3",
    )
    rows = _csv(owner_client.get(reverse("calls:export")))
    row = dict(zip(rows[0], rows[1], strict=True))
    assert row["Summary"] == '\'=HYPERLINK("http://evil.test","x")'
    assert row["Next steps"] == "'@SUM(A1)" and row["Step"] == "'-2+3"
    assert [csv_safe(v) for v in ("=1", "+1", "-1", "@a", "\tx", "plain", "")] == [
        "'=1",
        "'+1",
        "'-1",
        "'@a",
        "'\tx",
        "plain",
        "",
    ]


def test_export_with_bad_filters_is_a_clear_400(owner_client, other_workspace):
    job = JobFactory(workspace=other_workspace)
    response = owner_client.get(reverse("calls:export"), {"job": job.pk})
    assert response.status_code == 400
    assert "Correct the filters: Job: Select a valid choice." in response.content.decode()


@pytest.mark.parametrize("count", [2, 40])
def test_export_queries_do_not_grow_with_calls(
    owner_client, phone, count, django_assert_max_num_queries
):
    _calls(phone, count)
    with django_assert_max_num_queries(4):  # session, user, membership, the rows
        rows = _csv(owner_client.get(reverse("calls:export")))
    assert len(rows) == count + 1


# The job page and the number page ------------------------------------------------------------


def _edited_job(workspace, owner, days_ago: int):
    """A job created long ago and edited `days_ago` days ago (two history rows)."""
    job = job_services.job_create(
        workspace=workspace,
        user=owner,
        data={"name": "Hours", "trigger": "When open", "instructions": "1. Say the hours."},
    )
    history = job.history.get()
    history.history_date = _at(60)
    history.save()
    job = job_services.job_update(
        job=job,
        user=owner,
        data={"name": "Hours", "trigger": "When open", "instructions": "1. Say the hours, slowly."},
    )
    edit = job.history.latest("history_id")
    edit.history_date = _at(days_ago)
    edit.save()
    return job, edit


def test_job_page_shows_calls_since_the_last_edit_and_the_chart_numbers(
    owner_client, owner, workspace, phone
):
    job, edit = _edited_job(workspace, owner, days_ago=3)
    for outcome, days_ago, n in [
        (Outcome.FAILED, 5, 2),  # before the edit
        (Outcome.RESOLVED, 1, 3),
        (Outcome.TRANSFERRED, 1, 1),
        (Outcome.RESOLVED, 0, 1),
        (Outcome.RESOLVED, 40, 4),  # outside the chart's 30 days
    ]:
        for _ in range(n):
            CallFactory(
                phone_number=phone,
                job=job,
                job_name=job.name,
                outcome=outcome,
                started_at=_at(days_ago, hours=0.01),
            )
    CallFactory(phone_number=phone, outcome=Outcome.FAILED)  # no job: not counted
    response = owner_client.get(job.get_absolute_url())
    html = response.content.decode()
    assert "Since your last edit" in html and "<strong>5 calls</strong>" in html
    figures = re.sub(
        r"<[^>]+>", "", html.split('class="since-outcomes cards"', 1)[1].split("</ul>")[0]
    )
    assert "Resolved: 4" in figures and "Transferred: 1" in figures and "Failed" not in figures
    activity = response.context["activity"]
    today = timezone.localdate()
    assert activity.counts[today - timedelta(days=1)] == {"resolved": 3, "transferred": 1}
    assert activity.counts[today - timedelta(days=5)] == {"failed": 2}
    assert activity.total == 7 and len(activity.days) == 30
    assert [e.label for e in activity.edits] == ["Version 2"]  # creation was 60 days ago
    # the chart: titled, described, an edit mark, bars with their numbers
    assert '<svg role="img" aria-labelledby="calls-chart-title calls-chart-desc"' in html
    assert "Calls per day by outcome, last 30 days, “Hours”</title>" in html
    assert '<g class="edit-mark">' in html and "<title>Version 2, " in html
    day = today - timedelta(days=1)
    assert f"<title>{day:%b} {day.day}: 3 Resolved</title>" in html
    # the table alternative says the same: the day of the edit and the day after
    rows = {r.day: r for r in response.context["rows"]}
    assert rows[day].counts == [3, 1, 0] and rows[day].total == 4  # resolved, transferred, failed
    assert rows[edit.history_date.astimezone(activity.tz).date()].edits == ["Version 2"]
    assert "<summary>Calls per day as a table</summary>" in html
    assert f'href="/calls/?job={job.pk}"' in html


def test_job_page_with_no_calls_says_zero(owner_client, owner, workspace):
    job = job_services.job_create(
        workspace=workspace,
        user=owner,
        data={"name": "New", "trigger": "x", "instructions": "1. Hi."},
    )
    html = owner_client.get(job.get_absolute_url()).content.decode()
    assert "<strong>0 calls</strong>" in html and "0 calls in 30 days" in html


def test_number_page_shows_the_same_per_number(owner_client, owner, workspace, phone):
    other = callflow_services.phone_number_create(
        workspace=workspace, number="+15555550999", display_name="Other", user=owner
    )
    CallFactory(phone_number=phone, outcome=Outcome.VOICEMAIL, started_at=_at(2))
    version = callflow_services.callflow_publish(call_flow=phone.call_flow, user=owner)
    CallFactory(phone_number=phone, outcome=Outcome.RESOLVED)
    CallFactory(phone_number=phone, outcome=Outcome.RESOLVED)
    CallFactory(phone_number=other, outcome=Outcome.FAILED)
    response = owner_client.get(phone.get_absolute_url())
    html = response.content.decode()
    assert "Since your last publish" in html and "<strong>2 calls</strong>" in html
    activity = response.context["activity"]
    assert activity.total == 3 and activity.last_edit == version.published_at
    assert [e.label for e in activity.edits] == ["Version 1 published"]
    assert f'href="/calls/?number={phone.pk}"' in html


@pytest.mark.parametrize("count", [2, 50])
def test_job_page_queries_do_not_grow_with_calls(
    owner_client, owner, workspace, phone, count, django_assert_max_num_queries
):
    job, _ = _edited_job(workspace, owner, days_ago=3)
    for i in range(count):
        CallFactory(
            phone_number=phone,
            job=job,
            outcome=list(Outcome.values)[i % 8],
            started_at=_at(i % 35),
        )
    # the page's 6, the calls panel's 4, where used 2, outcomes 2 (versions, figures per version)
    with django_assert_max_num_queries(14):
        response = owner_client.get(job.get_absolute_url())
    assert response.context["activity"].total == sum(1 for i in range(count) if i % 35 < 30)


@pytest.mark.parametrize("count", [2, 50])
def test_number_page_queries_do_not_grow_with_calls(
    owner_client, owner, phone, count, django_assert_max_num_queries
):
    callflow_services.callflow_publish(call_flow=phone.call_flow, user=owner)
    for i in range(count):
        CallFactory(phone_number=phone, outcome=list(Outcome.values)[i % 8], started_at=_at(i % 35))
    with django_assert_max_num_queries(NUMBER_PAGE_QUERIES):
        response = owner_client.get(phone.get_absolute_url())
    assert response.status_code == 200


# the editor's 10 (2: the Sona boxes' job and knowledge names) + calls panel's 3 + outcomes 4
# (versions, figures per version, Sona steps, figures per step)
NUMBER_PAGE_QUERIES = 17


def test_the_calls_nav_link_is_on_every_page(member_client):
    html = member_client.get(reverse("jobs:list")).content.decode()
    assert re.search(
        r'<a href="/calls/"><span class="icon icon-calls" aria-hidden="true"></span>\s*Calls</a>',
        html,
        re.S,
    )


def test_a_second_workspace_member_sees_only_their_calls(client, phone, other_workspace):
    stranger = MembershipFactory(workspace=other_workspace).user
    CallFactory(phone_number=phone)
    client.force_login(stranger)
    assert _ids(client.get(LIST)) == []


def test_call_page_names_the_step_and_hides_its_internal_id(owner_client, staff, phone):
    """Issue 24: internal step ids are for support staff (the admin), not owners."""
    call = CallFactory(phone_number=phone, step_key="b0a366cee73f", step_name="Front desk")
    html = owner_client.get(reverse("calls:detail", args=[call.pk])).content.decode()
    assert "<dt>Step</dt><dd>Front desk</dd>" in html
    assert "b0a366cee73f" not in html
    support = Client()  # another browser: owner_client's session stays the owner's
    support.force_login(staff)
    admin = support.get(reverse("admin:calls_call_change", args=[call.pk]))
    assert "b0a366cee73f" in admin.content.decode()
