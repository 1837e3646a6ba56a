"""The runtime API on django-ninja: one NinjaAPI for every runtime operation, with the token,
number and throttle rules of callflows.api (authorize / authorize_token):
- GET /api/v1/numbers/<e164>/live: the number's live configuration (callflows.api.live_answer);
- POST /api/v1/numbers/<e164>/route: the router, asked against the live version;
- POST /api/v1/calls: report a finished call (calls.services.call_report);
- GET /api/v1/calls/<id>: read one back.

The bodies are the models of calls/schemas.py: ninja validates each body with its model before
the view runs and writes the OpenAPI document (calls/openapi.py) from the same models and the
signatures below. What a view still refuses depends on the data (an unknown step, a job that is
not attached), never on the body's shape.

In order, as before ninja: the method (405, before anything else, except on a call's address,
where another workspace's call is unknown whatever the method), the token (401, 429 once a source
sent too many bad ones; calls/auth.py), the number (404), the body's size (413, from
Content-Length, before it is read), the body as JSON (400: not a JSON object, nested too deep, a
lone surrogate: core/jsonapi.py), the schema (400 naming each field), then the view. Every
refusal has the one JSON shape ({"error": …}, with "fields" for a 400): the handlers below.
"""

from typing import Annotated

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, JsonResponse
from ninja import Header, NinjaAPI, Path
from ninja.errors import AuthenticationError, AuthorizationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.parser import Parser
from pydantic import WithJsonSchema

from callflows import api as callflows_api
from core import jsonapi
from workspaces.models import Workspace

from . import routing, runtime, schemas, services
from .auth import Refused, RuntimeToken
from .models import Call

MAX_HISTORY = schemas.MAX_HISTORY
OPTIONS_WORDS = schemas.OPTIONS_WORDS
NOT_ATTACHED = "Both must be ids of jobs attached to this step (the last answer's options)."
REPORT_MAX_BYTES = jsonapi.BODY_MAX_BYTES
UNKNOWN_CALL = "Unknown call."
E164 = r"^\+[1-9][0-9]{6,14}$"
# A field left out: the API's words where the model has them, else pydantic's.
MISSING = {"said": schemas.SAID_WORDS}


class JSONBody(Parser):
    """The one JSON reader of core/jsonapi.py (a JSON object, at most MAX_DEPTH deep, no
    lone surrogate); its refusal is answered as it is. The raw object is kept on the request
    for the services that digest it (a report's idempotency)."""

    def parse_body(self, request):
        data, refused = jsonapi.json_body(request, max_bytes=REPORT_MAX_BYTES)
        if refused is not None:
            raise Refused(refused)
        request.json_data = data
        return data


class RuntimeAPI(NinjaAPI):
    def validation_error_from_error_contexts(self, error_contexts):
        # ninja drops each error's input; keep pydantic's errors as they are (loc, type, msg).
        errors = []
        for context in error_contexts:
            source = context.model.__ninja_param_source__
            flatten = context.model.__ninja_flatten_map_reverse__
            for error in context.pydantic_validation_error.errors(include_url=False):
                errors.append({**error, "loc": (source, *flatten.get(error["loc"], error["loc"]))})
        return NinjaValidationError(errors)


api = RuntimeAPI(
    title="Playbook runtime API",
    version="1",
    description="What the telephony runtime calls: read a number's live configuration, ask the "
    "router, report a finished call. Every request carries a workspace API token: "
    "`Authorization: Bearer pb_…`.",
    urls_namespace="runtime_api",
    openapi_url=None,  # served by calls/api_docs.py beside its docs page
    docs_url=None,
    parser=JSONBody(),
)


# One JSON error shape ------------------------------------------------------------------------


def _field(loc) -> str:
    """ "actions[0].type" for ("actions", 0, "type"): the names call_report uses."""
    name = str(loc[0]) if loc else "body"
    for part in loc[1:]:
        name += f"[{part}]" if isinstance(part, int) else f".{part}"
    return name


