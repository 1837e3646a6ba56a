"""POST /api/v1/numbers/<e164>/route: the router, asked by the telephony runtime against the
live version. The same token, number and throttle rules as /live (callflows.api.authorize)."""

import json

from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from callflows.api import authorize

from . import routing, runtime
from .models import SAID_MAX

MAX_HISTORY = 50


def _bad_request(errors: dict) -> JsonResponse:
    return JsonResponse({"error": "Invalid request.", "fields": errors}, status=400)


def _text(value, field: str, errors: dict) -> str:
    if not isinstance(value, str) or not value.strip():
        errors[field] = "Required: what the caller said, as text."
    elif len(value) > SAID_MAX:
        errors[field] = f"At most {SAID_MAX} characters (it has {len(value):,})."
    return value if field not in errors else ""


def _parse(request) -> tuple[dict, dict]:
    errors: dict = {}
    try:
        data = json.loads(request.body or b"null")
    except (ValueError, UnicodeDecodeError):
        return {}, {"body": "Send a JSON object."}
    if not isinstance(data, dict):
        return {}, {"body": "Send a JSON object."}
    said = _text(data.get("said"), "said", errors)
    step = data.get("step")
    step = "" if step is None else step  # null or left out: the first Sona step; 0 is no key
    if not isinstance(step, str) or len(step) > 12:
        errors["step"] = "A Sona step's key (text, at most 12 characters), or leave it out."
    history = data.get("history")
    history = [] if history is None else history  # but "", 0 or {} is no list
    if not isinstance(history, list) or len(history) > MAX_HISTORY:
        errors["history"] = f"A list of at most {MAX_HISTORY} earlier caller turns."
    else:
        for i, turn in enumerate(history):
            _text(turn, f"history[{i}]", errors)
    current = data.get("current_job")
    if current is not None and (not isinstance(current, int) or isinstance(current, bool)):
        errors["current_job"] = "The id of the job chosen on an earlier turn, or null."
    return {"said": said, "step": step, "history": history, "current": current}, errors


def _match(match: routing.Match | None) -> dict | None:
    return None if match is None else {"id": match.id, "name": match.name, "score": match.score}


@csrf_exempt  # a bearer-token API; the runtime has no cookies to forge
@require_POST
def route(request, number):
    found, refused = authorize(request, number)
    if refused is not None:
        return refused
    asked, errors = _parse(request)
    if errors:
        return _bad_request(errors)
    index = runtime.index(found.phone_id, found.generation)
    step = index.step(asked["step"])
    if step is None:
        message = "The live version has no Sona step." if not asked["step"] else "Unknown step."
        return _bad_request({"step": message})
    decision = runtime.decide(
        found.phone_id, index, step, asked["said"], asked["history"], asked["current"]
    )
    chosen = decision.job
    return JsonResponse(
        {
            "job": _match(chosen),
            "runner_up": _match(decision.runner_up),
            "ambiguous": decision.ambiguous,
            "no_job": chosen is None,
            "continued": decision.continued,
            "actions": step.actions.get(chosen.id, []) if chosen else [],
            "why": list(chosen.why) if chosen else [],
            "step": {"key": step.key, "name": step.name},
            "version": index.version,
            "backend": decision.backend,
            "notice": decision.notice,
        }
    )
