"""Mock calls are kept apart (product.md, "Call summaries": "Mock calls are labelled and never
counted in any figure"): no figure of the number page, the job page or their chart moves when a
mock call is stored; the Calls list and its export show real calls unless asked (Source: Real
calls, Mock calls, All); every mock call carries a "Mock" label where calls are shown."""

import csv
import io
import re
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from calls import charts, services
from calls.models import Call, Outcome, Source
from calls.selectors import activity, log
from tests.calls.conftest import SAYS
from tests.conftest import postgres_only
from tests.factories import CallFactory

pytestmark = pytest.mark.django_db
LIST, EXPORT = "/calls/", "/calls/export.csv"
MOCK_BADGE = '<span class="badge mock">Mock</span>'


def _ids(response):
    return [c.pk for c in response.context["page"].calls]


def _figures(client, url):
    """Everything a page says about its calls: the panel's HTML (the "since" line, the outcome
    list, the chart and its table) and the numbers behind it."""
    response = client.get(url)
    assert response.status_code == 200
    html = response.content.decode()
    panel = re.search(r'<section class="call-activity".*?</section>', html, re.S).group(0)
    shown = response.context["activity"]
    return {
        "panel": panel,
        "since": shown.since,
        "since_total": shown.since_total,
        "counts": shown.counts,
        "total": shown.total,
        "chart": charts.activity_chart(shown),
        "rows": charts.table_rows(shown),
    }


def _real(line, job, outcome):
    """A real call that started now: after the fixture's publish and the jobs' last edit."""
    return CallFactory(phone_number=line.phone, job=job, job_name=job.name, outcome=outcome)


# No figure counts a mock call ------------------------------------------------------------------


def test_no_figure_of_the_number_page_job_page_or_chart_moves_for_a_mock_call(
    owner_client, published
):
    line = published
    _real(line, line.hours, Outcome.SMS_SENT)
    _real(line, line.hours, Outcome.RESOLVED)
    _real(line, line.manager, Outcome.TRANSFERRED)
    pages = [line.phone.get_absolute_url(), line.hours.get_absolute_url()]
    pages.append(line.manager.get_absolute_url())
    before = {url: _figures(owner_client, url) for url in pages}
    assert before[pages[0]]["since_total"] == 3  # the real calls are counted
    assert before[pages[1]]["since"] == [
        ("resolved", "Resolved", 1),
        ("sms_sent", "SMS sent", 1),
    ]

    # mock calls through the service that ends one, on the draft and on the live version, on
    # the same number and jobs, inside the chart's window and after the last publish and edit
    for version in ("draft", "live"):
        for said in (SAYS["hours"], SAYS["manager"], SAYS["nothing"]):
            services.mock_call_end(
                call_flow=line.flow, user=line.owner, turns=[said], version=version
            )
    mocks = Call.objects.filter(source=Source.MOCK, phone_number=line.phone)
    assert mocks.count() == 6
    assert mocks.filter(job=line.hours).count() == 2 and mocks.filter(job=line.manager).count() == 2
    assert all(c.started_at > line.v1.published_at for c in mocks)

    after = {url: _figures(owner_client, url) for url in pages}
    assert after == before


def test_the_selectors_count_real_calls_only(published):
    line = published
    _real(line, line.hours, Outcome.RESOLVED)
    services.mock_call_end(call_flow=line.flow, user=line.owner, turns=[SAYS["hours"]])
    for found in (
        activity.number_activity(workspace=line.workspace, phone_number=line.phone),
        activity.job_activity(workspace=line.workspace, job=line.hours),
    ):
        assert found.total == 1 and found.since_total == 1
        assert found.since == [("resolved", "Resolved", 1)]


def test_the_panel_says_mock_calls_are_not_counted(owner_client, published):
    html = owner_client.get(published.phone.get_absolute_url()).content.decode()
    assert "Real calls only: mock calls from Test Sona are never counted." in html


# The Calls list: real calls unless asked -----------------------------------------------------


