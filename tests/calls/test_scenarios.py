"""Scenarios: the services, running (expectations, the turn where it went wrong, LLM runs), the
Tests tab and forms, saving a call as a scenario, YAML files and the commands, the migration
of test cases."""

import json
import xml.etree.ElementTree as ET  # noqa: S405 (parses the file the test itself wrote)

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command

from callflows import services as cf
from callflows.models import CallFlowVersion
from calls import scenarios, services
from calls.models import Call, Scenario
from calls.selectors import mock
from tests.factories import ScenarioFactory
from tests.fake_llm import serving
from workspaces.models import AuditEvent
from workspaces.permissions import RoleRequired

from .conftest import SAYS

pytestmark = pytest.mark.django_db


def _create(line, user=None, **kwargs):
    args = {
        "step_key": line.sona.key,
        "name": "Booking",
        "turns": [SAYS["booking"]],
        "expect": {"job": "Book a table"},
    }
    return services.scenario_create(
        call_flow=line.flow, user=user or line.owner, **{**args, **kwargs}
    )


def _run(line_or_clinic, turns, expect, **fields):
    scenario = ScenarioFactory.build(
        call_flow=line_or_clinic.flow,
        step_key=line_or_clinic.sona.key,
        turns=turns,
        expect=expect,
        **fields,
    )
    goal = mock.target(call_flow=line_or_clinic.flow)
    return scenarios.run_scenario(goal, scenario)


def _rows():
    return list(Scenario.objects.values()), list(AuditEvent.objects.values_list("action"))


# Services ---------------------------------------------------------------------------------


def test_create_records_it_and_bumps_the_generation(line):
    line.phone.refresh_from_db()
    before = line.phone.live_generation
    scenario = _create(
        line,
        name="  Booking   goes right ",
        turns=["  hi ", "I want to book a table for two"],
        expect={"job": "book A TABLE", "actions": [{"transfer_call": "+1 555 555 0124"}]},
    )
    assert (scenario.name, scenario.turns) == ("Booking goes right", ["hi", SAYS["booking"]])
    assert scenario.expect == {
        "job": "Book a table",  # as the job spells it
        "actions": ["transfer_call"],
        "transfer_to": "+15555550124",
    }
    assert (scenario.runs, scenario.pass_rate, scenario.created_by) == (1, 100, line.owner)
    line.phone.refresh_from_db()
    assert line.phone.live_generation == before + 1
    event = AuditEvent.objects.get(action="scenario.created")
    assert (event.object_type, event.object_label, event.details["turns"]) == (
        "scenario",
        "Booking goes right",
        2,
    )


@pytest.mark.parametrize(
    ("kwargs", "field", "message"),
    [
        ({"name": " "}, "name", "Give the scenario a name."),
        ({"name": "x" * 101}, "name", "at most 100 characters"),
        ({"name": "BOOKING"}, "name", "This step already has a scenario named “BOOKING”."),
        ({"turns": []}, "turns", "A scenario needs at least one turn."),
        ({"turns": ["a"] * 13}, "turns", "at most 12 turns"),
        ({"turns": ["hi", "  "]}, "turns", "Turn 2 is empty"),
        ({"turns": ["x" * 501]}, "turns", "Turn 1 can be at most 500 characters"),
        ({"turns": "hi"}, "turns", "Turns must be a list"),
        ({"expect": {"job": "Pizza"}}, "expect.job", "There is no job named “Pizza”"),
        ({"expect": {"jobs": None}}, "expect.jobs", "“jobs” is not an expectation"),
        ({"expect": {"job": None, "at_turn": 2}}, "expect.at_turn", "1 to 1"),
        ({"expect": {"at_turn": 1}}, "expect.at_turn", "name the job"),
        ({"expect": {"actions": ["fax"]}}, "expect.actions", "“fax” is not an action"),
        ({"expect": {"never": "send_sms"}}, "expect.never", "must be a list"),
        (
            {"expect": {"actions": ["send_sms"], "never": ["send_sms"]}},
            "expect.never",
            "both performed and never performed",
        ),
        ({"expect": {"transfer_to": "+15555550124"}}, "expect.transfer_to", "needs transfer_call"),
        ({"expect": {"clarify": "yes"}}, "expect.clarify", "true or false"),
        ({"runs": 0}, "runs", "from 1 to 20"),
        ({"pass_rate": 101}, "pass_rate", "from 0 to 100"),
        ({"step_key": "nope"}, None, "That Sona step is not in this call flow."),
    ],
)
def test_create_refusals_name_the_field_and_change_nothing(line, kwargs, field, message):
    _create(line)
    before = _rows()
    with pytest.raises(ValidationError) as exc:
        _create(line, **kwargs)
    if field:
        assert field in exc.value.message_dict, exc.value
        assert message in " ".join(exc.value.message_dict[field])
    else:
        assert message in " ".join(exc.value.messages)
    assert _rows() == before


