"""Every saved test case becomes a one-turn scenario: turns = [what the caller said], expect =
{"job": the expected job's name, or None for no job, "actions": [the expected action]}, named
like the sentence (deduplicated within its step), by the same person at the same time. Nothing
is lost; backwards, one-turn scenarios become test cases again."""

from django.db import migrations

NAME_MAX = 100


def _name(said: str, taken: set[str]) -> str:
    base = " ".join(said.split())[:NAME_MAX] or "Test case"
    name, n = base, 1
    while name.lower() in taken:
        n += 1
        suffix = f" ({n})"
        name = base[: NAME_MAX - len(suffix)].rstrip() + suffix
    taken.add(name.lower())
    return name


def test_cases_to_scenarios(apps, schema_editor):
    StepTestCase = apps.get_model("calls", "StepTestCase")
    Scenario = apps.get_model("calls", "Scenario")
    taken: dict[tuple[int, str], set[str]] = {}
    for row in Scenario.objects.values_list("call_flow_id", "step_key", "name"):
        taken.setdefault((row[0], row[1]), set()).add(row[2].lower())
    made, times = [], []
    for case in StepTestCase.objects.order_by("pk").iterator(chunk_size=2000):
        expect = {"job": case.expected_job_name if case.expects_job else None}
        if case.expected_action:
            expect["actions"] = [case.expected_action]
        made.append(
            Scenario(
                call_flow_id=case.call_flow_id,
                step_key=case.step_key,
                name=_name(case.said, taken.setdefault((case.call_flow_id, case.step_key), set())),
                turns=[case.said],
                expect=expect,
                created_by_id=case.created_by_id,
            )
        )
        times.append(case.created_at)
    created = Scenario.objects.bulk_create(made, batch_size=1000)
    # auto_now_add stamps "now" on create: put each case's own creation time back.
    for scenario, at in zip(created, times, strict=True):
        Scenario.objects.filter(pk=scenario.pk).update(created_at=at, updated_at=at)


def scenarios_to_test_cases(apps, schema_editor):
    StepTestCase = apps.get_model("calls", "StepTestCase")
    Scenario = apps.get_model("calls", "Scenario")
    Job = apps.get_model("jobs", "Job")
    for s in Scenario.objects.select_related("call_flow__phone_number").order_by("pk"):
        if not isinstance(s.turns, list) or len(s.turns) != 1 or "job" not in s.expect:
            continue
        name = s.expect["job"]
        job = None
        if name:
            job = Job.objects.filter(
                workspace_id=s.call_flow.phone_number.workspace_id, name__iexact=name
            ).first()
        action = (s.expect.get("actions") or [""])[0] if name else ""
        StepTestCase.objects.get_or_create(
            call_flow_id=s.call_flow_id,
            step_key=s.step_key,
            said=s.turns[0][:500],
            defaults={
                "expects_job": bool(name),
                "expected_job": job,
                "expected_job_name": name or "",
                "expected_action": action,
                "created_by_id": s.created_by_id,
            },
        )


class Migration(migrations.Migration):
    dependencies = [("calls", "0006_scenario"), ("jobs", "0001_initial")]

    operations = [migrations.RunPython(test_cases_to_scenarios, scenarios_to_test_cases)]
