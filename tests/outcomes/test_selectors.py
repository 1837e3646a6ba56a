"""Outcomes per version and before/after (issue 23, points 1 and 2): figures from the daily
rollups, the comparison sentence against hand-computed values, "too few calls yet", the job and
number pages leading with the comparison, and query counts that do not grow with the calls."""

from datetime import timedelta

import pytest
from django.db import connection
from django.db.models import Sum
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from callflows import services as cf
from calls import rollups
from calls.models import Call, Outcome, Source
from jobs import services as js
from outcomes import selectors
from outcomes.stats import TOO_FEW, UNCLEAR, WORSE, Rate
from tests.calls.test_calls_api import TEXTS
from tests.conftest import attach, sona_of

pytestmark = pytest.mark.django_db

NOW = timezone.now()


def add_calls(phone, outcomes: dict[str, int], *, job=None, history_id=None, version=None, **kw):
    """Real calls in bulk (then the rollups rebuilt, as the demo does): {outcome: how many}."""
    calls = [
        Call(
            workspace=phone.workspace,
            phone_number=phone,
            number=phone.number,
            source=kw.get("source", Source.LIVE),
            started_at=kw.get("started_at", NOW - timedelta(hours=1)),
            outcome=outcome,
            job=job,
            job_history_id=history_id,
            version_number=version,
            step_key=kw.get("step_key", ""),
        )
        for outcome, n in outcomes.items()
        for _ in range(n)
    ]
    Call.objects.bulk_create(calls)
    rollups.rebuild(phone.workspace)


def history_ids(job) -> list[int]:
    return list(job.history.order_by("history_id").values_list("history_id", flat=True))


@pytest.fixture
def edited_job(workspace, owner, phone):
    """A job with 153 of 212 calls resolved on version 1, then edited: 35 of 64 on version 2."""
    job = js.job_create(workspace=workspace, user=owner, data=TEXTS)
    [v1] = history_ids(job)
    add_calls(phone, {"resolved": 153, "failed": 59}, job=job, history_id=v1)
    js.job_update(job=job, user=owner, data={"description": "Edited."})
    v2 = history_ids(job)[-1]
    add_calls(phone, {"resolved": 35, "message_taken": 29}, job=job, history_id=v2)
    return job


# Figures --------------------------------------------------------------------------------------


def test_share_words_against_hand_computed_values():
    # 153/212: p = .7217, Wilson centre .7178 ± .0599 (z = 1.96) -> 72% (66–78%)
    assert selectors.share_words(Rate(153, 212)) == "72% (66–78%)"
    low, high = Rate(153, 212).interval
    assert (low, high) == (pytest.approx(0.6578, abs=5e-5), pytest.approx(0.7777, abs=5e-5))
    # 0 of 30: the interval still says how high it could be (3.84 / 33.84 = .1135)
    assert selectors.share_words(Rate(0, 30)) == "0% (0–11%)"
    assert selectors.share_words(Rate(29, 29)) == "too few calls yet"
    assert selectors.share_words(Rate(0, 0)) == "too few calls yet"


def test_figures_count_real_calls_by_outcome(workspace, phone, owner):
    job = js.job_create(workspace=workspace, user=owner, data=TEXTS)
    add_calls(phone, {"resolved": 3, "failed": 1}, job=job, step_key="abc")
    add_calls(phone, {"resolved": 5}, source=Source.MOCK, job=job)  # never counted
    add_calls(phone, {"transferred": 2}, started_at=NOW - timedelta(days=40))  # out of range
    start, end = selectors.default_range(workspace)
    figures = selectors.outcome_figures(workspace=workspace, start=start, end=end, job_id=job.pk)
    assert figures.calls == 4 and not figures.enough
    assert [s.outcome for s in figures.shares] == list(Outcome.values)
    assert figures.rate("resolved") == Rate(3, 4)
    assert figures.rate("transferred") == Rate(0, 4)
    by_number = selectors.outcome_figures(
        workspace=workspace, start=start - timedelta(days=30), end=end, phone_number_id=phone.pk
    )
    assert by_number.calls == 6
    on_step = selectors.outcome_figures(workspace=workspace, start=start, end=end, step_key="abc")
    assert on_step.calls == 4


# The job's comparison -------------------------------------------------------------------------


