"""Rate limit of bad API tokens, per client address and minute, held by the database.

A guesser gets API_BAD_TOKEN_LIMIT tries a minute from one address; then every request from
that address (good token or not) is answered 429 until the minute ends, before its token is
even looked at, so an address over the limit learns nothing. The count lives in one small
table (BadTokenWindow), so it holds across processes and hosts in both cache modes, and it
costs a good request nothing extra: the runtime's one lookup query (live.py) LEFT JOINs the
address's row for this minute.
"""

import time

from django.conf import settings
from django.db import connection

from .models import BadTokenWindow

KEEP_MINUTES = 10

_clock = time.time  # tests move it

_TABLE = BadTokenWindow._meta.db_table
# One statement on PostgreSQL and SQLite alike (3.35+ for RETURNING): atomic under concurrency.
_UPSERT_SQL = (
    f"INSERT INTO {_TABLE} (address, minute, failures) VALUES (%s, %s, 1) "  # noqa: S608
    f"ON CONFLICT (address, minute) DO UPDATE SET failures = {_TABLE}.failures + 1 "
    "RETURNING failures"
)
_PRUNE_SQL = f"DELETE FROM {_TABLE} WHERE minute < %s"  # noqa: S608


def now() -> tuple[int, int]:
    """(the current minute, the seconds until it ends: what Retry-After says)."""
    seconds = _clock()
    minute = int(seconds // 60)
    return minute, max(1, int((minute + 1) * 60 - seconds + 0.999))


def over_limit(failures: int | None) -> bool:
    return failures is not None and failures >= settings.API_BAD_TOKEN_LIMIT


def bad_token_record(*, address: str, minute: int) -> int:
    """Count one failure of the address in that minute; returns the count including it."""
    with connection.cursor() as cursor:
        cursor.execute(_UPSERT_SQL, [address, minute])
        (failures,) = cursor.fetchone()
        # Upkeep, deterministic and cheap: the first failure of an address in a minute drops
        # the minutes that no longer count (an index range scan that mostly finds nothing).
        if failures == 1:
            bad_token_prune(minute=minute)
    return failures


def bad_token_prune(*, minute: int) -> int:
    """Delete the windows older than KEEP_MINUTES before `minute`; returns how many."""
    with connection.cursor() as cursor:
        cursor.execute(_PRUNE_SQL, [minute - KEEP_MINUTES])
        return cursor.rowcount
