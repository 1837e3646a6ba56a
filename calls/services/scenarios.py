"""Scenarios (test cases) of a Sona step: created, changed, deleted, and imported from a file
(they run in calls/scenarios.py)."""

from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from callflows import live
from callflows.models import CallFlow
from jobs.models import Job
from workspaces import audit
from workspaces.models import User, Workspace
from workspaces.permissions import EDIT, require_role

from .. import scenarios
from ..models import Scenario
from ..selectors import mock


def _job_names(workspace: Workspace) -> dict[str, str]:
    """The workspace's jobs not deleted, lowered name → name (an expectation names one)."""
    names = Job.objects.filter(workspace=workspace, deleted_at__isnull=True).values_list(
        "name", flat=True
    )
    return {name.lower(): name for name in names}


def _sona_keys(flow: CallFlow) -> set[str]:
    """The Sona step keys of the draft and the live version (a scenario of either is fine)."""
    keys = {s.key for s in flow.steps.filter(kind="sona")}
    if flow.live_version_id:
        keys |= {s["key"] for s in mock.sona_steps(flow.live_version.snapshot)}
    return keys


def _scenario_fields(
    workspace: Workspace, *, name, turns, expect, runs, pass_rate, job_names=None
) -> dict:
    """Every field checked; errors name their field ("name", "expect.job", …)."""
    turns = scenarios.clean_turns(turns)
    return {
        "name": scenarios.clean_name(name),
        "turns": turns,
        "expect": scenarios.clean_expect(
            expect,
            turns=len(turns),
            job_names=_job_names(workspace) if job_names is None else job_names,
            region=workspace.country,
        ),
        "runs": scenarios.clean_runs(runs),
        "pass_rate": scenarios.clean_pass_rate(pass_rate),
    }


def _name_taken(flow: CallFlow, step_key: str, name: str, exclude: int | None = None) -> bool:
    found = Scenario.objects.filter(call_flow=flow, step_key=step_key, name__iexact=name)
    return found.exclude(pk=exclude).exists() if exclude else found.exists()


def _taken_error(name: str) -> ValidationError:
    return ValidationError({"name": [f"This step already has a scenario named “{name}”."]})


def _saved(scenario: Scenario) -> None:
    """One-turn scenarios are examples of their job's intent: the live line's routing changes."""
    live.number_changed(scenario.call_flow.phone_number_id)


@audit.write_service
def scenario_create(
    *,
    call_flow: CallFlow,
    user: User,
    step_key: str,
    name: str,
    turns: list[str],
    expect: dict,
    runs: int = 1,
    pass_rate: int = 100,
) -> Scenario:
    """A scenario of the Sona step `step_key` (of the draft or the live version)."""
    workspace = call_flow.phone_number.workspace
    require_role(user, workspace, EDIT, "save scenarios")
    values = _scenario_fields(
        workspace, name=name, turns=turns, expect=expect, runs=runs, pass_rate=pass_rate
    )
    flow = CallFlow.objects.select_for_update().get(pk=call_flow.pk)
    if step_key not in _sona_keys(flow):
        raise ValidationError("That Sona step is not in this call flow.")
    if _name_taken(flow, step_key, values["name"]):
        raise _taken_error(values["name"])
    try:
        with transaction.atomic():
            scenario = Scenario.objects.create(
                call_flow=flow, step_key=step_key, created_by=user, **values
            )
    except IntegrityError:  # the same name saved at the same moment by someone else
        raise _taken_error(values["name"]) from None
    _saved(scenario)
    audit.record(
        user=user,
        workspace=workspace,
        action="scenario.created",
        obj=scenario,
        label=scenario.name,
        details={"step": step_key, "turns": len(values["turns"]), "expect": values["expect"]},
    )
    return scenario


