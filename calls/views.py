"""Test Sona: mock calls and scenarios (tests) in the browser, and the Calls pages. Every rule lives in services/selectors.

A mock call in progress is not stored: the page carries the caller's turns (and Sona's replies
already generated) in hidden fields and each "Say" routes them again with the same router the
live line uses, so nothing half-finished is left behind. "End call" stores it as a call."""

import csv

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpResponseBadRequest, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST
from django_htmx.http import HttpResponseClientRedirect

from callflows import selectors as flow_selectors
from callflows.models import Step, StepJob, StepKind
from core.errors import error_messages
from core.forms import add_service_errors, parse_id
from jobs.models import Job
from workspaces.permissions import EDIT, workspace_view

from . import scenarios, search, services
from .forms import NO_JOB, CallFilterForm, ScenarioForm
from .models import Call, Scenario
from .selectors import log, mock

PAGE_SIZE = 25


def _step(request, pk, step_id):
    phone = flow_selectors.phone_number_get(workspace=request.workspace, pk=pk)
    step = flow_selectors.step_get(call_flow=phone.call_flow, step_id=step_id, kind=StepKind.SONA)
    return phone, step


def _version(value) -> str:
    return value if value in mock.VERSIONS else mock.DRAFT


def _announce(turns) -> str:
    """What the live region reads after a turn: the decision in words."""
    if not turns:
        return ""
    turn = turns[-1]
    text = f"Turn {len(turns)}: {turn.decision_words}"
    if turn.runner_up is not None:
        text += f" Runner-up: “{turn.runner_up.name}”."
    return text


def _simulation_errors(exc: ValidationError) -> dict[str, list[str]]:
    """Errors of a simulated call by field (persona, caller_goal), others under "all"."""
    if hasattr(exc, "error_dict"):
        return dict(exc.message_dict)
    return {"all": list(exc.messages)}


@workspace_view(member_may_post=True)  # members may test: a mock call sends nothing
def test_sona(request, pk, step_id):
    """The mock call page. "Say" with htmx answers the new turn (appended to the transcript)
    with the panel, the form and the announcement out of band; "Simulate a caller" answers a
    whole page (an AI plays the caller, several turns at once); "End call" stores the call."""
    phone, step = _step(request, pk, step_id)
    data = request.POST if request.method == "POST" else request.GET
    version = _version(data.get("version"))
    said = data.get("said", "")
    earlier = data.getlist("turn")
    replies = data.getlist("reply")
    simulating = request.method == "POST" and bool(data.get("simulate"))
    simulation = {"persona": data.get("persona", ""), "caller_goal": data.get("caller_goal", "")}
    error, turns, goal, notice, simulation_errors = "", [], None, "", {}
    try:
        goal = mock.target(call_flow=phone.call_flow, version=version, step_key=step.key)
        if request.method == "POST" and data.get("end"):
            call = services.mock_call_end(
                call_flow=phone.call_flow,
                user=request.user,
                turns=earlier + ([said] if said.strip() else []),
                version=version,
                step_key=step.key,
                replies=replies,
            )
            url = reverse("calls:test_sona", args=[phone.pk, step.pk])
            url = f"{url}?version={version}&call={call.pk}"
            return HttpResponseClientRedirect(url) if request.htmx else redirect(url)
        if simulating:
            try:
                simulated = mock.simulated_call(goal, **simulation)
            except ValidationError as exc:
                simulation_errors = _simulation_errors(exc)
            else:
                turns, notice = simulated.turns, simulated.notice
                if simulated.ended_by_caller:
                    notice = "The AI caller ended the call. " + notice
        elif request.method == "POST":
            said_now = services.clean_turns(earlier + [said])
            turns = mock.mock_turns(goal, said_now, replies=replies[: len(earlier)])
            said = ""
    except ValidationError as exc:
        error = " ".join(error_messages(exc))
        if goal is not None and earlier:
            try:  # keep the conversation so far on the page
                turns = mock.mock_turns(goal, services.clean_turns(earlier), replies=replies)
            except ValidationError:
                turns = []
    ended = None
    if call_id := parse_id(data.get("call")):
        ended = Call.objects.filter(workspace=request.workspace, pk=call_id).first()
    context = {
        "phone": phone,
        "step": step,
        "version": version,
        "goal": goal,
        "turns": turns,
        "said": said,
        "error": error,
        "announce": error or " ".join(filter(None, [_announce(turns), notice.strip()])),
        "ended": ended,
        "can_edit": request.membership.can_edit,
        "can_simulate": mock.can_simulate(),
        "needs_llm": mock.NEEDS_LLM,
        "simulation": simulation,
        "simulation_errors": simulation_errors,
        "simulation_notice": notice.strip(),
        "limits": {"persona": mock.PERSONA_MAX, "caller_goal": mock.CALLER_GOAL_MAX},
    }
    if request.htmx and request.method == "POST" and not simulating and goal is not None:
        # One more turn: the new bubbles go at the end of the transcript; the rest out of band.
        response = render(request, "calls/_turn_added.html", context)
        if error:
            response["HX-Reswap"] = "none"  # nothing to add: the form shows the error
        return response
    return render(request, "calls/test_sona.html", context)


