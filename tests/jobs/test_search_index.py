"""Issue 22.4: the jobs search reads a trigram index on PostgreSQL (SQLite keeps icontains)
and a searched list estimates its count instead of counting every match."""

import pytest
from django.db import connection
from django.urls import reverse

from core.paginators import SearchEstimatePaginator
from jobs import selectors
from jobs.models import Job
from tests.conftest import postgres_only
from tests.factories import JobFactory

pytestmark = pytest.mark.django_db


def test_a_searched_list_uses_the_estimating_paginator(owner_client, workspace):
    JobFactory(workspace=workspace, name="Book a table")
    JobFactory(workspace=workspace, name="Opening hours")
    searched = owner_client.get(reverse("jobs:list"), {"q": "TABLE"})
    assert isinstance(searched.context["page"].paginator, SearchEstimatePaginator)
    assert searched.context["page"].paginator.count == 1  # small: counted exactly
    assert [j.name for j in searched.context["page"]] == ["Book a table"]
    plain = owner_client.get(reverse("jobs:list"))
    assert not isinstance(plain.context["page"].paginator, SearchEstimatePaginator)


def test_a_large_estimate_is_kept_and_a_small_one_counted(workspace, monkeypatch):
    JobFactory(workspace=workspace, name="Book a table")
    jobs = selectors.job_list(workspace=workspace, query="table")
    if connection.vendor == "postgresql":
        monkeypatch.setattr(SearchEstimatePaginator, "_estimate", lambda *a: 50_000)
        assert SearchEstimatePaginator(jobs, 25).count == 50_000
    assert SearchEstimatePaginator(jobs, 25).count == 1 or connection.vendor == "postgresql"


def _plan(queryset) -> str:
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")  # a test's few rows would be read whole
        cursor.execute(f"EXPLAIN {sql}", params)
        return "\n".join(row[0] for row in cursor.fetchall())


@postgres_only()
@pytest.mark.parametrize("column", ["name", "description", "trigger", "instructions"])
def test_the_search_reads_the_trigram_indexes(workspace, column):
    """Each searched column's icontains (UPPER(col::text) LIKE ...) is served by its index."""
    JobFactory(workspace=workspace, name="Book a table")
    plan = _plan(Job.objects.filter(**{f"{column}__icontains": "pizza"}).only("pk"))
    assert f"Bitmap Index Scan on job_{column}_trgm" in plan, plan
    jobs = selectors.job_list(workspace=workspace, query="pizza")
    estimate = SearchEstimatePaginator(jobs, 25)._estimate(jobs.query, connection)
    assert isinstance(estimate, int) and estimate >= 0
