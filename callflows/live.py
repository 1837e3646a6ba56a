"""What the telephony runtime reads: a number's live configuration, right in every process.

Freshness by design. Every change to what a number serves bumps its `live_generation` in the
same transaction as the change (publish, rollback, an edit/delete/restore of a job the live
version uses, a rename, a workspace rename); a body is addressed by (phone id, generation), so a
copy can never be stale. Each process keeps recent bodies in memory, and a shared cache (Redis
via CACHE_URL) lets the processes share them.

A warm request makes no database trip: each process keeps what a token and a number looked up
to (token → workspace, number → generation) for FRESH_SECONDS. So a publish, an edit, a delete
or a revoke committed by another process is served by every process within that second; this
process forgets at once (forget(), called by every change and revoke, now and at its commit).
Why a short lease and not a Redis version key, pub/sub or LISTEN/NOTIFY: it needs nothing
shared, so it holds the same with the default local-memory cache and with Redis, survives a
lost Redis or a PgBouncer in transaction mode (no listening connection), and costs one query
per (token, number) and process per second at most, whatever the traffic.
"""

import gzip
import hashlib
import json
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass

import psycopg
from django.core.cache import cache
from django.core.cache.backends.locmem import LocMemCache
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction
from django.db.models import CharField, F, Value

from jobs import actions
from jobs.models import Job
from knowledge.models import KnowledgePage
from webhooks.models import WebhookEndpoint
from workspaces.models import ApiToken, Workspace

from .models import CallFlow, PhoneNumber

BODY_PREFIX = "live-body:v4:"  # v4: jobs carry "actions"
BODY_SECONDS = 24 * 3600
LOCAL_BODIES = 64


@dataclass(frozen=True)
class Body:
    generation: int
    json: bytes
    gzip: bytes
    digest: str


@dataclass(frozen=True)
class Lookup:
    token_workspace_id: int | None  # None: unknown or revoked token
    phone_id: int | None
    phone_workspace_id: int | None
    generation: int | None
    published: bool


# Table names come from the models, values are parameters. Always one row: the token (if
# good) and the number (if it exists and is not in "Recently deleted": a deleted number's line
# answers nothing, like an unknown one).
_LOOKUP_SQL = (
    "SELECT t.workspace_id, p.id, p.workspace_id, p.live_generation, "  # noqa: S608
    "c.live_version_id "
    "FROM (SELECT 1 AS one) AS one "
    f"LEFT JOIN {ApiToken._meta.db_table} t ON t.key_hash = %s AND t.revoked_at IS NULL "
    f"LEFT JOIN {PhoneNumber._meta.db_table} p ON p.number = %s AND p.deleted_at IS NULL "
    f"LEFT JOIN {CallFlow._meta.db_table} c ON c.phone_number_id = p.id"
)


FRESH_SECONDS = 1.0  # how long a process trusts what it looked up (see the module's doc)
LOCAL_LOOKUPS = 4096

_lookups: OrderedDict[tuple, tuple[float, object]] = OrderedDict()
_lookups_lock = threading.Lock()


def _leased(key: tuple, fetch, keep) -> object:
    """fetch(), or what it gave less than FRESH_SECONDS ago in this process. Only answers
    `keep` accepts are kept: a bad token or an unknown number is asked for each time (the
    bad-token limit bounds those), so a new token or number works at once."""
    now = time.monotonic()
    with _lookups_lock:
        found = _lookups.get(key)
    if found is not None and found[0] > now:
        return found[1]
    value = fetch()
    if keep(value):
        with _lookups_lock:
            _lookups[key] = (now + FRESH_SECONDS, value)
            _lookups.move_to_end(key)
            while len(_lookups) > LOCAL_LOOKUPS:
                _lookups.popitem(last=False)
    return value


def forget() -> None:
    """This process drops what it looked up, now and when the current transaction commits (a
    request of another thread may have looked up the old state in between). Other processes
    see the change within FRESH_SECONDS."""
    with _lookups_lock:
        _lookups.clear()
    if connection.in_atomic_block:
        transaction.on_commit(forget_now)


def forget_now() -> None:
    with _lookups_lock:
        _lookups.clear()


def lookup(key_hash: str, number: str) -> Lookup:
    """The token and the number: one query, or none when this process asked within the last
    FRESH_SECONDS."""

    def fetch():
        row = _fetch_one(_LOOKUP_SQL, [key_hash, number])
        return Lookup(row[0], row[1], row[2], row[3], row[4] is not None)

    return _leased(("n", key_hash, number), fetch, lambda found: found.phone_id is not None
                   and found.token_workspace_id is not None)  # fmt: skip