@require_POST
@workspace_view(EDIT)
def test_case_save(request, pk, step_id):
    """ "Save as test case" on a mock call's turn: the call so far (every caller turn up to this
    one) becomes a scenario expecting this turn's decision: its job, no job, or the question
    (the owner may pick one of a question's two jobs instead). The same turns saved again
    replace that scenario's expectation."""
    phone, step = _step(request, pk, step_id)
    turns = [*request.POST.getlist("turn"), request.POST.get("said", "")]
    expect: dict = {}
    if job_id := request.POST.get("job"):
        job = get_object_or_404(Job, workspace=request.workspace, pk=parse_id(job_id))
        expect["job"] = job.name
    elif request.POST.get("decision") == "clarify":
        expect["clarify"] = True
    else:
        expect["job"] = None
        if len(turns) > 1:  # no job on this turn, whatever an earlier turn chose
            expect["at_turn"] = len(turns)
    if action := request.POST.get("action", ""):
        expect["actions"] = [action]
    existing = scenarios.step_scenarios(call_flow=phone.call_flow, step_key=step.key)
    same = next((s for s in existing if s.turns == [" ".join(t.split()) for t in turns]), None)
    try:
        if same is not None:
            saved = services.scenario_update(
                scenario=same, user=request.user, name=same.name, turns=turns, expect=expect,
                runs=same.runs, pass_rate=same.pass_rate,
            )  # fmt: skip
        else:
            taken = {s.name.lower() for s in existing}
            saved = services.scenario_create(
                call_flow=phone.call_flow,
                user=request.user,
                step_key=step.key,
                name=scenarios.name_from(turns[-1], taken),
                turns=turns,
                expect=expect,
            )
    except ValidationError as exc:
        message, saved = " ".join(error_messages(exc)), None
    else:
        words = "; ".join(scenarios.expect_words(saved.expect))
        message = f"Saved as test case “{saved.name}”: {words}."
    if request.htmx:
        context = {"message": message, "saved": saved, "phone": phone, "step": step}
        return render(request, "calls/_saved.html", context)
    (messages.success if saved else messages.error)(request, message)
    return redirect("calls:tests", pk=phone.pk, step_id=step.pk)


@workspace_view()
def tests(request, pk, step_id):
    """The step's scenarios, a one-turn one with a warning when it pulls callers toward another
    job (a likely wrong label), and the step's Routing health; "Run" runs them against the
    draft and the live version side by side (and keeps each one's last result)."""
    phone, step = _step(request, pk, step_id)
    run = request.GET.get("run") == "1"
    draft = mock.target(call_flow=phone.call_flow, version=mock.DRAFT, step_key=step.key)
    health = mock.routing_health(draft)
    if run:
        rows = scenarios.run_side_by_side(
            call_flow=phone.call_flow, step_key=step.key, draft_goal=draft
        )
        scenarios.remember(rows)
        found = [row.scenario for row in rows]
    else:
        rows = found = scenarios.step_scenarios(call_flow=phone.call_flow, step_key=step.key)
    for scenario in found:
        scenario.pulled_toward = health.pulled(scenario)
        scenario.expect_words = scenarios.expect_words(scenario.expect or {})
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "phone": phone,
        "step": step,
        "run": run,
        "page": page,
        "health": health,
        "failed": run and sum(1 for r in rows if not r.draft.passed),
        "differ": run and sum(1 for r in rows if r.differs),
        "total": len(rows),
        "has_live": phone.call_flow.live_version_id is not None,
        "can_edit": request.membership.can_edit,
    }
    return render(request, "calls/tests.html", context)


def _job_choices(phone, step, also: str | None = None) -> list[str]:
    """The names of the jobs attached to the draft step, and the one a scenario names."""
    names = list(
        StepJob.objects.filter(step=step, job__deleted_at__isnull=True)
        .order_by("position")
        .values_list("job__name", flat=True)
    )
    if also and also not in names:
        names.append(also)
    return names