def test_update_and_delete_record_their_events(line, admin_user):
    scenario = _create(line)
    changed = services.scenario_update(
        scenario=scenario,
        user=admin_user,
        name="Booking, two turns",
        turns=["hello", SAYS["booking"]],
        expect={"job": "Book a table", "never": ["transfer_call"]},
        runs=3,
        pass_rate=60,
    )
    assert (changed.name, changed.runs, changed.pass_rate) == ("Booking, two turns", 3, 60)
    event = AuditEvent.objects.get(action="scenario.changed")
    assert event.details["before"]["name"] == "Booking"
    assert event.details["after"]["expect"]["never"] == ["transfer_call"]
    services.scenario_delete(scenario=changed, user=admin_user)
    assert not Scenario.objects.exists()
    assert AuditEvent.objects.get(action="scenario.deleted").object_label == "Booking, two turns"
    with pytest.raises(ValidationError, match="already deleted"):
        services.scenario_delete(scenario=changed, user=admin_user)


def test_a_member_is_refused_and_nothing_changes(line, member):
    scenario = _create(line)
    before = list(Scenario.objects.values())
    with pytest.raises(RoleRequired, match="can save scenarios"):
        _create(line, user=member, name="Other")
    with pytest.raises(RoleRequired, match="can change scenarios"):
        services.scenario_update(scenario=scenario, user=member, name="x", turns=["x"], expect={})
    with pytest.raises(RoleRequired, match="can delete scenarios"):
        services.scenario_delete(scenario=scenario, user=member)
    assert list(Scenario.objects.values()) == before
    assert AuditEvent.objects.filter(action="write.refused", actor=member).count() == 3


def test_a_one_turn_scenario_naming_a_job_is_an_example_of_it(line):
    _create(line, name="Cold steak", turns=["my steak was cold"], expect={"job": "Complaint"})
    _create(line, name="Two turns", turns=["hi", "pizza"], expect={"job": "Complaint"})
    goal = mock.target(call_flow=line.flow)
    examples = {c.name: c.examples for c in goal.candidates}
    assert examples["Complaint"] == ("my steak was cold",)
    assert examples["Book a table"] == ()


def test_a_renamed_job_is_renamed_in_the_scenarios_that_expect_it(line):
    from jobs.services import job_update

    kept = _create(
        line, name="Cold steak", turns=["my steak was cold"], expect={"job": "complaint"}
    )
    other = _create(line, name="Hours", turns=[SAYS["hours"]], expect={"job": "Opening hours"})
    job_update(job=line.manager, user=line.owner, data={"name": "Unhappy caller"})
    kept.refresh_from_db()
    other.refresh_from_db()
    assert kept.expect == {"job": "Unhappy caller"}
    assert other.expect == {"job": "Opening hours"}
    goal = mock.target(call_flow=line.flow)
    assert {c.name: c.examples for c in goal.candidates}["Unhappy caller"] == ("my steak was cold",)
    # Saving the job unchanged touches no scenario.
    job_update(job=line.manager, user=line.owner, data={"description": "Angry callers."})
    kept.refresh_from_db()
    assert kept.expect == {"job": "Unhappy caller"}


# Running ----------------------------------------------------------------------------------


