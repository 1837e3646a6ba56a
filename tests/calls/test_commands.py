"""The mock_call and test_callflow commands: read-only, as a named member, clear errors."""

import json

import pytest
from django.core.management import CommandError, call_command

from callflows import services as cf
from calls.models import Call
from tests.conftest import command_help
from tests.factories import UserFactory
from tests.test_roles import fingerprint
from workspaces.models import AuditEvent

from .conftest import SAYS, router_says, save_case

pytestmark = pytest.mark.django_db


def run(name, *argv, capsys):
    call_command(name, *argv)
    return capsys.readouterr().out


def lines_of(out) -> list[dict]:
    return [json.loads(line) for line in out.splitlines() if line.strip()]


def _case(line, said, job, **kwargs):
    return save_case(
        call_flow=line.flow, user=line.owner, step_key=line.sona.key, said=said, job=job, **kwargs
    )


# mock_call ----------------------------------------------------------------------------------


def test_mock_call_prints_job_runner_up_steps_questions_actions_knowledge(line, member, capsys):
    out = run(
        "mock_call",
        *("--number", "+1 555 555 0123", "--say", "When are you open, is there parking"),
        *("--user", member.email),
        capsys=capsys,
    )
    assert out.splitlines()[0] == (
        "Mock calls against the draft of Main line (+15555550123), step “Sona” "
        f"({line.sona.key}). Nothing is sent and nothing is stored."
    )
    assert "Turn 1. Caller: “When are you open, is there parking”" in out
    said = router_says(line.flow, "When are you open, is there parking")
    assert said.job.name == "Opening hours" and said.runner_up.score < said.job.score
    assert f"  Decision: Sona picked “Opening hours” ({said.confidence})." in out
    assert f"  Job: Opening hours ({said.confidence}, score {said.job.score:.2f})" in out
    assert f"  Runner-up: {said.runner_up.name} (score {said.runner_up.score:.2f})" in out
    assert "  Why: " + ", ".join(said.job.why) in out and "open" in said.job.why[0]
    assert "    1. Tell the caller the opening hours.  <- Sona is here" in out
    assert "    2. Send the caller an SMS: “We are open 9 to 5 every day.”" in out
    assert "  Actions (not sent):" in out
    assert "    - Send SMS to the caller: We are open 9 to 5 every day. (not sent)" in out
    # Both paragraphs of the Parking page match: the page is named once, its passages under it.
    knowledge = out.split("  Knowledge:\n", 1)[1].splitlines()
    assert knowledge[0] == "    - Parking" and knowledge.count("    - Parking") == 1
    assert sorted(knowledge[1:]) == [
        "        Free parking behind the restaurant.",
        "        The terrace is open in summer.",
    ]


def test_mock_call_questions_and_transfer(line, capsys):
    out = run("mock_call", "--number", line.phone.number, "--say", SAYS["booking"],
              "--user", line.owner.email, capsys=capsys)  # fmt: skip
    assert "  Questions:\n    - How many people are coming?\n    - Ask for the date" in out
    assert "  Sona: “Could you tell me the date and time you want?”" in out  # what Sona says
    out = run("mock_call", "--number", line.phone.number, "--say", SAYS["manager"],
              "--user", line.owner.email, capsys=capsys)  # fmt: skip
    assert (
        "    - Transfer call to Front desk (+15555550124) (Sona says first: “Let me put you "
        "through to the desk.”) (not sent)"
    ) in out


def test_mock_call_no_job(line, capsys):
    out = run("mock_call", "--number", line.phone.number, "--say", SAYS["nothing"],
              "--user", line.owner.email, capsys=capsys)  # fmt: skip
    assert "  Decision: No job fits: Sona says what the business can help with." in out
    assert "Steps:" not in out and "Actions" not in out


def test_mock_call_several_turns_continue_the_job(line, capsys):
    vague = "yes, at eight"  # says nothing of a job alone: it answers Book a table's question
    assert router_says(line.flow, vague).no_job
    out = run(
        "mock_call", "--number", line.phone.number, "--say", SAYS["booking"],
        "--say", vague, "--json", "--user", line.owner.email, capsys=capsys,
    )  # fmt: skip
    first, second = lines_of(out)
    assert (first["call"], first["turn"], second["call"], second["turn"]) == (1, 1, 1, 2)
    assert (first["job"], first["continued"], first["at_step"]) == ("Book a table", False, 1)
    assert (second["job"], second["continued"], second["at_step"]) == ("Book a table", True, 2)
    assert second["steps"][second["at_step"] - 1].startswith('Ask: "How many people are coming?"')


