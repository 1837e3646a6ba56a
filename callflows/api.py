"""JSON API for the telephony runtime, authenticated with a workspace API token."""

import gzip
import hashlib
import json

from django.core.cache import cache as django_cache
from django.core.serializers.json import DjangoJSONEncoder
from django.http import HttpResponse, JsonResponse
from django.views.decorators.http import require_GET

from jobs.models import Job
from workspaces.services import api_token_workspace_id, token_cache_key

from . import cache
from .models import PhoneNumber

UNKNOWN = "Unknown phone number."
NOT_PUBLISHED = "This phone number has no published call flow yet."


def _error(message: str, status: int) -> JsonResponse:
    return JsonResponse({"error": message}, status=status)


def _token(request) -> str:
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    return value.strip() if scheme.lower() == "bearer" else ""


def build_live_config(number: str):
    """(workspace_id, body, digest, gzipped body) for the number's live version, or
    (workspace_id, None, error, None).

    Two queries: the number with its live version, then the jobs it names.
    """
    phone = (
        PhoneNumber.objects.select_related("workspace", "call_flow__live_version")
        .filter(number=number)
        .first()
    )
    if phone is None:
        return (None, None, UNKNOWN, None)
    version = phone.call_flow.live_version
    if version is None:
        return (phone.workspace_id, None, NOT_PUBLISHED, None)
    job_ids = [job_id for step in version.snapshot["steps"] for job_id in step.get("jobs", [])]
    jobs = Job.objects.in_bulk(job_ids) if job_ids else {}
    config = {
        "number": phone.number,
        "display_name": phone.display_name,
        "workspace": {"slug": phone.workspace.slug, "name": phone.workspace.name},
        "version": {"number": version.number, "published_at": version.published_at},
        "steps": [
            {
                "key": step["key"],
                "kind": step["kind"],
                "name": step["name"],
                "settings": step["settings"],
                **(
                    {
                        "jobs": [
                            {
                                "id": job_id,
                                "name": jobs[job_id].name,
                                "description": jobs[job_id].description,
                                "trigger": jobs[job_id].trigger,
                                "instructions": jobs[job_id].instructions,
                            }
                            for job_id in step["jobs"]
                            if job_id in jobs
                        ]
                    }
                    if "jobs" in step
                    else {}
                ),
            }
            for step in version.snapshot["steps"]
        ],
    }
    body = json.dumps(config, cls=DjangoJSONEncoder, ensure_ascii=False).encode()
    # Compressed once here, so every cached hit can send ~1/10 of the bytes for free.
    compressed = gzip.compress(body, compresslevel=6, mtime=0)
    return (phone.workspace_id, body, hashlib.sha256(body).hexdigest()[:32], compressed)


@require_GET
def live_config(request, number):
    raw = _token(request)
    token_key = token_cache_key(raw)
    if token_key is None:
        return _error("Missing, unknown or revoked API token.", 401)
    # One cache round trip for both the token and the number's entry.
    found = django_cache.get_many([token_key, cache.key(number)])
    workspace_id = api_token_workspace_id(raw, cached=found.get(token_key))
    if workspace_id is None:
        return _error("Missing, unknown or revoked API token.", 401)
    entry = cache.entry(found.get(cache.key(number)))
    if entry is None:
        entry = build_live_config(number)
        cache.put(number, entry)
    number_workspace_id, body, digest_or_error, compressed = entry
    if number_workspace_id != workspace_id:
        return _error(UNKNOWN, 404)  # another workspace's number looks like an unknown one
    if body is None:
        return _error(digest_or_error, 404)
    use_gzip = "gzip" in request.headers.get("Accept-Encoding", "")
    # Each representation has its own ETag; either one in If-None-Match means "unchanged".
    etag = f'"{digest_or_error}-gzip"' if use_gzip else f'"{digest_or_error}"'
    known = {t.strip() for t in request.headers.get("If-None-Match", "").split(",")}
    if known & {f'"{digest_or_error}"', f'"{digest_or_error}-gzip"'}:
        response = HttpResponse(status=304)
    elif use_gzip:
        response = HttpResponse(compressed, content_type="application/json")
        response["Content-Encoding"] = "gzip"
    else:
        response = HttpResponse(body, content_type="application/json")
    response["ETag"] = etag
    response["Vary"] = "Accept-Encoding"
    response["Cache-Control"] = "no-cache"
    return response