def test_a_job_edit_against_the_version_before(workspace, edited_job):
    comparison = selectors.job_comparison(workspace=workspace, job=edited_job)
    assert (comparison.before, comparison.after) == (Rate(153, 212), Rate(35, 64))
    # the page's read (every version's rows) and the alerts' (the two versions' only) agree
    full = selectors.job_outcomes(workspace=workspace, job=edited_job).comparison
    assert (full.before, full.after, full.sentence) == (
        *(comparison.before, comparison.after),
        comparison.sentence,
    )
    assert (comparison.before_number, comparison.after_number) == (1, 2)
    # Newcombe's method 10 from the two Wilson intervals (.6578–.7777 and .4257–.6627):
    # d = .5469 − .7217 = −.1748; low = d − √((.5469 − .4257)² + (.7777 − .7217)²) = −.3083;
    # high = d + √((.6627 − .5469)² + (.7217 − .6578)²) = −.0426
    assert comparison.verdict == WORSE
    assert comparison.sentence == (
        "Resolved 72% → 55% (−17 points, 95% interval −31 to −4) over 212 and 64 calls since "
        "version 2 — worse"
    )
    v1, v2 = history_ids(edited_job)
    assert comparison.diff_url == f"/jobs/{edited_job.pk}/history/compare/?a={v1}&b={v2}"
    assert comparison.rollback_url == ""


def test_too_few_calls_gives_no_rate(workspace, owner, phone):
    job = js.job_create(workspace=workspace, user=owner, data=TEXTS)
    add_calls(phone, {"resolved": 40}, job=job, history_id=history_ids(job)[0])
    js.job_update(job=job, user=owner, data={"description": "Edited."})
    add_calls(phone, {"resolved": 12}, job=job, history_id=history_ids(job)[-1])
    comparison = selectors.job_comparison(workspace=workspace, job=job)
    assert comparison.verdict == TOO_FEW
    assert comparison.sentence == (
        "Resolved since version 2: too few calls yet (40 and 12 calls; 30 needed on each side)"
    )


def test_a_job_never_edited_has_no_comparison(workspace, owner):
    job = js.job_create(workspace=workspace, user=owner, data=TEXTS)
    assert selectors.job_comparison(workspace=workspace, job=job) is None


def test_the_job_page_leads_with_the_comparison(owner_client, workspace, edited_job):
    response = owner_client.get(edited_job.get_absolute_url())
    html = response.content.decode()
    sentence = "Resolved 72% → 55% (−17 points, 95% interval −31 to −4) over 212 and 64 calls"
    assert sentence in html
    assert html.index(sentence) < html.index("Caller intent")  # above the job itself
    assert "What changed in version 2" in html
    versions = response.context["outcomes"].versions
    assert [(v.label, v.calls) for v in versions] == [("Version 2", 64), ("Version 1", 212)]
    assert "72% (66–78%)" in html  # version 1's resolved share in the table
    assert "Roll back" not in html


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


def test_the_pages_queries_do_not_depend_on_the_calls(owner_client, owner, workspace, phone):
    job = js.job_create(workspace=workspace, user=owner, data=TEXTS)
    attach(sona_of(phone), [job], owner)
    cf.callflow_publish(call_flow=phone.call_flow, user=owner)
    js.job_update(job=job, user=owner, data={"description": "Edited."})
    sona = sona_of(phone)
    cf.step_update(step=sona, user=owner, name="Front desk", settings=sona.settings)
    cf.callflow_publish(call_flow=phone.call_flow, user=owner)
    urls = (job.get_absolute_url(), phone.get_absolute_url())
    [v1, v2] = history_ids(job)[-2:]
    add_calls(phone, {"resolved": 3}, job=job, history_id=v1, version=1)
    small = [_queries(owner_client, url) for url in urls]
    for days in range(20):
        add_calls(
            phone,
            {"resolved": 20, "failed": 5},
            job=job,
            history_id=v2 if days % 2 else v1,
            version=2 if days % 2 else 1,
            started_at=NOW - timedelta(days=days),
        )
    assert [_queries(owner_client, url) for url in urls] == small