@dataclass(frozen=True)
class TokenLookup:
    workspace_id: int | None  # None: unknown or revoked token
    country: str | None  # the token's workspace's country (national numbers are read in it)
    time_zone: str | None = None  # ... and its own zone, if set (a call's day in the rollups)
    # ... and whether it has an enabled webhook endpoint: a call report without one writes no
    # outbox row and stays one statement (calls/services/reports.py). A new endpoint is seen
    # within FRESH_SECONDS like a publish (callflows/receivers.py forgets on its save).
    webhooks: bool = True


_TOKEN_SQL = (
    "SELECT t.workspace_id, w.country, w.time_zone, "  # noqa: S608
    f"EXISTS (SELECT 1 FROM {WebhookEndpoint._meta.db_table} e "
    "WHERE e.workspace_id = t.workspace_id AND e.enabled) "
    "FROM (SELECT 1 AS one) AS one "
    f"LEFT JOIN {ApiToken._meta.db_table} t ON t.key_hash = %s AND t.revoked_at IS NULL "
    f"LEFT JOIN {Workspace._meta.db_table} w ON w.id = t.workspace_id"
)


def token_lookup(key_hash: str) -> TokenLookup:
    """lookup() for endpoints that name no number in their URL (POST /api/v1/calls, GET
    /api/v1/calls/{id}): the token's workspace, one query or none (leased like lookup())."""

    def fetch():
        row = _fetch_one(_TOKEN_SQL, [key_hash])
        return TokenLookup(row[0], row[1], row[2], bool(row[3]))

    return _leased(("t", key_hash), fetch, lambda found: found.workspace_id is not None)


def fetch_one(sql: str, params: list):
    """One row of a hot runtime statement (prepared once per connection on PostgreSQL), counted
    like any query; for the other runtime endpoints (calls/selectors/reports.py)."""
    return _fetch_one(sql, params)


def _fetch_one(sql: str, params: list):
    if connection.vendor != "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchone()
    # This runs on every ring: a statement the server prepares once per connection, because
    # parsing and planning the join costs more than running it (and more than the ORM saves).
    # wrap_database_errors marks the connection unusable on failure, as Django's cursors do.
    connection.ensure_connection()
    started = time.monotonic()
    with connection.wrap_database_errors, psycopg.Cursor(connection.connection) as cursor:
        cursor.execute(sql, params, prepare=True)
        row = cursor.fetchone()
    if connection.queries_logged:  # counted like any other query (tests, DEBUG)
        connection.queries_log.append(
            {"sql": f"{sql} -- {params!r}", "time": f"{time.monotonic() - started:.3f}"}
        )
    return row


# Bodies ------------------------------------------------------------------------------------

_bodies: OrderedDict[tuple[int, int], Body] = OrderedDict()
_bodies_lock = threading.Lock()


def _remember(key: tuple[int, int], body: Body) -> None:
    with _bodies_lock:
        _bodies[key] = body
        _bodies.move_to_end(key)
        while len(_bodies) > LOCAL_BODIES:
            _bodies.popitem(last=False)


def _shared() -> bool:
    # The local-memory backend is per process, like _bodies: storing there again only costs.
    return not isinstance(cache, LocMemCache) and not isinstance(
        getattr(cache, "_wrapped", None), LocMemCache
    )


def body(phone_id: int, generation: int) -> Body:
    """The live body of that generation: from this process, the shared cache, or built."""
    key = (phone_id, generation)
    with _bodies_lock:
        found = _bodies.get(key)
    if found is not None:
        return found
    shared_key = f"{BODY_PREFIX}{phone_id}:{generation}"
    if _shared():
        found = cache.get(shared_key)
    if found is None:
        found = build(phone_id)
        if found.generation != generation:
            # Changed since the lookup: serve the newer body, filed under its own generation.
            key, shared_key = (
                (phone_id, found.generation),
                f"{BODY_PREFIX}{phone_id}:{found.generation}",
            )
        if _shared():
            cache.set(shared_key, found, BODY_SECONDS)
    _remember(key, found)
    return found