@api.exception_handler(NinjaValidationError)
def _invalid(request, exc):
    fields: dict = {}
    for error in exc.errors:
        source, loc = error["loc"][0], error["loc"][1:]
        if source == "body":
            loc = loc[1:]  # the view's parameter name
            if not loc:  # the body as a whole: none at all, or refused by its model
                words = error["msg"] if error["type"] == "words" else jsonapi.NOT_JSON
                fields.setdefault("body", words)
                continue
        field = _field(loc)
        if error["type"] == "missing" and field in MISSING:
            message = MISSING[field]
        else:
            message = error["msg"].removeprefix("Value error, ")
        fields.setdefault(field, message)
    return jsonapi.field_errors(fields)


@api.exception_handler(Refused)
def _refused(request, exc):
    return exc.response


@api.exception_handler(HttpError)
def _http_error(request, exc):
    if isinstance(exc.__cause__, Refused):  # the body parser's refusal (JSONBody)
        return exc.__cause__.response
    return jsonapi.error(exc.message, exc.status_code)


@api.exception_handler(AuthenticationError)
def _unauthenticated(request, exc):
    return jsonapi.error(callflows_api.BAD_TOKEN, 401)


@api.exception_handler(AuthorizationError)
@api.exception_handler(PermissionDenied)
def _forbidden(request, exc):
    return jsonapi.error(str(exc) or "Forbidden.", 403)


@api.exception_handler(Http404)
def _not_found(request, exc):
    return jsonapi.error("Not found.", 404)


@api.exception_handler(Exception)
def _unhandled(request, exc):
    raise exc  # Django logs it and answers with handler500: the JSON 500 under /api/


# Responses as the document shows them ---------------------------------------------------------

ERROR_WORDS = {
    400: "Invalid request: each refused field with why (a body that is not a JSON object, is "
    f"nested more than {jsonapi.MAX_DEPTH} levels deep or holds a lone surrogate included).",
    401: callflows_api.BAD_TOKEN,
    404: "Unknown, or another workspace's (they look the same).",
    405: "Method not allowed.",
    409: "The key was used before with another body.",
    413: f"The body is larger than {REPORT_MAX_BYTES // 1024} KB.",
    429: "Too many bad tokens from this address this minute (see Retry-After).",
}


def _errors(*codes: int) -> dict:
    return {code: schemas.FieldErrors if code == 400 else schemas.Error for code in codes}


Number = Path(
    description="The phone number in E.164, e.g. +15555550123.",
    pattern=E164,
    example="+15555550123",
)


# GET /api/v1/numbers/{number}/live -------------------------------------------------------------


@api.get(
    "/numbers/{number}/live",
    url_name="live",
    operation_id="live",
    summary="Read a number's live configuration",
    description="The published version with the current text of its jobs (and their parsed "
    "actions) and knowledge. Send the ETag back in If-None-Match: 304 while nothing changed. "
    "Accept-Encoding: gzip gets a compressed body.",
    auth=RuntimeToken(number=True),
    response={200: schemas.LiveConfig, 304: None, **_errors(401, 404, 429)},
)
def live(
    request,
    number: str = Number,
    if_none_match: str | None = Header(
        None, alias="If-None-Match", description="The ETag of the body you hold."
    ),
):
    return callflows_api.live_answer(request, request.auth)


# The same answer for HEAD, left out of the document like every HEAD.
api.api_operation(
    ["HEAD"], "/numbers/{number}/live", auth=RuntimeToken(number=True), include_in_schema=False
)(live)


# POST /api/v1/numbers/{number}/route -----------------------------------------------------------


def _match(match: routing.Match | None) -> dict | None:
    return None if match is None else {"id": match.id, "name": match.name, "score": match.score}