def test_mock_call_json_fields(line, capsys):
    [data] = lines_of(
        run(
            "mock_call",
            "--number",
            line.phone.number,
            "--say",
            SAYS["hours"],
            "--json",
            "--user",
            line.owner.email,
            capsys=capsys,
        )  # fmt: skip
    )
    assert data["said"] == "When are you open"
    assert data["reply"] == "(Tell the caller the opening hours.)"
    said = router_says(line.flow, SAYS["hours"])
    assert (data["job"], data["job_id"], data["score"]) == (
        "Opening hours",
        line.hours.pk,
        said.job.score,
    )
    assert (data["runner_up"], data["runner_up_score"]) == (
        said.runner_up.name,
        said.runner_up.score,
    )
    assert (data["decision"], data["confidence"], data["options"], data["question"]) == (
        "job",
        said.confidence,
        [],
        "",
    )
    assert 0 <= data["runner_up_score"] < data["score"] <= 1
    assert data["actions"] == [
        {
            "type": "send_sms",
            "label": "Send SMS to the caller",
            "detail": "We are open 9 to 5 every day.",
            "say": "",
            "status": "not sent",
        }
    ]
    assert data["knowledge"] == ["Parking"]
    assert data["steps"][0] == "Tell the caller the opening hours."
    assert (data["version"], data["step"], data["why"]) == (
        "draft",
        line.sona.key,
        list(said.job.why),
    )
    assert any("open" in reason for reason in data["why"])  # the caller's word, in words


def test_mock_call_json_knowledge_names_each_page_once(line, workspace, capsys):
    from calls.selectors import mock
    from knowledge import services as ks

    menu = ks.knowledge_page_create(
        workspace=workspace, user=line.owner, title="Menu", body="Vegan dishes every evening."
    )
    cf.step_attach_knowledge(step=line.sona, page=menu, user=line.owner)
    said = "is there parking, or vegan dishes"
    [turn] = mock.mock_turns(mock.target(call_flow=line.flow), [said])
    assert [p.title for p in turn.passages].count("Parking") == 2  # two passages, one page
    [data] = lines_of(run("mock_call", "--number", line.phone.number, "--say", said, "--json",
                          "--user", line.owner.email, capsys=capsys))  # fmt: skip
    assert sorted(data["knowledge"]) == ["Menu", "Parking"]
    assert data["knowledge"] == list(dict.fromkeys(p.title for p in turn.passages))


def test_mock_call_json_no_job(line, capsys):
    [data] = lines_of(
        run(
            "mock_call",
            "--number",
            line.phone.number,
            "--say",
            SAYS["nothing"],
            "--json",
            "--user",
            line.owner.email,
            capsys=capsys,
        )  # fmt: skip
    )
    assert (data["job"], data["score"], data["actions"], data["steps"]) == (None, None, [], [])


def test_mock_call_file_makes_one_call_per_non_empty_line(line, tmp_path, capsys):
    path = tmp_path / "said.txt"
    path.write_text(f"{SAYS['booking']}\n\n   \n{SAYS['hours']}\n{SAYS['nothing']}\n", "utf-8")
    data = lines_of(
        run(
            "mock_call",
            "--number",
            line.phone.number,
            "--file",
            str(path),
            "--json",
            "--user",
            line.owner.email,
            capsys=capsys,
        )  # fmt: skip
    )
    assert [(d["call"], d["turn"], d["job"]) for d in data] == [
        (1, 1, "Book a table"),
        (2, 1, "Opening hours"),  # a separate call: nothing continued from the first
        (3, 1, None),
    ]
    text = run("mock_call", "--number", line.phone.number, "--file", str(path),
               "--user", line.owner.email, capsys=capsys)  # fmt: skip
    assert "Call 2 of 3, turn 1. Caller: “When are you open”" in text