def test_a_scenario_passes(line):
    result = _run(line, [SAYS["hours"]], {"job": "Opening hours", "actions": ["send_sms"]})
    assert (result.passed, result.failed_turn, result.problem) == (True, None, "")
    assert result.handled_by == "Opening hours" and len(result.turns) == 1


def test_a_never_action_fails_at_the_turn_that_performs_it(line):
    turns = [SAYS["hours"], SAYS["manager"]]
    routed = mock.mock_turns(mock.target(call_flow=line.flow), turns)
    assert [t.job.name for t in routed] == ["Opening hours", "Complaint"]
    result = _run(line, turns, {"never": ["transfer_call"]})
    assert (result.passed, result.failed_turn) == (False, 2)
    assert result.problem == (
        "Turn 2: expected no transfer_call; Sona would transfer call to Front desk (+15555550124)."
    )


def test_expected_actions_and_transfer_targets(line):
    missing = _run(line, [SAYS["booking"]], {"actions": ["send_sms"]})
    assert missing.problem == (
        "Turn 1: expected send_sms; Sona would not perform it (on “Book a table”)."
    )
    to_desk = {"actions": ["transfer_call"], "transfer_to": "+15555550124"}
    assert _run(line, [SAYS["manager"]], to_desk).passed
    elsewhere = _run(line, [SAYS["manager"]], {**to_desk, "transfer_to": "+15555550199"})
    assert elsewhere.problem == (
        "Turn 1: expected a transfer to +15555550199; Sona would transfer call to Front desk "
        "(+15555550124)."
    )


def test_the_job_by_the_end_names_the_turn_it_went_wrong(line):
    result = _run(line, [SAYS["hours"], "and the next day?"], {"job": "Book a table"})
    routed = result.turns
    assert routed[0].job.name == "Opening hours" and not result.passed
    assert result.failed_turn == 1
    assert result.problem.startswith("Turn 1: expected “Book a table” by the end; Sona picked")
    none = _run(line, [SAYS["off_topic"]], {"job": None})
    assert none.passed, none.problem
    wrong = _run(line, [SAYS["booking"]], {"job": None})
    assert wrong.problem == "Turn 1: expected no job by the end; Sona picked “Book a table”."


def test_clarify_and_at_turn(clinic, fake_router):
    turns = ["I want an appointment", "I want to change it"]
    both = {"job": "Reschedule or cancel", "clarify": True}
    assert _run(clinic, turns, both).passed
    assert _run(clinic, turns, {"job": "Reschedule or cancel", "at_turn": 2}).passed
    at_one = _run(clinic, turns, {"job": None, "at_turn": 1})
    assert at_one.problem == f"Turn 1: expected no job; Sona asked “{fake_router.QUESTION}”."
    never = _run(clinic, turns, {"clarify": False})
    assert never.failed_turn == 1 and "expected no clarifying question" in never.problem
    asked = _run(clinic, ["Take a message please"], {"clarify": True})
    assert asked.problem == "Turn 1: expected a clarifying question; Sona never asked which job."
    # the question offered the right job: what went wrong is the caller's answer, turn 2
    book = _run(clinic, turns, {"job": "Book an appointment"})
    assert (book.failed_turn, book.problem) == (
        2,
        "Turn 2: expected “Book an appointment” by the end; Sona picked “Reschedule or cancel”.",
    )
    assert _run(clinic, ["pizza"], {"job": None}).passed