@audit.write_service
def scenario_update(
    *,
    scenario: Scenario,
    user: User,
    name: str,
    turns: list[str],
    expect: dict,
    runs: int = 1,
    pass_rate: int = 100,
) -> Scenario:
    """Change every field of a scenario but its step."""
    call_flow = scenario.call_flow
    workspace = call_flow.phone_number.workspace
    require_role(user, workspace, EDIT, "change scenarios")
    values = _scenario_fields(
        workspace, name=name, turns=turns, expect=expect, runs=runs, pass_rate=pass_rate
    )
    CallFlow.objects.select_for_update().get(pk=call_flow.pk)
    current = Scenario.objects.filter(pk=scenario.pk).first()
    if current is None:
        raise ValidationError("That scenario was deleted.")
    if _name_taken(call_flow, current.step_key, values["name"], exclude=current.pk):
        raise _taken_error(values["name"])
    before = {f: getattr(current, f) for f in values}
    for key, value in values.items():
        setattr(current, key, value)
    current.save()
    _saved(current)
    audit.record(
        user=user,
        workspace=workspace,
        action="scenario.changed",
        obj=current,
        label=current.name,
        details={"step": current.step_key, "before": before, "after": values},
    )
    return current


@audit.write_service
def scenario_delete(*, scenario: Scenario, user: User) -> None:
    call_flow = scenario.call_flow
    workspace = call_flow.phone_number.workspace
    require_role(user, workspace, EDIT, "delete scenarios")
    deleted, _ = Scenario.objects.filter(pk=scenario.pk).delete()
    if not deleted:
        raise ValidationError("That scenario was already deleted.")
    _saved(scenario)
    audit.record(
        user=user,
        workspace=workspace,
        action="scenario.deleted",
        obj=None,
        label=scenario.name,
        details={"step": scenario.step_key, "id": scenario.pk, "turns": scenario.turns},
    )


@dataclass(frozen=True)
class ImportResult:
    step_key: str
    created: list[str]
    replaced: list[str]


@audit.write_service
def scenarios_import(*, call_flow: CallFlow, user: User, text: str) -> ImportResult:
    """A scenarios file (calls/scenarios.py, YAML): each scenario added, or replacing the one of
    the same name (case-insensitively), all or nothing. A bad file changes nothing; its error
    names the scenario and the field."""
    workspace = call_flow.phone_number.workspace
    require_role(user, workspace, EDIT, "import scenarios")
    step_key, records = scenarios.parse_file(text)
    flow = CallFlow.objects.select_for_update().get(pk=call_flow.pk)
    if not step_key:
        sona = flow.steps.filter(kind="sona").order_by("position").first()
        if sona is None:
            raise ValidationError("The file names no step and the draft has no Sona step.")
        step_key = sona.key
    elif step_key not in _sona_keys(flow):
        raise ValidationError(f"step: the call flow has no Sona step “{step_key}”.")
    names = _job_names(workspace)
    cleaned, seen = [], set()
    for index, record in enumerate(records, start=1):
        try:
            values = _scenario_fields(workspace, **record, job_names=names)
        except ValidationError as exc:
            raise scenarios.file_error(index, record.get("name"), exc) from None
        if values["name"].lower() in seen:
            raise scenarios.file_error(
                index, values["name"], _taken_error(values["name"]), "appears twice in the file"
            )
        seen.add(values["name"].lower())
        cleaned.append(values)
    existing = {
        s.name.lower(): s for s in Scenario.objects.filter(call_flow=flow, step_key=step_key)
    }
    created, replaced = [], []
    for values in cleaned:
        found = existing.get(values["name"].lower())
        if found is None:
            Scenario.objects.create(call_flow=flow, step_key=step_key, created_by=user, **values)
            created.append(values["name"])
        else:
            for key, value in values.items():
                setattr(found, key, value)
            found.save()
            replaced.append(values["name"])
    live.number_changed(flow.phone_number_id)
    audit.record(
        user=user,
        workspace=workspace,
        action="scenario.imported",
        obj=None,
        label=f"{len(cleaned)} scenario(s) imported",
        details={"step": step_key, "created": created, "replaced": replaced},
    )
    return ImportResult(step_key, created, replaced)