@workspace_view(EDIT)
def scenario_new(request, pk, step_id):
    """Add a scenario; `?call=<id>` fills it from a call: the caller's turns of its transcript
    and the job that handled it (the owner then sets the expectations)."""
    phone, step = _step(request, pk, step_id)
    initial, from_call = {}, None
    if call_id := parse_id(request.GET.get("call")):
        from_call = get_object_or_404(Call, workspace=request.workspace, pk=call_id)
        turns = scenarios.caller_turns(from_call.transcript)
        taken = {s.name.lower() for s in scenarios.step_scenarios(
            call_flow=phone.call_flow, step_key=step.key)}  # fmt: skip
        initial = {
            "name": scenarios.name_from(f"Call from {from_call.caller}", taken)
            if not turns
            else scenarios.name_from(turns[0], taken),
            "turns": "\n".join(turns),
            "job": from_call.job_name or NO_JOB,
        }
    named = initial.get("job") if initial.get("job") != NO_JOB else None
    form = ScenarioForm(
        request.POST or None, job_names=_job_choices(phone, step, named), initial=initial
    )
    if request.method == "POST" and form.is_valid():
        try:
            scenario = services.scenario_create(
                call_flow=phone.call_flow, user=request.user, step_key=step.key,
                **form.service_kwargs(),
            )  # fmt: skip
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, f"Saved the scenario “{scenario.name}”.")
            return redirect("calls:tests", pk=phone.pk, step_id=step.pk)
    context = {"phone": phone, "step": step, "form": form, "from_call": from_call}
    return render(request, "calls/scenario_form.html", context)


@workspace_view(EDIT)
def scenario_edit(request, pk, step_id, scenario_id):
    phone, step = _step(request, pk, step_id)
    scenario = get_object_or_404(
        Scenario, call_flow=phone.call_flow, step_key=step.key, pk=scenario_id
    )
    named = (scenario.expect or {}).get("job")
    form = ScenarioForm(
        request.POST or None,
        job_names=_job_choices(phone, step, named),
        initial=ScenarioForm.initial_for(scenario),
    )
    if request.method == "POST" and form.is_valid():
        try:
            scenario = services.scenario_update(
                scenario=scenario, user=request.user, **form.service_kwargs()
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, f"Saved the scenario “{scenario.name}”.")
            return redirect("calls:tests", pk=phone.pk, step_id=step.pk)
    context = {"phone": phone, "step": step, "form": form, "scenario": scenario}
    return render(request, "calls/scenario_form.html", context)


@require_POST
@workspace_view(EDIT)
def scenario_delete(request, pk, step_id, scenario_id):
    phone, step = _step(request, pk, step_id)
    scenario = get_object_or_404(
        Scenario, call_flow=phone.call_flow, step_key=step.key, pk=scenario_id
    )
    try:
        services.scenario_delete(scenario=scenario, user=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(error_messages(exc)))
    else:
        messages.success(request, f"Deleted the scenario “{scenario.name}”.")
    return redirect("calls:tests", pk=phone.pk, step_id=step.pk)


@workspace_view()
def job_test(request, job_id):
    """Test Sona from a job's page: the draft Sona steps the job is attached to."""
    job = get_object_or_404(Job, workspace=request.workspace, pk=job_id, deleted_at__isnull=True)
    links = list(
        StepJob.objects.filter(
            job=job,
            step__call_flow__phone_number__workspace=request.workspace,
            step__call_flow__phone_number__deleted_at__isnull=True,
        )
        .select_related("step__call_flow__phone_number")
        .order_by("step__call_flow__phone_number__display_name", "step__position")[:PAGE_SIZE]
    )
    if len(links) == 1:
        step = links[0].step
        return redirect("calls:test_sona", pk=step.call_flow.phone_number.pk, step_id=step.pk)
    return render(request, "calls/job_test.html", {"job": job, "links": links})


# Calls pages ---------------------------------------------------------------------------------


def _filter_form(request):
    form = CallFilterForm(request.GET or None, workspace=request.workspace)
    if form.is_bound and not form.is_valid():
        return form, None
    filters = form.filters() if form.is_bound else log.CallFilters()
    if filters.search:
        search.catch_up()
    return form, log.calls_filtered(workspace=request.workspace, filters=filters)


