"""The project's WSGI application plus two baselines bench/runtime_api.py compares against:

- /bench/trivial, served with no middleware at all: the cheapest JSON answer the same gunicorn
  can give (the baseline of GET …/live and POST …/route);
- /bench/insert, a plain WSGI app (no Django) that parses the report's JSON and does one psycopg
  INSERT + COMMIT of a row of the same width into `bench_call` (calls_call's columns, only a
  primary key): the baseline of POST /api/v1/calls (issue 22).
"""

import json
import os
import threading
from datetime import UTC, datetime

import psycopg

from config.handlers import RuntimeAPIHandler
from config.wsgi import application as project


class BareHandler(RuntimeAPIHandler):
    middleware = ()


_bare = BareHandler()
_local = threading.local()
BASELINE_TABLE = "bench_call"
_INSERT = (
    f"INSERT INTO {BASELINE_TABLE} (workspace_id, number, source, external_id, caller, "  # noqa: S608
    "started_at, ended_at, step_key, step_name, job_id, job_name, score, outcome, actions, "
    "summary, next_steps, transcript, recording_url, idempotency_key, request_digest, created_at) "
    "VALUES (1, %s, 'live', %s, %s, %s, %s, %s, '', %s, '', %s, %s, %s, %s, %s, %s, %s, %s, '', %s) "
    "RETURNING id"
)


def _connection():
    conn = getattr(_local, "conn", None)
    if conn is None:
        conn = _local.conn = psycopg.connect(os.environ["DATABASE_URL"])
    return conn


def insert_baseline(environ, start_response):
    length = int(environ.get("CONTENT_LENGTH") or 0)
    r = json.loads(environ["wsgi.input"].read(length))
    conn = _connection()
    with conn.cursor() as cursor:
        cursor.execute(
            _INSERT,
            [
                r["number"], r["external_id"], r["caller"], r["started_at"], r["ended_at"],
                r["step"], r["job"], r["score"], r["outcome"], json.dumps(r["actions"]),
                r["summary"], json.dumps(r["next_steps"]), r["transcript"], r["recording_url"],
                r["external_id"], datetime.now(UTC),
            ],
        )  # fmt: skip
        pk = cursor.fetchone()[0]
    conn.commit()
    body = json.dumps({"id": pk}).encode()
    start_response("201 Created", [("Content-Type", "application/json")])
    return [body]


def application(environ, start_response):
    path = environ.get("PATH_INFO")
    if path == "/bench/trivial":
        return _bare(environ, start_response)
    if path == "/bench/insert":
        return insert_baseline(environ, start_response)
    return project(environ, start_response)