@api.post(
    "/numbers/{number}/route",
    url_name="route",
    operation_id="route",
    summary="Ask the router what to do with what a caller said",
    description="Against the live version; the same router as mock calls. The answer is one of "
    "three decisions: `job` (follow the job), `clarify` (ask the caller `question`; send their "
    "reply with `options` set to the two options' ids, which settles it) or `none` (no attached "
    "job fits). `ambiguous` is deprecated: it equals decision == `clarify`.",
    auth=RuntimeToken(number=True, max_bytes=REPORT_MAX_BYTES),
    response={200: schemas.RouteAnswer, **_errors(400, 401, 404, 413, 429)},
)
def route(request, asked: schemas.RouteAsk, number: str = Number):
    found = request.auth
    index = runtime.index(found.phone_id, found.generation)
    step = index.step(asked.step or "")  # null or left out: the first Sona step
    if step is None:
        message = "The live version has no Sona step." if not asked.step else "Unknown step."
        return jsonapi.field_errors({"step": message})
    options = tuple(asked.options or ())
    if options and not set(options) <= {c.id for c in step.candidates}:
        return jsonapi.field_errors({"options": NOT_ATTACHED})
    decision = runtime.decide(
        found.phone_id,
        index,
        step,
        asked.said,
        asked.history or [],
        asked.current_job,
        options,
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


# Call reports ----------------------------------------------------------------------------------


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


@api.post(
    "/calls",
    url_name="calls",
    operation_id="report_call",
    summary="Report a finished call",
    description="Idempotent: the Idempotency-Key header (else external_id) is the key. The same "
    "key and body again answers the first call (200); the same key with another body is 409. "
    "Unknown fields are ignored. If job_version is left out, the job's version live at "
    "started_at is found from its history.",
    auth=RuntimeToken(max_bytes=REPORT_MAX_BYTES),
    response={201: schemas.CallOut, 200: schemas.CallOut, **_errors(400, 401, 404, 409, 413, 429)},
)
def report_call(
    request,
    reported: schemas.CallReport,
    idempotency_key: str = Header(
        "",
        alias="Idempotency-Key",
        max_length=255,
        description="Makes retries safe; defaults to external_id.",
    ),
):
    found = request.auth
    # What the report reads of its workspace: national numbers, and the zone of its day.
    workspace = Workspace(
        pk=found.workspace_id, country=found.country, time_zone=found.time_zone or ""
    )
    try:
        call, created = services.call_report(
            workspace=workspace,
            data=request.json_data,  # the report as sent: its digest tells a retry
            idempotency_key=idempotency_key.strip(),
            webhooks=found.webhooks,
        )
    except ValidationError as exc:
        fields = {k: v[0] if len(v) == 1 else v for k, v in exc.message_dict.items()}
        return jsonapi.field_errors(fields)
    except services.UnknownNumber as exc:
        return jsonapi.error(str(exc), 404)
    except services.ReportConflict as exc:
        return jsonapi.error(str(exc), 409)
    return JsonResponse(call_json(call), status=201 if created else 200)


# GET /api/v1/calls/{id} ------------------------------------------------------------------------

# Like /live's number: anything else than an id is an unknown call (a JSON 404), so the path
# takes text and the document says what is served.
CallId = Annotated[str, WithJsonSchema({"type": "integer", "minimum": 1})]
CallIdPath = Path(description="The call's id.")


def _own_call(request, pk: str) -> Call | None:
    """The token's workspace's call with this id; another workspace's is unknown here."""
    valid = pk.isascii() and pk.isdigit() and len(pk) <= 18 and int(pk) > 0
    workspace_id = request.auth.workspace_id
    return Call.objects.filter(workspace_id=workspace_id, pk=int(pk)).first() if valid else None


@api.get(
    "/calls/{id}",
    url_name="call",
    operation_id="read_call",
    summary="Read a stored call",
    auth=RuntimeToken(),
    response={200: schemas.CallOut, **_errors(401, 404, 405, 429)},
)
def read_call(request, id: CallId = CallIdPath):  # noqa: A002  (the document's name)
    call = _own_call(request, id)
    if call is None:
        return jsonapi.error(UNKNOWN_CALL, 404)
    return JsonResponse(call_json(call))


api.api_operation(["HEAD"], "/calls/{id}", auth=RuntimeToken(), include_in_schema=False)(read_call)


# Another method on a call: unknown (404) unless it is the token's call, then 405.
@api.api_operation(
    ["POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE"],
    "/calls/{id}",
    auth=RuntimeToken(),
    include_in_schema=False,
)
def call_other_method(request, id: str):  # noqa: A002
    if _own_call(request, id) is None:
        return jsonapi.error(UNKNOWN_CALL, 404)
    return jsonapi.method_not_allowed(["GET", "HEAD"])