@workspace_view()
def job_options(request):
    """The Calls list's Job select for the text typed in "Find a job" (htmx swaps it in): the
    chosen job and at most 20 live jobs whose name matches, whatever the number of jobs. Opened
    as a page (no htmx): the Calls list with the same search."""
    if not request.htmx:
        query = request.GET.urlencode()
        return redirect(f"{reverse('calls:list')}?{query}" if query else reverse("calls:list"))
    form = CallFilterForm(request.GET, workspace=request.workspace)
    return render(request, "calls/_job_select.html", {"field": form["job"]})


def _cursor_given(request) -> bool:
    return bool(request.GET.get("after") or request.GET.get("before"))


def _query_without_cursor(request) -> str:
    query = request.GET.copy()
    for name in ("after", "before"):
        query.pop(name, None)
    return query.urlencode()


@workspace_view()
def call_list(request):
    """Calls, newest first, filtered; keyset pages ("Newer" / "Older" carry a signed cursor)."""
    form, calls = _filter_form(request)
    page, notice = None, ""
    if calls is not None:
        try:
            page = log.call_page(
                calls, after=request.GET.get("after", ""), before=request.GET.get("before", "")
            )
        except log.BadCursor as exc:  # a stale or edited link: the newest calls instead
            notice = f"{exc} Showing the newest calls."
            page = log.call_page(calls)
    query = _query_without_cursor(request)
    # "N new calls": on the newest page of the unfiltered list only (a filtered page would count
    # calls it does not show); its cursor is the page's first row (no extra query).
    poll_since = None
    if page is not None and not form.active and not notice and not _cursor_given(request):
        poll_since = log.cursor_encode(page.calls[0]) if page.calls else ""
    context = {
        "form": form,
        "page": page,
        "poll_since": poll_since,
        "poll_seconds": settings.NEW_CALLS_POLL_SECONDS,
        "notice": notice,
        "query": query,
        # the export form repeats the filters as hidden fields (a button, not a link)
        "export_params": [
            (name, value)
            for name, values in request.GET.lists()
            if name in form.fields
            for value in values
        ],
    }
    return render(request, "calls/call_list.html", context)


@workspace_view()
def new_calls(request):
    """The "N new calls" notice the Calls page and the home page poll for (static/js/poll.js):
    real calls newer than `since`, the cursor of the newest call the page showed. Empty when
    there are none; a cursor not made by the page is a 400 with the reason. Opened as a page
    (no htmx): the Calls list, where the new calls are."""
    if not request.htmx:
        return redirect("calls:list")
    try:
        count = log.new_calls_count(workspace=request.workspace, since=request.GET.get("since", ""))
    except log.BadCursor as exc:
        return HttpResponseBadRequest(str(exc), content_type="text/plain; charset=utf-8")
    context = {"count": count, "cap": log.NEW_CALLS_CAP}
    return render(request, "calls/_new_calls.html", context)


@workspace_view()
def call_detail(request, pk):
    call = log.call_get(workspace=request.workspace, pk=pk)
    recording = call.recording_url if call.recording_url.startswith(("https://", "http://")) else ""
    context = {"call": call, "recording": recording, "scenario_step": None}
    if request.membership.can_edit and call.phone_number_id:
        # "Save as scenario": the draft's Sona step that took the call, else its first one
        steps = Step.objects.filter(
            call_flow__phone_number_id=call.phone_number_id,
            call_flow__phone_number__deleted_at__isnull=True,  # its pages are out of reach
            kind=StepKind.SONA,
        )
        context["scenario_step"] = (
            steps.filter(key=call.step_key).first() if call.step_key else None
        ) or steps.order_by("position").first()
    return render(request, "calls/call_detail.html", context)


class _Echo:
    def write(self, value):
        return value


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_safe(value: str) -> str:
    """A cell a spreadsheet shows as text, never runs as a formula (CSV injection)."""
    return f"'{value}" if value.startswith(FORMULA_STARTS) else value


@workspace_view()
def call_export(request):
    """The filtered list as CSV, streamed: rows are read in chunks, never all in memory."""
    form, calls = _filter_form(request)
    if calls is None:
        problems = "; ".join(
            f"{form[name].label}: {' '.join(errs)}" for name, errs in form.errors.items()
        )
        return render(
            request, "400.html", {"message": f"Correct the filters: {problems}"}, status=400
        )
    writer = csv.writer(_Echo())
    header = [label for _, label in log.EXPORT_COLUMNS]

    def rows():
        yield writer.writerow(header)
        for row in log.calls_export_rows(calls):
            yield writer.writerow([csv_safe(cell) for cell in row])

    stamp = timezone.now().astimezone(log.workspace_tz(request.workspace))
    response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="calls-{stamp:%Y%m%d-%H%M}.csv"'
    return response
