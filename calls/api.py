"""The runtime API of the calls app, with the same token, number and throttle rules as /live
(callflows.api.authorize):
- POST /api/v1/numbers/<e164>/route: the router, asked against the live version;
- POST /api/v1/calls: report a finished call (calls.services.call_report);
- GET /api/v1/calls/<id>: read one back.
Bodies are described once in calls/schemas.py (the OpenAPI document is built from them)."""

from django.core.exceptions import ValidationError
from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt

from callflows.api import authorize, authorize_token
from core import jsonapi
from workspaces.models import Workspace

from . import routing, runtime, schemas, services
from .models import SAID_MAX, Call

MAX_HISTORY = 50
OPTIONS_WORDS = (
    "The two different job ids the last answer's question offered (its options), or leave it out."
)
NOT_ATTACHED = "Both must be ids of jobs attached to this step (the last answer's options)."


_bad_request = jsonapi.field_errors


def _text(value, field: str, errors: dict) -> str:
    if not isinstance(value, str) or not value.strip():
        errors[field] = "Required: what the caller said, as text."
    elif len(value) > SAID_MAX:
        errors[field] = f"At most {SAID_MAX} characters (it has {len(value):,})."
    return value if field not in errors else ""


def _parse(data: dict) -> tuple[dict, dict]:
    errors: dict = {}
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
    options = data.get("options")
    if options is not None and not (  # null or left out: no question is being answered
        isinstance(options, list)
        and len(options) == 2
        and all(isinstance(i, int) and not isinstance(i, bool) for i in options)
        and options[0] != options[1]
    ):
        errors["options"] = OPTIONS_WORDS
    asked = {"said": said, "step": step, "history": history, "current": current}
    return {**asked, "options": tuple(options or ()) if "options" not in errors else ()}, errors


def _match(match: routing.Match | None) -> dict | None:
    return None if match is None else {"id": match.id, "name": match.name, "score": match.score}


@csrf_exempt  # a bearer-token API; the runtime has no cookies to forge
@jsonapi.require_methods("POST")
def route(request, number):
    found, refused = authorize(request, number)
    if refused is not None:
        return refused
    data, refused = jsonapi.json_body(request)
    if refused is not None:
        return refused
    asked, errors = _parse(data)
    if errors:
        return _bad_request(errors)
    index = runtime.index(found.phone_id, found.generation)
    step = index.step(asked["step"])
    if step is None:
        message = "The live version has no Sona step." if not asked["step"] else "Unknown step."
        return _bad_request({"step": message})
    if asked["options"] and not set(asked["options"]) <= {c.id for c in step.candidates}:
        return _bad_request({"options": NOT_ATTACHED})
    decision = runtime.decide(
        found.phone_id,
        index,
        step,
        asked["said"],
        asked["history"],
        asked["current"],
        asked["options"],
    )
    chosen = decision.job if decision.decision == routing.JOB else None
    clarify = decision.decision == routing.CLARIFY
    return JsonResponse(
        {
            "decision": decision.decision,
            "job": _match(chosen),
            "confidence": (decision.confidence or None) if chosen else None,
            "options": [_match(o) for o in decision.options] if clarify else [],
            "question": decision.question if clarify else "",
            "runner_up": _match(decision.runner_up),
            "ambiguous": clarify,  # deprecated: decision == "clarify"
            "no_job": decision.decision == routing.NONE,
            "continued": decision.continued,
            "actions": step.actions.get(chosen.id, []) if chosen else [],
            "why": list(chosen.why) if chosen else [],
            "step": {"key": step.key, "name": step.name},
            "version": index.version,
            "backend": decision.backend,
            "notice": decision.notice,
        }
    )


# Call reports --------------------------------------------------------------------------------

REPORT_MAX_BYTES = jsonapi.BODY_MAX_BYTES
UNKNOWN_CALL = "Unknown call."


def call_json(call: Call) -> dict:
    """The stored call as the API shows it (schemas.CallOut: one serializer for 201, 200, GET)."""
    return schemas.CallOut(
        id=call.pk,
        source=call.source,
        number=call.number,
        external_id=call.external_id,
        caller=call.caller,
        started_at=call.started_at,
        ended_at=call.ended_at,
        version=call.version_number,
        step={"key": call.step_key, "name": call.step_name} if call.step_key else None,
        job=call.job_id,
        job_name=call.job_name,
        job_version=call.job_history_id,
        score=call.score,
        outcome=call.outcome,
        actions=call.actions,
        summary=call.summary,
        next_steps=call.next_steps,
        transcript=call.transcript,
        recording_url=call.recording_url,
        created_at=call.created_at,
    ).model_dump(mode="json")


@csrf_exempt  # a bearer-token API; the runtime has no cookies to forge
@jsonapi.require_methods("POST")
def report(request):
    found, refused = authorize_token(request)
    if refused is not None:
        return refused
    data, refused = jsonapi.json_body(request, max_bytes=REPORT_MAX_BYTES)
    if refused is not None:
        return refused
    workspace = Workspace(pk=found.workspace_id, country=found.country)
    try:
        call, created = services.call_report(
            workspace=workspace,
            data=data,
            idempotency_key=request.headers.get("Idempotency-Key", "").strip(),
        )
    except ValidationError as exc:
        return _bad_request({k: v[0] if len(v) == 1 else v for k, v in exc.message_dict.items()})
    except services.UnknownNumber as exc:
        return JsonResponse({"error": str(exc)}, status=404)
    except services.ReportConflict as exc:
        return JsonResponse({"error": str(exc)}, status=409)
    return JsonResponse(call_json(call), status=201 if created else 200)


@csrf_exempt  # only GET is served; other methods get 405 once the call is found
def call_detail(request, pk):
    found, refused = authorize_token(request)
    if refused is not None:
        return refused
    # Another workspace's call is unknown here, whatever the method; so is a non-id.
    valid = pk.isascii() and pk.isdigit() and len(pk) <= 18 and int(pk) > 0
    call = (
        Call.objects.filter(workspace_id=found.workspace_id, pk=int(pk)).first() if valid else None
    )
    if call is None:
        return JsonResponse({"error": UNKNOWN_CALL}, status=404)
    if request.method not in ("GET", "HEAD"):
        return jsonapi.method_not_allowed(["GET", "HEAD"])
    return JsonResponse(call_json(call))
