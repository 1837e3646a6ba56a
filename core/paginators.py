import json

from django.core.paginator import Paginator
from django.db import connections
from django.utils.functional import cached_property


class EstimatedCountPaginator(Paginator):
    """Admin paginator that never counts a whole large table.

    An unfiltered PostgreSQL queryset uses the planner's row estimate (pg_class.reltuples);
    filtered querysets and other databases count as usual (filters keep the count small).
    """

    estimate_above = 10_000  # a smaller estimate is counted exactly (cheap, and exact)

    def _estimate(self, query, connection) -> int | None:
        if query.where:
            return None
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT reltuples::bigint FROM pg_class WHERE oid = %s::regclass",
                [query.model._meta.db_table],
            )
            return cursor.fetchone()[0]

    @cached_property
    def count(self):
        query = getattr(self.object_list, "query", None)
        if query is not None:
            connection = connections[self.object_list.db]
            if connection.vendor == "postgresql":
                estimate = self._estimate(query, connection)
                if estimate and estimate > self.estimate_above:
                    return estimate
        return super().count


class SearchEstimatePaginator(EstimatedCountPaginator):
    """For searched lists (filters the table's statistics know nothing of): the planner's
    estimate of the filtered query (EXPLAIN, nothing is read), counted exactly only when that
    estimate is small. Other databases count as usual."""

    estimate_above = 1_000

    def _estimate(self, query, connection) -> int | None:
        sql, params = self.object_list.order_by().query.sql_with_params()
        with connection.cursor() as cursor:
            cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
            plan = cursor.fetchone()[0]
        if isinstance(plan, str):
            plan = json.loads(plan)
        return int(plan[0]["Plan"]["Plan Rows"])