def build(phone_id: int) -> Body:
    """Two queries: the number with its live version, then the jobs and knowledge pages the
    version names (one UNION ALL query, so knowledge adds no round trip)."""
    phone = PhoneNumber.objects.select_related("workspace", "call_flow__live_version").get(
        pk=phone_id
    )
    version = phone.call_flow.live_version
    snapshot = version.snapshot if version else {"steps": []}
    jobs, pages = _texts(
        [job_id for step in snapshot["steps"] for job_id in step.get("jobs", [])],
        [page_id for step in snapshot["steps"] for page_id in step.get("knowledge", [])],
    )
    config = {
        "number": phone.number,
        "display_name": phone.display_name,
        "workspace": {"slug": phone.workspace.slug, "name": phone.workspace.name},
        "version": {
            "number": version.number if version else None,
            "published_at": version.published_at if version else None,
        },
        "steps": [_step(step, jobs, pages, phone.workspace.country) for step in snapshot["steps"]],
    }
    data = json.dumps(config, cls=DjangoJSONEncoder, ensure_ascii=False).encode()
    # Compressed once here, so every hit can send ~1/10 of the bytes for free.
    compressed = gzip.compress(data, compresslevel=6, mtime=0)
    digest = hashlib.sha256(data).hexdigest()[:32]
    return Body(phone.live_generation, data, compressed, digest)


_TEXT_COLUMNS = ("source", "pk", "c1", "c2", "c3", "c4")


def _texts(job_ids: list[int], page_ids: list[int]) -> tuple[dict, dict]:
    """The jobs' and pages' current texts by id, in one query: rows of (source, id, 4 texts)."""
    parts = []
    if job_ids:
        parts.append(
            Job.objects.filter(pk__in=set(job_ids))
            .annotate(
                source=Value("j", output_field=CharField()),
                c1=F("name"),
                c2=F("description"),
                c3=F("trigger"),
                c4=F("instructions"),
            )
            .values_list(*_TEXT_COLUMNS)
            .order_by()  # no ORDER BY inside a UNION
        )
    if page_ids:
        empty = Value("", output_field=CharField())
        parts.append(
            KnowledgePage.objects.filter(pk__in=set(page_ids))
            .annotate(
                source=Value("k", output_field=CharField()),
                c1=F("title"),
                c2=F("body"),
                c3=empty,
                c4=empty,
            )
            .values_list(*_TEXT_COLUMNS)
            .order_by()  # no ORDER BY inside a UNION
        )
    if not parts:
        return {}, {}
    rows = parts[0].union(*parts[1:], all=True) if len(parts) > 1 else parts[0]
    jobs, pages = {}, {}
    for source, pk, c1, c2, c3, c4 in rows:
        if source == "j":
            jobs[pk] = {"id": pk, "name": c1, "description": c2, "trigger": c3, "instructions": c4}
        else:
            pages[pk] = {"id": pk, "title": c1, "body": c2}
    return jobs, pages


def _step(step: dict, jobs: dict[int, dict], pages: dict[int, dict], region: str) -> dict:
    data = {k: step[k] for k in ("key", "kind", "name", "settings")}
    if "jobs" in step:
        data["jobs"] = [
            {
                **jobs[job_id],
                # Parsed from the text, no query: a member transfer names the member by email
                # (members have no phone number in Playbook), see jobs/actions.py.
                "actions": [
                    a.runtime(region=region) for a in actions.parse(jobs[job_id]["instructions"])
                ],
            }
            for job_id in step["jobs"]
            if job_id in jobs
        ]
    if step.get("kind") == "sona":
        data["knowledge"] = [pages[p] for p in step.get("knowledge", []) if p in pages]
    return data


# Changes -----------------------------------------------------------------------------------


def number_changed(phone_id: int) -> None:
    """changed() for one number: a single UPDATE (one row cannot be locked out of order)."""
    forget()
    PhoneNumber.objects.filter(pk=phone_id).update(live_generation=F("live_generation") + 1)


def changed(numbers) -> list[tuple]:
    """Mark what the given PhoneNumber queryset serves as changed. Call it inside the
    transaction of the change: the new generation commits (or rolls back) with it.

    Rows are locked in primary-key order first, so two changes touching the same numbers
    (two job edits, say) cannot deadlock by updating them in different orders.
    """
    with transaction.atomic():  # joins the caller's transaction; alone (a shell), its own
        rows = list(
            numbers.select_for_update(of=("self",))
            .order_by("pk")
            .values_list("pk", "number", "display_name", "sms_registered")
        )
        ids = [row[0] for row in rows]
        forget()  # also for no number: a workspace's country is in the token's lookup
        if ids:
            PhoneNumber.objects.filter(pk__in=ids).update(live_generation=F("live_generation") + 1)
    return rows  # (pk, number, display name, SMS registered) of the numbers changed