def test_the_selectors_query_counts(django_assert_num_queries, workspace, edited_job, phone):
    with django_assert_num_queries(2):
        selectors.job_outcomes(workspace=workspace, job=edited_job)
    with django_assert_num_queries(4):
        selectors.number_outcomes(workspace=workspace, phone_number=phone)
    with django_assert_num_queries(2):
        selectors.callflow_comparison(workspace=workspace, phone_number=phone)


# The number's comparison ----------------------------------------------------------------------


@pytest.fixture
def republished(workspace, owner, phone):
    """Version 1 resolved 40 of 50 calls; version 2 resolved 30 of 40."""
    job = js.job_create(workspace=workspace, user=owner, data=TEXTS)
    sona = sona_of(phone)
    attach(sona, [job], owner)
    cf.callflow_publish(call_flow=phone.call_flow, user=owner)
    add_calls(phone, {"resolved": 40, "caller_hung_up": 10}, version=1, step_key=sona.key)
    cf.step_update(step=sona, user=owner, name="Front desk", settings=sona.settings)
    cf.callflow_publish(call_flow=phone.call_flow, user=owner)
    add_calls(phone, {"resolved": 30, "no_job_matched": 10}, version=2, step_key=sona.key)
    return phone


def test_a_publish_against_the_version_before(workspace, republished):
    phone = republished
    comparison = selectors.callflow_comparison(workspace=workspace, phone_number=phone)
    assert (comparison.before, comparison.after) == (Rate(40, 50), Rate(30, 40))
    full = selectors.number_outcomes(workspace=workspace, phone_number=phone).comparison
    assert (full.before, full.after) == (comparison.before, comparison.after)
    assert comparison.verdict == UNCLEAR
    assert comparison.sentence == (
        "Resolved 80% → 75% (−5 points, 95% interval −23 to 12) over 50 and 40 calls since "
        "version 2 — no clear change yet"
    )
    v1, v2 = phone.call_flow.versions.order_by("number")
    assert comparison.diff_url == f"/numbers/{phone.pk}/versions/{v2.pk}/compare/"
    assert comparison.rollback_url == f"/numbers/{phone.pk}/versions/{v1.pk}/rollback/"


def test_the_number_page_leads_with_the_comparison(owner_client, republished):
    html = owner_client.get(republished.get_absolute_url()).content.decode()
    sentence = "Resolved 80% → 75% (−5 points, 95% interval −23 to 12) over 50 and 40 calls"
    assert sentence in html
    assert html.index(sentence) < html.index("Draft call flow")
    assert "Roll back to version 1" in html
    assert "Front desk" in html and "80% (67–89%)" in html  # version 1's resolved share
    steps = owner_client.get(republished.get_absolute_url()).context["outcomes"].steps
    assert [(s.label, s.calls) for s in steps] == [("Front desk", 90)]


def test_members_read_the_comparison_without_roll_back(member_client, republished):
    html = member_client.get(republished.get_absolute_url()).content.decode()
    assert "Resolved 80% → 75%" in html
    assert "Roll back" not in html  # members change nothing


# The rollups' new dimension -------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_the_migration_counts_the_stored_calls_per_call_flow_version(phone):
    """calls 0016 adds DailyOutcome.version_number and counts the calls already stored again."""
    from django.db.migrations.executor import MigrationExecutor

    add_calls(phone, {"resolved": 3}, version=1)
    add_calls(phone, {"resolved": 2, "failed": 1}, version=2)
    add_calls(phone, {"failed": 1})  # the draft (no version)
    expected = _by_version(phone)
    assert expected == {(1, "resolved"): 3, (2, "resolved"): 2, (2, "failed"): 1, (0, "failed"): 1}
    executor = MigrationExecutor(connection)
    try:
        executor.migrate([("calls", "0015_dailyoutcome_failed_actions")])
        executor.loader.build_graph()
        executor.migrate([("calls", "0016_dailyoutcome_version_number")])
        assert _by_version(phone) == expected
    finally:  # the later migrations' tables, for the tests that run after this one
        executor.loader.build_graph()
        executor.migrate(executor.loader.graph.leaf_nodes())


def _by_version(phone) -> dict:
    from calls.models import DailyOutcome

    rows = DailyOutcome.objects.filter(phone_number_id=phone.pk).values_list(
        "version_number", "outcome"
    )
    return {(v, o): n for v, o, n in rows.annotate(n=Sum("count")).order_by()}