def test_the_llm_router_runs_a_scenario_runs_times_and_passes_at_pass_rate(clinic, settings):
    def job(pk):
        return json.dumps({"decision": "job", "job_id": pk, "confidence": "Sure"})

    right, wrong = job(clinic.change.pk), job(clinic.book.pk)
    with serving(right) as server:
        settings.ROUTER_BACKEND = "llm"
        settings.LLM_BASE_URL = server.base_url
        settings.LLM_API_KEY = "test-key"
        settings.LLM_MODEL = "test-model"
        expect = {"job": "Reschedule or cancel"}
        server.answers = [right, wrong, right, right]
        four = _run(clinic, ["I need to move my visit"], expect, runs=4, pass_rate=75)
        assert (four.passed, four.runs, four.passes, len(server.requests)) == (True, 4, 3, 4)
        server.answers = [right, wrong, wrong, right]
        failing = _run(clinic, ["I need to move my visit"], expect, runs=4, pass_rate=75)
        assert (failing.passed, failing.passes, failing.failed_turn) == (False, 2, 1)
        assert failing.problem.startswith("Passed 2 of 4 runs (needs 75%). Turn 1: expected")
    settings.ROUTER_BACKEND = "builtin"
    once = _run(clinic, ["I need to move my visit"], {}, runs=4, pass_rate=75)
    assert once.runs == 1  # the built-in router is deterministic: one run says it all


# Pages ------------------------------------------------------------------------------------


def _url(line, rest=""):
    return f"/numbers/{line.phone.pk}/steps/{line.sona.pk}/tests/{rest}"


def test_the_tests_tab_lists_runs_and_shows_the_turn(owner_client, published):
    line = published
    _create(line, name="Hours, then a manager", turns=[SAYS["hours"], SAYS["manager"]],
            expect={"never": ["transfer_call"]})  # fmt: skip
    listed = owner_client.get(_url(line)).content.decode()
    assert "Hours, then a manager" in listed and "Never Transfer call" in listed
    assert "Not run yet" in listed and "Add scenario" in listed
    run = owner_client.get(_url(line) + "?run=1").content.decode()
    assert "Turn 2: expected no transfer_call; Sona would transfer call to Front desk" in run
    assert "went wrong here" in run
    again = owner_client.get(_url(line)).content.decode()
    assert "Not run yet" not in again and "Fail" in again  # the last result is kept


def test_a_member_reads_but_gets_no_forms(member_client, line):
    scenario = _create(line)
    page = member_client.get(_url(line)).content.decode()
    assert "Booking" in page and "Add scenario" not in page and ">Edit<" not in page
    assert member_client.get(_url(line, "new/")).status_code == 403
    assert member_client.post(_url(line, f"{scenario.pk}/delete/")).status_code == 403
    assert Scenario.objects.count() == 1


def test_add_and_edit_through_the_form(owner_client, line):
    data = {
        "name": "Manager",
        "turns": "hello\nI want to speak to a manager",
        "job": "Complaint",
        "actions": ["transfer_call"],
        "transfer_to": "+15555550124",
        "never": ["send_sms"],
        "clarify": "no",
        "runs": "1",
        "pass_rate": "100",
    }
    response = owner_client.post(_url(line, "new/"), data)
    assert response.status_code == 302
    scenario = Scenario.objects.get()
    assert scenario.turns == ["hello", "I want to speak to a manager"]
    assert scenario.expect == {
        "job": "Complaint",
        "actions": ["transfer_call"],
        "transfer_to": "+15555550124",
        "never": ["send_sms"],
        "clarify": False,
    }
    bad = owner_client.post(_url(line, f"{scenario.pk}/"), {**data, "never": ["transfer_call"]})
    assert "cannot be both performed and never performed" in bad.content.decode()
    ok = owner_client.post(_url(line, f"{scenario.pk}/"), {**data, "job": "__none__"})
    assert ok.status_code == 302
    scenario.refresh_from_db()
    assert scenario.expect["job"] is None


def test_save_as_test_case_saves_the_call_so_far(owner_client, line):
    post = {"turn": [SAYS["hours"]], "said": SAYS["booking"], "decision": "job",
            "job": line.booking.pk}  # fmt: skip
    owner_client.post(f"/numbers/{line.phone.pk}/steps/{line.sona.pk}/tests/save/", post)
    scenario = Scenario.objects.get()
    assert scenario.turns == [SAYS["hours"], SAYS["booking"]]
    assert (scenario.name, scenario.expect) == (SAYS["booking"], {"job": "Book a table"})
    post = {"turn": [SAYS["hours"]], "said": SAYS["off_topic"], "decision": "none"}
    owner_client.post(f"/numbers/{line.phone.pk}/steps/{line.sona.pk}/tests/save/", post)
    assert Scenario.objects.last().expect == {"job": None, "at_turn": 2}