def test_mock_call_against_live_and_another_step(published, capsys):
    line = published
    cf.step_detach_job(step=line.sona, job=line.hours, user=line.owner)
    argv = ("--number", line.phone.number, "--say", SAYS["hours"], "--json")
    [draft] = lines_of(run("mock_call", *argv, "--user", line.owner.email, capsys=capsys))
    [live] = lines_of(
        run(
            "mock_call",
            *argv,
            "--version",
            "live",
            "--step",
            line.sona.key,
            "--user",
            line.owner.email,
            capsys=capsys,
        )  # fmt: skip
    )
    # The draft no longer has Opening hours: whatever it picks instead, it is not that job.
    assert draft["version"] == "draft" and "Opening hours" not in {draft["job"], draft["runner_up"]}
    assert draft["job"] == getattr(router_says(line.flow, SAYS["hours"]).job, "name", None)
    assert (live["version"], live["job"]) == ("live version 1", "Opening hours")


def test_mock_call_stores_nothing_and_records_nothing(line, capsys):
    before = (fingerprint(), list(AuditEvent.objects.values_list("pk", flat=True)))
    run("mock_call", "--number", line.phone.number, "--say", SAYS["hours"],
        "--user", line.owner.email, capsys=capsys)  # fmt: skip
    assert not Call.objects.exists()
    assert (fingerprint(), list(AuditEvent.objects.values_list("pk", flat=True))) == before


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--number", "+15555550999", "--say", "hi"], "No phone number +15555550999."),
        (["--number", "12", "--say", "hi"], "“12” is not a phone number"),
        (
            ["--say", "hi", "--version", "live"],
            "This number has no live version yet: publish it first, or test the draft.",
        ),
        (["--say", ""], "Turn 1 is empty: type what the caller says."),
        (["--say", "x" * 501], "Turn 1 can be at most 500 characters (it has 501)."),
        (["--say", "hi", "--say", " "], "Turn 2 is empty"),
        (["--say", "a\x00b"], "The --say value contains a character that cannot be stored"),
        (["--say", "hi", "--step", "nope"], "The draft has no Sona step “nope”. Its Sona steps: "),
        (["--file", "/nonexistent/said.txt"], "Cannot read /nonexistent/said.txt: No such file"),
    ],
)
def test_mock_call_errors(line, argv, message):
    if "--number" not in argv:
        argv = ["--number", line.phone.number, *argv]
    with pytest.raises(CommandError) as exc:
        call_command("mock_call", *argv, "--user", line.owner.email)
    assert message in str(exc.value) and exc.value.returncode == 1
    assert not Call.objects.exists()


def test_mock_call_bad_step_lists_the_steps(line):
    with pytest.raises(CommandError) as exc:
        call_command("mock_call", "--number", line.phone.number, "--say", "hi", "--step", "x",
                     "--user", line.owner.email)  # fmt: skip
    assert (
        str(exc.value) == f"The draft has no Sona step “x”. Its Sona steps: {line.sona.key} (Sona)."
    )


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"\n  \n", "has no lines: write what a caller says, one call a line."),
        (b"hi\n" + b"x" * 501 + b"\n", "Line 2 of {path} can be at most 500 characters"),
        (b"\xff\xfe bad", "Cannot read {path}: it is not UTF-8 text."),
    ],
)
def test_mock_call_bad_files(line, tmp_path, capsys, content, message):
    path = tmp_path / "said.txt"
    path.write_bytes(content)
    with pytest.raises(CommandError, match=None) as exc:
        call_command("mock_call", "--number", line.phone.number, "--file", str(path),
                     "--user", line.owner.email)  # fmt: skip
    assert message.format(path=path) in str(exc.value)
    assert capsys.readouterr().out == ""  # every line is checked before any call runs


def test_mock_call_needs_say_or_file_not_both(line, tmp_path):
    with pytest.raises(CommandError, match="one of the arguments --say --file is required"):
        call_command("mock_call", "--number", line.phone.number, "--user", line.owner.email)
    with pytest.raises(CommandError, match="not allowed with argument"):
        call_command("mock_call", "--number", line.phone.number, "--say", "hi",
                     "--file", str(tmp_path / "x"), "--user", line.owner.email)  # fmt: skip