@pytest.fixture
def both(phone):
    """Two real calls and one mock call of the same number, newest last."""
    now = timezone.now()
    real_old = CallFactory(phone_number=phone, started_at=now - timedelta(minutes=3))
    mock = CallFactory(
        phone_number=phone, source=Source.MOCK, started_at=now - timedelta(minutes=2)
    )
    real_new = CallFactory(phone_number=phone, started_at=now - timedelta(minutes=1))
    return real_old, mock, real_new


def test_the_list_shows_real_calls_by_default(owner_client, both):
    real_old, _, real_new = both
    response = owner_client.get(LIST)
    assert _ids(response) == [real_new.pk, real_old.pk]
    html = response.content.decode()
    # the Source filter, its three choices, Real calls chosen
    assert '<label for="calls-source">Source</label>' in html
    assert '<option value="live" selected>Real calls</option>' in html
    assert '<option value="mock">Mock calls</option>' in html
    assert '<option value="all">All</option>' in html
    assert MOCK_BADGE not in html
    # an empty value (a form sent with nothing chosen, an old link) is the default too
    assert _ids(owner_client.get(LIST, {"source": ""})) == [real_new.pk, real_old.pk]


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("live", ["real_new", "real_old"]),
        ("mock", ["mock"]),
        ("all", ["real_new", "mock", "real_old"]),
    ],
)
def test_the_source_filters_three_choices(owner_client, both, source, expected):
    calls = dict(zip(("real_old", "mock", "real_new"), both, strict=True))
    response = owner_client.get(LIST, {"source": source})
    assert response.status_code == 200
    assert _ids(response) == [calls[name].pk for name in expected]
    html = response.content.decode()
    assert f'<option value="{source}" selected>' in html
    assert (MOCK_BADGE in html) == ("mock" in expected)
    # the default alone is no filter to clear; the other two are
    assert ('<a href="/calls/">Clear filters</a>' in html) == (source != "live")


@pytest.mark.parametrize("value", ["real", "MOCK", "any", "x" * 300, "live mock"])
def test_a_bad_source_is_a_clear_error_next_to_the_field(owner_client, both, value):
    response = owner_client.get(LIST, {"source": value})
    assert response.status_code == 200
    assert response.context["page"] is None
    html = response.content.decode()
    assert "Choose Real calls, Mock calls or All." in html
    assert "Correct the filters to see calls." in html
    export = owner_client.get(EXPORT, {"source": value})
    assert export.status_code == 400
    assert "Source: Choose Real calls, Mock calls or All." in export.content.decode()


def test_the_source_is_kept_in_the_cursor_and_export_links(owner_client, phone, monkeypatch):
    monkeypatch.setattr(log, "LIST_PAGE_SIZE", 2)
    start = timezone.now() - timedelta(hours=1)
    mocks = [
        CallFactory(phone_number=phone, source=Source.MOCK, started_at=start + timedelta(minutes=i))
        for i in range(3)
    ]
    CallFactory(phone_number=phone, started_at=start + timedelta(minutes=10))
    response = owner_client.get(LIST, {"source": "mock"})
    html = response.content.decode()
    assert "?source=mock&amp;after=" in html
    assert '<input type="hidden" name="source" value="mock">' in html  # the export button's
    older = owner_client.get(LIST, {"source": "mock", "after": response.context["page"].older})
    assert _ids(older) == [mocks[0].pk]
    assert "?source=mock&amp;before=" in older.content.decode()
    newer = owner_client.get(LIST, {"source": "mock", "before": older.context["page"].newer})
    assert _ids(newer) == [mocks[2].pk, mocks[1].pk]


def test_the_empty_list_points_to_mock_calls(owner_client, phone):
    CallFactory(phone_number=phone, source=Source.MOCK)
    html = owner_client.get(LIST).content.decode()
    assert "No calls yet." in html
    assert '<a class="button" href="/calls/?source=mock">Show mock calls</a>' in html


# The export follows the filter -----------------------------------------------------------------


def _exported(client, params):
    response = client.get(EXPORT, params)
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    source = rows[0].index("Source")
    return [row[source] for row in rows[1:]]


def test_the_export_follows_the_source_filter(owner_client, both):
    assert _exported(owner_client, {}) == ["Live", "Live"]
    assert _exported(owner_client, {"source": "live"}) == ["Live", "Live"]
    assert _exported(owner_client, {"source": "mock"}) == ["Mock call"]
    assert _exported(owner_client, {"source": "all"}) == ["Live", "Mock call", "Live"]