def test_members_see_no_save_as_scenario(member_client, line):
    call = services.mock_call_end(call_flow=line.flow, user=line.owner, turns=[SAYS["hours"]])
    assert "Save as scenario" not in member_client.get(f"/calls/{call.pk}/").content.decode()


def test_a_call_becomes_a_scenario(owner_client, line):
    call = services.mock_call_end(
        call_flow=line.flow, user=line.owner, turns=[SAYS["hours"], "thanks, and tomorrow?"]
    )
    page = owner_client.get(f"/calls/{call.pk}/").content.decode()
    new = _url(line, f"new/?call={call.pk}")
    assert "Save as scenario" in page
    assert f'href="{new}"' in page
    form = owner_client.get(new).content.decode()
    assert SAYS["hours"] in form and "thanks, and tomorrow?" in form
    assert 'value="Opening hours" selected' in form
    response = owner_client.post(
        new,
        {
            "name": "Hours call",
            "turns": f"{SAYS['hours']}\nthanks, and tomorrow?",
            "job": call.job_name,
            "actions": ["send_sms"],
            "runs": "1",
            "pass_rate": "100",
        },
    )
    assert response.status_code == 302
    scenario = Scenario.objects.get()
    assert scenario.expect == {"job": "Opening hours", "actions": ["send_sms"]}
    assert scenarios.run_scenario(mock.target(call_flow=line.flow), scenario).passed


def test_caller_turns_of_a_reported_transcript():
    transcript = "Caller: hi there\nSona [Job, Sure]: hello\ncustomer: move my visit\nAgent: ok"
    assert scenarios.caller_turns(transcript) == ["hi there", "move my visit"]


@pytest.mark.parametrize("size", [2, 30])
def test_the_tests_tab_queries_do_not_grow(
    owner_client, published, size, django_assert_max_num_queries
):
    line = published
    Scenario.objects.bulk_create(
        Scenario(call_flow=line.flow, step_key=line.sona.key, name=f"S{i}",
                 turns=[SAYS["hours"], SAYS["manager"]][: 1 + i % 2],
                 expect={"never": ["transfer_call"]})
        for i in range(size)
    )  # fmt: skip
    with django_assert_max_num_queries(20):
        assert owner_client.get(_url(line) + "?run=1").status_code == 200
    with django_assert_max_num_queries(12):
        assert owner_client.get(_url(line)).status_code == 200


# The publish gate -------------------------------------------------------------------------


def test_a_failing_scenario_blocks_publish_unless_overridden(line):
    _create(line, name="No transfer", turns=[SAYS["hours"], SAYS["manager"]],
            expect={"never": ["transfer_call"]})  # fmt: skip
    with pytest.raises(ValidationError) as exc:
        cf.callflow_publish(call_flow=line.flow, user=line.owner)
    assert exc.value.messages[1] == (
        "Scenario “No transfer” on “Sona”: Turn 2: expected no transfer_call; Sona would "
        "transfer call to Front desk (+15555550124)."
    )
    assert CallFlowVersion.objects.count() == 0
    version = cf.callflow_publish(call_flow=line.flow, user=line.owner, override_reason="Known")
    assert (version.number, version.override_reason) == (1, "Known")


# Files and commands -----------------------------------------------------------------------

FILE = """\
step: ""            # the first Sona step
scenarios:
  - name: Hours by text
    turns: ["When are you open", "and tomorrow?"]
    expect:
      job: Opening hours
      actions: [send_sms]
      never: [transfer_call]
  - name: A wrong number gets no job
    turns: ["what's the weather on Mars"]
    expect: {job: null}
"""