def test_mock_call_refuses_non_members(line):
    outsider = UserFactory()
    with pytest.raises(CommandError) as exc:
        call_command("mock_call", "--number", line.phone.number, "--say", "hi",
                     "--user", outsider.email)  # fmt: skip
    assert str(exc.value) == f"Only members of {line.workspace.name} can run mock calls."
    with pytest.raises(CommandError, match="No active user with the email 'ghost@example.test'"):
        call_command("mock_call", "--number", line.phone.number, "--say", "hi",
                     "--user", "ghost@example.test")  # fmt: skip
    with pytest.raises(CommandError, match="--user"):
        call_command("mock_call", "--number", line.phone.number, "--say", "hi")


# test_callflow ------------------------------------------------------------------------------


def test_no_cases_is_success(line, capsys):
    out = run("test_callflow", "--number", line.phone.number, "--user", line.owner.email,
              capsys=capsys)  # fmt: skip
    assert out == "No scenarios are saved for +15555550123: nothing to run.\n"


def test_all_passing_cases_exit_0_with_a_total(line, member, capsys):
    _case(line, SAYS["booking"], line.booking)
    _case(line, SAYS["hours"], line.hours, expected_action="send_sms")
    _case(line, SAYS["nothing"], None)
    out = run("test_callflow", "--number", line.phone.number, "--user", member.email,
              capsys=capsys)  # fmt: skip
    booking, hours = (router_says(line.flow, SAYS[k]).job for k in ("booking", "hours"))
    assert (booking.id, hours.id) == (line.booking.pk, line.hours.pk)
    assert 0 < booking.score <= 1 and 0 < hours.score <= 1
    assert out.splitlines() == [
        "PASS  [Sona] “I want to book a table for two” (1 turn) → “Book a table”",
        "PASS  [Sona] “When are you open” (1 turn) → “Opening hours”",
        "PASS  [Sona] “Hello there” (1 turn) → no job",
        "3 scenario(s) against the draft of +15555550123: 3 passed, 0 failed.",
    ]


def test_a_failing_case_exits_1_with_the_reason(published, capsys):
    line = published
    _case(line, SAYS["booking"], line.booking)
    _case(line, SAYS["hours"], line.hours)
    cf.step_detach_job(step=line.sona, job=line.booking, user=line.owner)
    with pytest.raises(CommandError) as exc:
        call_command("test_callflow", "--number", line.phone.number, "--user", line.owner.email)
    assert (str(exc.value), exc.value.returncode) == ("1 of 2 scenario(s) failed.", 1)
    hours = router_says(line.flow, SAYS["hours"]).job
    assert hours.id == line.hours.pk and 0 < hours.score <= 1
    assert capsys.readouterr().out.splitlines() == [
        "FAIL  [Sona] “I want to book a table for two”: Expects “Book a table”, which is not "
        "attached to Sona.",
        "PASS  [Sona] “When are you open” (1 turn) → “Opening hours”",
        "2 scenario(s) against the draft of +15555550123: 1 passed, 1 failed.",
    ]
    # The live version still has the job: the same cases pass there.
    out = run("test_callflow", "--number", line.phone.number, "--version", "live",
              "--user", line.owner.email, capsys=capsys)  # fmt: skip
    assert out.splitlines()[-1] == (
        "2 scenario(s) against the live version 1 of +15555550123: 2 passed, 0 failed."
    )


def test_the_command_agrees_with_the_publish_gate(line, capsys):
    _case(line, SAYS["hours"], line.hours, expected_action="send_sms")
    from jobs import services as js

    js.job_update(job=line.hours, user=line.owner, data={"instructions": "1. Say the hours."})
    with pytest.raises(CommandError):
        call_command("test_callflow", "--number", line.phone.number, "--user", line.owner.email)
    assert "Turn 1: expected send_sms; Sona would not perform it" in capsys.readouterr().out
    with pytest.raises(Exception, match="Turn 1: expected send_sms; Sona would not perform it"):
        cf.callflow_publish(call_flow=line.flow, user=line.owner)


