from django.core.paginator import Paginator
from django.db import connections
from django.utils.functional import cached_property


class EstimatedCountPaginator(Paginator):
    """Admin paginator that never counts a whole large table.

    An unfiltered PostgreSQL queryset uses the planner's row estimate (pg_class.reltuples);
    filtered querysets and other databases count as usual (filters keep the count small).
    """

    @cached_property
    def count(self):
        query = getattr(self.object_list, "query", None)
        if query is not None and not query.where:
            connection = connections[self.object_list.db]
            if connection.vendor == "postgresql":
                with connection.cursor() as cursor:
                    cursor.execute(
                        "SELECT reltuples::bigint FROM pg_class WHERE oid = %s::regclass",
                        [query.model._meta.db_table],
                    )
                    estimate = cursor.fetchone()[0]
                if estimate and estimate > 10_000:
                    return estimate
        return super().count