def _file(tmp_path, text=FILE, name="scenarios.yaml"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_import_adds_then_replaces_by_name_and_export_round_trips(line, tmp_path, capsys):
    argv = ["--number", line.phone.number, "--user", line.owner.email]
    call_command("import_scenarios", _file(tmp_path), *argv)
    assert "2 added, 0 replaced" in capsys.readouterr().out
    assert [s.name for s in Scenario.objects.order_by("pk")] == [
        "Hours by text",
        "A wrong number gets no job",
    ]
    changed = FILE.replace("Hours by text", "HOURS BY TEXT").replace("and tomorrow?", "ok")
    call_command("import_scenarios", _file(tmp_path, changed), *argv)
    assert "0 added, 2 replaced" in capsys.readouterr().out
    hours = Scenario.objects.get(name__iexact="hours by text")
    assert (hours.name, hours.turns) == ("HOURS BY TEXT", ["When are you open", "ok"])
    event = AuditEvent.objects.filter(action="scenario.imported").order_by("pk").last()
    assert event.details["replaced"] == ["HOURS BY TEXT", "A wrong number gets no job"]
    out = tmp_path / "out.yaml"
    call_command("export_scenarios", *argv, "--output", str(out))
    before = list(Scenario.objects.order_by("pk").values("name", "turns", "expect"))
    call_command("import_scenarios", str(out), *argv)
    assert list(Scenario.objects.order_by("pk").values("name", "turns", "expect")) == before
    capsys.readouterr()
    call_command("export_scenarios", *argv)
    assert capsys.readouterr().out == out.read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (FILE.replace("job: Opening hours", "job: Pizza"),
         "Scenario 1 (“Hours by text”), expect.job: There is no job named “Pizza”"),
        (FILE.replace("[send_sms]", "[fax]"),
         "Scenario 1 (“Hours by text”), expect.actions: “fax” is not an action"),
        (FILE.replace('["what\'s the weather on Mars"]', "[]"),
         "Scenario 2 (“A wrong number gets no job”), turns: A scenario needs at least one turn"),
        (FILE.replace("A wrong number gets no job", "hours by text"),
         "Scenario 2 (“hours by text”), name: appears twice in the file"),
        (FILE.replace("    expect: {job: null}", "    expects: {job: null}"),
         "Scenario 2 (“A wrong number gets no job”), expects: not a field of a scenario"),
        ('step: "nope"\n' + FILE.split("\n", 1)[1], "step: the call flow has no Sona step “nope”"),
        ("scenarios: [\n", "The file is not valid YAML"),
    ],
)  # fmt: skip
def test_a_bad_file_changes_nothing_and_names_the_scenario_and_field(line, tmp_path, text, message):
    ScenarioFactory(call_flow=line.flow, name="Hours by text", turns=["old"])
    before = _rows()
    with pytest.raises(CommandError) as exc:
        call_command("import_scenarios", _file(tmp_path, text), "--number", line.phone.number,
                     "--user", line.owner.email)  # fmt: skip
    assert exc.value.returncode == 2
    assert message in str(exc.value) and str(exc.value).startswith("Nothing was imported")
    assert _rows() == before


def test_a_member_may_not_import(line, member, tmp_path):
    with pytest.raises(CommandError, match="can import scenarios") as exc:
        call_command("import_scenarios", _file(tmp_path), "--number", line.phone.number,
                     "--user", member.email)  # fmt: skip
    assert exc.value.returncode == 2 and not Scenario.objects.exists()