def test_json_is_one_object_per_case_then_a_summary(published, capsys):
    line = published
    _case(line, SAYS["booking"], line.booking)
    _case(line, SAYS["nothing"], None)
    cf.step_detach_job(step=line.sona, job=line.booking, user=line.owner)
    with pytest.raises(CommandError):
        call_command("test_callflow", "--number", line.phone.number, "--json",
                     "--user", line.owner.email)  # fmt: skip
    first, second, summary = lines_of(capsys.readouterr().out)
    # Book a table is gone from the draft: the case fails whatever the router picks instead.
    got = router_says(line.flow, SAYS["booking"]).job
    assert got is None or got.id != line.booking.pk
    assert first == {
        "step": line.sona.key,
        "step_name": "Sona",
        "name": "I want to book a table for two",
        "turns": ["I want to book a table for two"],
        "expect": {"job": "Book a table"},
        "got": got and got.name,
        "passed": False,
        "failed_turn": None,
        "problem": "Expects “Book a table”, which is not attached to Sona.",
        "runs": 1,
        "passes": 0,
    }
    assert (second["expect"], second["got"], second["passed"], second["problem"]) == (
        {"job": None},
        None,
        True,
        "",
    )
    assert summary == {
        "summary": True,
        "number": "+15555550123",
        "version": "draft",
        "total": 2,
        "passed": 1,
        "failed": 1,
        "skipped": 0,
    }


def test_cases_of_a_step_not_in_the_version_are_skipped(published, capsys):
    line = published
    _case(line, SAYS["booking"], line.booking)
    cf.step_remove(step=line.sona, user=line.owner)
    out = run("test_callflow", "--number", line.phone.number, "--user", line.owner.email,
              capsys=capsys)  # fmt: skip
    assert out.splitlines() == [
        f"SKIP  “I want to book a table for two”: the step {line.sona.key} is not in the draft.",
        "0 scenario(s) against the draft of +15555550123: 0 passed, 0 failed, 1 skipped "
        "(their step is not in it).",
    ]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--number", "+15555550999"], r"No phone number \+15555550999\."),
        (["--version", "live"], "This number has no live version yet"),
        (["--version", "old"], "--version: “old” is not draft, live or a published version"),
    ],
)
def test_test_callflow_errors(line, argv, message):
    if "--number" not in argv:
        argv = ["--number", line.phone.number, *argv]
    with pytest.raises(CommandError, match=message):
        call_command("test_callflow", *argv, "--user", line.owner.email)


def test_test_callflow_refuses_non_members(line):
    with pytest.raises(
        CommandError, match=f"Only members of {line.workspace.name} can run scenarios"
    ):
        call_command("test_callflow", "--number", line.phone.number, "--user", UserFactory().email)


@pytest.mark.parametrize("name", ["mock_call", "test_callflow"])
def test_help(name, capsys):
    text = command_help(name, capsys)
    assert "--number" in text and "--user" in text and "draft" in text
    if name == "mock_call":
        assert "no call is stored" in " ".join(text.split())
    else:
        assert "exits with status 1" in " ".join(text.split())


# publish_callflow --override-reason ---------------------------------------------------------


def test_publish_callflow_refuses_failing_cases_unless_overridden(published, capsys):
    line = published
    _case(line, SAYS["booking"], line.booking)
    cf.step_detach_job(step=line.sona, job=line.booking, user=line.owner)
    argv = ("--number", line.phone.number, "--user", line.owner.email)
    with pytest.raises(CommandError) as exc:
        call_command("publish_callflow", *argv)
    assert str(exc.value).splitlines() == [
        "Cannot publish: scenarios fail. Fix them, or tick “Publish anyway” and give a reason.",
        "Scenario “I want to book a table for two” on “Sona”: Expects “Book a table”, which is "
        "not attached to Sona.",
        "To publish anyway, give --override-reason with why.",
    ]
    assert line.flow.versions.count() == 1
    call_command("publish_callflow", *argv, "--override-reason", "Bookings moved online.")
    captured = capsys.readouterr()
    assert "Published version 2 of +15555550123" in captured.out
    assert "Published although scenarios fail: Bookings moved online." in captured.err
    assert line.flow.versions.get(number=2).override_reason == "Bookings moved online."