# The "Mock" label -------------------------------------------------------------------------------


def test_a_mock_call_is_labelled_on_its_page_and_a_real_one_is_not(owner_client, both):
    real, mock, _ = both
    html = owner_client.get(f"/calls/{mock.pk}/").content.decode()
    assert f"</span> {MOCK_BADGE}</h1>" in html
    assert (
        "A mock call from Test Sona: nothing was sent to anyone, and no figure counts it." in html
    )
    html = owner_client.get(f"/calls/{real.pk}/").content.decode()
    assert MOCK_BADGE not in html and "A mock call from Test Sona" not in html


def test_each_mock_call_of_the_all_list_is_labelled(owner_client, both):
    html = owner_client.get(LIST, {"source": "all"}).content.decode()
    rows = re.findall(r"<tr>\s*<td>.*?</tr>", html, re.S)
    assert len(rows) == 3
    assert [MOCK_BADGE in row for row in rows] == [False, True, False]


# Costs ------------------------------------------------------------------------------------------

LIST_QUERIES = 7  # session, user, membership(+workspace), numbers (filter), jobs (filter), rows


@pytest.mark.parametrize("count", [3, 60])
@pytest.mark.parametrize("source", ["", "live", "mock", "all"])
def test_list_and_export_queries_do_not_grow_with_either_source(
    owner_client, phone, count, source, django_assert_max_num_queries
):
    start = timezone.now() - timedelta(hours=2)
    for i in range(count):
        CallFactory(
            phone_number=phone,
            source=Source.MOCK if i % 2 else Source.LIVE,
            started_at=start + timedelta(minutes=i),
        )
    mocks = count // 2
    matching = {"": count - mocks, "live": count - mocks, "mock": mocks, "all": count}[source]
    with django_assert_max_num_queries(LIST_QUERIES):
        response = owner_client.get(LIST, {"source": source})
    assert len(_ids(response)) == min(matching, log.LIST_PAGE_SIZE)
    if older := response.context["page"].older:
        with django_assert_max_num_queries(LIST_QUERIES):
            assert owner_client.get(LIST, {"source": source, "after": older}).status_code == 200
    with django_assert_max_num_queries(5):  # session, user, membership, filters' checks, rows
        b"".join(owner_client.get(EXPORT, {"source": source}).streaming_content)


@postgres_only()
def test_the_filters_and_figures_read_the_existing_indexes(workspace, phone):
    """With sequential scans, bitmap scans and sorts priced out (the tables are tiny here, so the
    planner would rather sort), every Source choice, alone or with another filter, can walk an
    existing index in (started_at, id) order: a Sort would mean no index serves it. (At scale
    bench/calls_pages.py prints the plans the planner picks at 1,000,000 calls.)"""
    CallFactory(phone_number=phone)
    filters = log.CallFilters
    ordered = ("call_recent", "call_mock_recent", "call_number_recent", "call_outcome_recent",
               "call_started")  # the admin's all-workspace order (on a tiny table, as cheap) # fmt: skip
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {Call._meta.db_table}")  # the same statistics in any order
        for setting in ("enable_seqscan", "enable_bitmapscan", "enable_sort"):
            cursor.execute(f"SET LOCAL {setting} = off")  # priced out, still possible
        for f in (
            filters(),
            filters(source=Source.MOCK),
            filters(source=log.ALL_SOURCES),
            filters(phone_number_id=phone.pk),
            filters(phone_number_id=phone.pk, source=Source.MOCK),
            filters(outcome=Outcome.FAILED, source=log.ALL_SOURCES),
        ):
            plan = log.calls_filtered(workspace=workspace, filters=f)[:51].explain()
            assert any(name in plan for name in ordered) and "Sort" not in plan, (f, plan)
        figures = Call.objects.real().filter(workspace=workspace, phone_number=phone)
        plan = figures.filter(started_at__gte=timezone.now() - timedelta(days=30)).explain()
        # (The charts read the daily rollups now; a raw range read still walks an index.)
        assert any(name in plan for name in ordered) and "Seq Scan" not in plan, plan