def test_run_scenarios_exit_codes_json_and_junit(published, member, tmp_path, capsys):
    line = published
    argv = ["--number", line.phone.number, "--user", member.email]
    call_command("run_scenarios", *argv)  # nothing saved: success
    assert "No scenarios are saved" in capsys.readouterr().out
    _create(line, name="Hours", turns=[SAYS["hours"]], expect={"job": "Opening hours"})
    _create(line, name="No transfer", turns=[SAYS["hours"], SAYS["manager"]],
            expect={"never": ["transfer_call"]})  # fmt: skip
    junit = tmp_path / "report.xml"
    with pytest.raises(CommandError) as exc:
        call_command("run_scenarios", *argv, "--junit", str(junit), "--version", "1")
    assert (exc.value.returncode, str(exc.value)) == (1, "1 of 2 scenario(s) failed.")
    out = capsys.readouterr().out.splitlines()
    assert out[-1] == "2 scenario(s) against the version 1 of +15555550123: 1 passed, 1 failed."
    root = ET.parse(junit).getroot()  # noqa: S314 (our own file)
    suite = root.find("testsuite")
    assert (suite.get("tests"), suite.get("failures")) == ("2", "1")
    cases = {c.get("name"): c for c in suite.iter("testcase")}
    assert cases["Hours"].find("failure") is None
    failure = cases["No transfer"].find("failure")
    assert failure.get("message").startswith("Turn 2: expected no transfer_call; Sona would")
    assert "Turn 2: caller: I want to speak to a manager" in failure.text
    with pytest.raises(CommandError):
        call_command("run_scenarios", *argv, "--json")
    lines = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert [x.get("failed_turn") for x in lines[:2]] == [None, 2]
    assert lines[-1]["failed"] == 1
    Scenario.objects.filter(name="No transfer").delete()
    call_command("run_scenarios", *argv, "--version", "live")  # exit 0
    for bad in (["--version", "7"], ["--version", "old"]):
        with pytest.raises(CommandError) as exc:
            call_command("run_scenarios", *argv, *bad)
        assert exc.value.returncode == 2
    with pytest.raises(CommandError) as exc:
        call_command("run_scenarios", "--number", "+15555550999", "--user", member.email)
    assert exc.value.returncode == 2


# The migration of test cases --------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_the_migration_turns_every_test_case_into_a_one_turn_scenario(workspace, owner):
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    before, after = [("calls", "0006_scenario")], [("calls", "0007_test_cases_to_scenarios")]
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    old = executor.loader.project_state(before).apps
    Workspace = old.get_model("workspaces", "Workspace")
    PhoneNumber = old.get_model("callflows", "PhoneNumber")
    CallFlow = old.get_model("callflows", "CallFlow")
    Job = old.get_model("jobs", "Job")
    StepTestCase = old.get_model("calls", "StepTestCase")
    ws = Workspace.objects.get(pk=workspace.pk)
    phone = PhoneNumber.objects.create(workspace=ws, number="+15555550177", display_name="M")
    flow = CallFlow.objects.create(phone_number=phone)
    job = Job.objects.create(workspace=ws, name="Book a table", instructions="1. Book.")
    cases = [
        ("I want a table", True, job, "Book a table", "send_sms"),
        ("i want a table", True, job, "Book a table", ""),  # same name, other case
        ("wrong number", False, None, "", ""),
        ("x" * 120, True, None, "Gone job", ""),  # its job row is gone: the name stays
    ]
    for said, expects, expected, name, action in cases:
        StepTestCase.objects.create(
            call_flow=flow, step_key="k1", said=said, expects_job=expects, expected_job=expected,
            expected_job_name=name, expected_action=action, created_by_id=owner.pk,
        )  # fmt: skip
    stamps = list(StepTestCase.objects.order_by("pk").values_list("created_at", flat=True))
    executor = MigrationExecutor(connection)
    executor.migrate(after)
    new = executor.loader.project_state(after).apps
    rows = list(
        new.get_model("calls", "Scenario")
        .objects.order_by("pk")
        .values("call_flow_id", "step_key", "name", "turns", "expect", "created_by_id",
                "created_at")
    )  # fmt: skip
    assert len(rows) == StepTestCase.objects.count() == 4
    assert [r["name"] for r in rows] == ["I want a table", "i want a table (2)", "wrong number",
                                         "x" * 100]  # fmt: skip
    assert [r["turns"] for r in rows] == [[c[0]] for c in cases]
    assert [r["expect"] for r in rows] == [
        {"job": "Book a table", "actions": ["send_sms"]},
        {"job": "Book a table"},
        {"job": None},
        {"job": "Gone job"},
    ]
    assert {(r["call_flow_id"], r["step_key"], r["created_by_id"]) for r in rows} == {
        (flow.pk, "k1", owner.pk)
    }
    assert [r["created_at"] for r in rows] == stamps
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())  # back to the latest
    assert Call.objects.count() == 0
