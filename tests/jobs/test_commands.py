"""The jobs management commands: demo, export_jobs and import_jobs."""

import json
from io import StringIO

import pytest
from django.core.management import call_command, get_commands, load_command_class
from django.core.management.base import CommandError

from jobs.models import Job
from jobs.services import job_delete, job_update
from tests.conftest import command_help
from tests.factories import JobFactory, UserFactory, owner_of
from workspaces.models import Membership, Role, User, Workspace

pytestmark = pytest.mark.django_db

DEMO_EMAIL = "owner@demo.test"
DEMO_JOB_NAMES = [
    "Answer after-hours calls",
    "Dental emergency",
    "Qualify a lead",
    "Reschedule or cancel",
    "Schedule an appointment",
    "Take a message",
]


def run(*args, **options):
    """Run a command; return (stdout, stderr)."""
    out, err = StringIO(), StringIO()
    call_command(*args, stdout=out, stderr=err, **options)
    return out.getvalue(), err.getvalue()


def snapshot():
    """Everything an import may touch: the jobs (all fields) and their history rows."""
    jobs = list(Job.objects.order_by("pk").values())
    history = list(Job.history.order_by("history_id").values_list("history_id", flat=True))
    return jobs, history


def write_json(tmp_path, data, name="jobs.json"):
    path = tmp_path / name
    path.write_text(json.dumps(data), encoding="utf-8")
    return str(path)


def record(name, **fields):
    return {
        "name": name,
        "description": fields.get("description", "Imported job."),
        "trigger": fields.get("trigger", "Caller asks about imports."),
        "instructions": fields.get("instructions", "1. Help the caller.\n2. End the call."),
        **{k: v for k, v in fields.items() if k not in ("description", "trigger", "instructions")},
    }


# --help ----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["demo", "export_jobs", "import_jobs"])
def test_help_works(name, capsys):
    out = command_help(name, capsys)
    assert out.startswith(f"usage:  {name} ")
    command = load_command_class(get_commands()[name], name)
    assert " ".join(command.help.split()[:4]) in " ".join(out.split())


def test_import_help_documents_all_or_nothing(capsys):
    out = " ".join(command_help("import_jobs", capsys).split())
    assert "All or nothing" in out
    assert "--dry-run" in out


# demo ------------------------------------------------------------------------------------


def test_demo_creates_workspace_owner_and_jobs():
    out, _ = run("demo")

    workspace = Workspace.objects.get(slug="demo")
    owner = User.objects.get(email=DEMO_EMAIL)
    assert owner.check_password("demo")
    assert Membership.objects.get(workspace=workspace, user=owner).role == Role.OWNER
    jobs = Job.objects.filter(workspace=workspace)
    assert sorted(jobs.values_list("name", flat=True)) == DEMO_JOB_NAMES
    assert all(job.created_by == owner for job in jobs)
    assert jobs.filter(template__isnull=False).count() == 4  # and two of the practice's own
    assert DEMO_EMAIL in out
    assert "'demo'" in out
    assert "/accounts/login/" in out


def test_demo_is_idempotent():
    run("demo")
    job_pks = set(Job.objects.values_list("pk", flat=True))
    history_count = Job.history.count()

    run("demo")

    assert Workspace.objects.filter(slug="demo").count() == 1
    assert User.objects.filter(email=DEMO_EMAIL).count() == 1
    assert Membership.objects.filter(user__email=DEMO_EMAIL).count() == 1
    assert set(Job.objects.values_list("pk", flat=True)) == job_pks
    assert Job.history.count() == history_count
    assert User.objects.get(email=DEMO_EMAIL).check_password("demo")


def test_demo_password_option_sets_the_password():
    run("demo")

    out, _ = run("demo", "--password", "s3cret-demo")

    owner = User.objects.get(email=DEMO_EMAIL)
    assert owner.check_password("s3cret-demo")
    assert not owner.check_password("demo")
    assert "'s3cret-demo'" in out


def test_demo_restores_the_owner_role_and_keeps_extra_jobs():
    run("demo")
    workspace = Workspace.objects.get(slug="demo")
    Membership.objects.filter(workspace=workspace).update(role=Role.MEMBER)
    JobFactory(workspace=workspace, name="My own job")

    run("demo")

    assert Membership.objects.get(workspace=workspace).role == Role.OWNER
    assert Job.objects.filter(workspace=workspace).count() == len(DEMO_JOB_NAMES) + 1


# export_jobs -----------------------------------------------------------------------------


def test_export_writes_live_jobs_as_json_to_stdout(workspace, other_workspace):
    beta = JobFactory(
        workspace=workspace, name="Beta", description="B", trigger="T", instructions="I"
    )
    JobFactory(workspace=workspace, name="Alpha")
    gone = JobFactory(workspace=workspace, name="Gone")
    job_delete(job=gone, user=owner_of(gone.workspace))
    JobFactory(workspace=other_workspace, name="Elsewhere")

    out, _ = run("export_jobs", "--workspace", workspace.slug)

    records = json.loads(out)
    assert [r["name"] for r in records] == ["Alpha", "Beta"]
    assert records[1] == {
        "name": "Beta",
        "description": "B",
        "trigger": "T",
        "instructions": "I",
        "revision": beta.revision,
    }


def test_export_to_a_file(workspace, tmp_path):
    JobFactory(workspace=workspace, name="Café ☕")
    target = tmp_path / "export.json"

    out, err = run("export_jobs", "--workspace", workspace.slug, "--output", str(target))

    assert out == ""
    assert f"Exported 1 job(s) to {target}." in err
    text = target.read_text(encoding="utf-8")
    assert "Café ☕" in text  # written as UTF-8, not \u escapes
    assert json.loads(text)[0]["name"] == "Café ☕"


def test_export_of_an_empty_workspace_is_an_empty_list(workspace):
    out, _ = run("export_jobs", "--workspace", workspace.slug)
    assert json.loads(out) == []


def test_export_unknown_workspace_is_an_error(db):
    with pytest.raises(CommandError, match="No workspace with the slug 'nope'"):
        run("export_jobs", "--workspace", "nope")


def test_export_to_an_unwritable_path_is_an_error(workspace, tmp_path):
    JobFactory(workspace=workspace)
    target = tmp_path / "missing-folder" / "export.json"

    with pytest.raises(CommandError, match=r"Cannot write .*export\.json"):
        run("export_jobs", "--workspace", workspace.slug, "--output", str(target))
    assert not target.exists()


# import_jobs -----------------------------------------------------------------------------


def import_jobs(path, workspace, user, *extra):
    return run("import_jobs", path, "--workspace", workspace.slug, "--user", user.email, *extra)


def test_import_creates_new_jobs_attributed_to_the_user(workspace, owner, tmp_path):
    path = write_json(tmp_path, [record("Take a booking"), record("Answer questions")])

    out, _ = import_jobs(path, workspace, owner)

    assert "created 2, updated 0, left 0 unchanged." in out
    job = Job.objects.get(workspace=workspace, name="Take a booking")
    assert job.created_by == owner and job.updated_by == owner
    assert job.instructions == "1. Help the caller.\n2. End the call."
    entry = job.history.get()
    assert entry.history_change_reason == "imported"
    assert entry.history_user == owner


def test_import_updates_an_existing_name_as_a_new_version(workspace, owner, tmp_path):
    job = JobFactory(workspace=workspace, name="Take a Booking", description="Old")
    history_before = job.history.count()
    path = write_json(
        tmp_path, [record("take a booking", description="New", instructions="1. New steps.")]
    )

    out, _ = import_jobs(path, workspace, owner)

    assert "created 0, updated 1, left 0 unchanged." in out
    job.refresh_from_db()
    assert job.description == "New"
    assert job.instructions == "1. New steps."
    assert job.revision == 2
    assert job.updated_by == owner
    assert Job.objects.filter(workspace=workspace).count() == 1
    assert job.history.count() == history_before + 1
    latest = job.history.first()
    assert latest.history_change_reason == "imported"
    assert latest.history_user == owner


def test_import_leaves_other_workspaces_alone(workspace, other_workspace, owner, tmp_path):
    theirs = JobFactory(workspace=other_workspace, name="Shared name", description="Theirs")
    path = write_json(tmp_path, [record("Shared name", description="Ours")])

    import_jobs(path, workspace, owner)

    theirs.refresh_from_db()
    assert theirs.description == "Theirs" and theirs.revision == 1
    assert Job.objects.get(workspace=workspace).description == "Ours"


def test_import_dry_run_changes_nothing(workspace, owner, tmp_path):
    JobFactory(workspace=workspace, name="Existing", description="Old")
    path = write_json(tmp_path, [record("Existing", description="New"), record("Brand new")])
    before = snapshot()

    out, _ = import_jobs(path, workspace, owner, "--dry-run")

    assert "Dry run, nothing saved: would have created 1, updated 1, left 0 unchanged." in out
    assert snapshot() == before


def test_export_then_import_round_trip_changes_nothing(workspace, owner, tmp_path):
    JobFactory(workspace=workspace, name="One")
    job_update(job=JobFactory(workspace=workspace, name="Two"), user=owner, data={"trigger": "X"})
    JobFactory(workspace=workspace, name="Three")
    target = tmp_path / "export.json"
    run("export_jobs", "--workspace", workspace.slug, "--output", str(target))
    before = snapshot()

    out, _ = import_jobs(str(target), workspace, owner)

    assert "created 0, updated 0, left 3 unchanged." in out
    assert snapshot() == before


def test_import_of_a_stale_export_imports_nothing(workspace, owner, tmp_path):
    job = JobFactory(workspace=workspace, name="Edited later")
    exported = json.loads(run("export_jobs", "--workspace", workspace.slug)[0])
    job_update(job=job, user=owner, data={"description": "Changed after the export."})
    exported[0]["description"] = "From the file."
    path = write_json(tmp_path, [record("New one first"), *exported])
    before = snapshot()

    with pytest.raises(CommandError) as error:
        import_jobs(path, workspace, owner)

    message = str(error.value)
    assert message.startswith("Nothing imported.")
    assert "record 2 ('Edited later'), field 'revision'" in message
    assert "changed since this file was exported" in message
    assert snapshot() == before


def test_one_bad_record_imports_nothing(workspace, owner, tmp_path):
    JobFactory(workspace=workspace, name="Existing", description="Old")
    path = write_json(
        tmp_path,
        [
            record("Existing", description="New"),
            record("Fine"),
            record("x" * 101),
            record("Also fine"),
        ],
    )
    before = snapshot()

    with pytest.raises(CommandError) as error:
        import_jobs(path, workspace, owner)

    message = str(error.value)
    assert message.startswith("Nothing imported.")
    assert "record 3" in message
    assert "field 'name'" in message
    assert "at most 100 characters" in message
    assert snapshot() == before


def test_over_limit_instructions_imports_nothing(workspace, owner, tmp_path):
    path = write_json(tmp_path, [record("Fine"), record("Long", instructions="x" * 10_001)])
    before = snapshot()

    with pytest.raises(CommandError) as error:
        import_jobs(path, workspace, owner)

    message = str(error.value)
    assert message.startswith("Nothing imported.")
    assert "record 2 ('Long'), field 'instructions'" in message
    assert "at most 10000 characters" in message
    assert snapshot() == before


def test_instructions_at_the_limit_import(workspace, owner, tmp_path):
    path = write_json(tmp_path, [record("Long", instructions="x" * 10_000)])

    import_jobs(path, workspace, owner)

    assert len(Job.objects.get(workspace=workspace, name="Long").instructions) == 10_000


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({"jobs": []}, "The file must contain a JSON list of jobs."),
        ([record("Fine"), "just text"], "record 2: each record must be an object."),
        (
            [record("Fine"), record("Odd", colour="red")],
            "record 2 ('Odd'), field 'colour': unknown field.",
        ),
        (
            [record("Fine"), {"instructions": "1. Hi."}],
            "record 2, field 'name': a name is required.",
        ),
        ([record("Fine"), record("   ")], "field 'name': a name is required."),
        (
            [record("Twice"), record("Other"), record(" twice ")],
            "record 3 (' twice '), field 'name': the file names this job twice.",
        ),
        (
            [record("Fine"), record("Bad type", trigger=42)],
            "record 2 ('Bad type'), field 'trigger': Must be text.",
        ),
        (
            [record("Fine"), {"name": "No steps", "description": "D"}],
            "record 2 ('No steps'), field 'instructions'",
        ),
        (
            [record("Fine"), record("Existing", revision="1")],
            "record 2 ('Existing'), field 'revision': must be a whole number.",
        ),
        (
            [record("Existing", description="d" * 501)],
            "record 1 ('Existing'), field 'description': Ensure this value has at most 500",
        ),
    ],
    ids=[
        "not-a-list",
        "not-an-object",
        "unknown-field",
        "no-name",
        "blank-name",
        "duplicate",
        "not-text",
        "missing-instructions",
        "revision-not-a-number",
        "update-over-limit",
    ],
)
def test_invalid_file_content_imports_nothing(workspace, owner, tmp_path, data, expected):
    JobFactory(workspace=workspace, name="Existing")
    path = write_json(tmp_path, data)
    before = snapshot()

    with pytest.raises(CommandError) as error:
        import_jobs(path, workspace, owner)

    assert str(error.value).startswith("Nothing imported.")
    assert expected in str(error.value)
    assert snapshot() == before


def test_invalid_json_is_an_error(workspace, owner, tmp_path):
    path = tmp_path / "broken.json"
    path.write_text('[{"name": "Half', encoding="utf-8")
    before = snapshot()

    with pytest.raises(CommandError, match=r"broken\.json is not valid JSON"):
        import_jobs(str(path), workspace, owner)
    assert snapshot() == before


def test_a_file_that_is_not_utf8_is_an_error(workspace, owner, tmp_path):
    path = tmp_path / "latin1.json"
    path.write_bytes('[{"name": "Caf\u00e9"}]'.encode("latin-1"))

    with pytest.raises(CommandError, match="is not valid JSON"):
        import_jobs(str(path), workspace, owner)
    assert not Job.objects.exists()


def test_missing_file_is_an_error(workspace, owner, tmp_path):
    missing = tmp_path / "nope.json"

    with pytest.raises(CommandError, match=r"Cannot read .*nope\.json: No such file"):
        import_jobs(str(missing), workspace, owner)
    assert not Job.objects.exists()


def test_unknown_workspace_is_an_error(owner, tmp_path):
    path = write_json(tmp_path, [record("Fine")])

    with pytest.raises(CommandError, match="No workspace with the slug 'nope'"):
        run("import_jobs", path, "--workspace", "nope", "--user", owner.email)
    assert not Job.objects.exists()


@pytest.mark.parametrize("email", ["nobody@example.test", "inactive"])
def test_unknown_or_inactive_user_is_an_error(workspace, tmp_path, email):
    if email == "inactive":
        email = UserFactory(is_active=False).email
    path = write_json(tmp_path, [record("Fine")])

    with pytest.raises(CommandError, match=f"No active user with the email '{email}'"):
        run("import_jobs", path, "--workspace", workspace.slug, "--user", email)
    assert not Job.objects.exists()


def test_user_email_is_matched_case_insensitively(workspace, owner, tmp_path):
    path = write_json(tmp_path, [record("Fine")])

    run("import_jobs", path, "--workspace", workspace.slug, "--user", f" {owner.email.upper()} ")

    assert Job.objects.get(workspace=workspace).created_by == owner


def test_import_writes_one_attributed_history_row_per_changed_job(workspace, owner, tmp_path):
    changed = JobFactory(workspace=workspace, name="Changed", description="Old")
    same = JobFactory(workspace=workspace, name="Same")
    history_before = {job.pk: job.history.count() for job in (changed, same)}
    path = write_json(
        tmp_path,
        [
            record("New one"),
            record("changed", description="New", revision=1),
            {**same.text_fields(), "revision": 1},
            record("New two"),
        ],
    )

    out, _ = import_jobs(path, workspace, owner)

    assert "created 2, updated 1, left 1 unchanged." in out
    for name in ("New one", "New two"):
        job = Job.objects.get(workspace=workspace, name=name)
        assert (job.created_by, job.updated_by, job.revision) == (owner, owner, 1)
        entry = job.history.get()
        assert (entry.history_type, entry.history_user, entry.history_change_reason) == (
            "+",
            owner,
            "imported",
        )
        assert entry.instructions == job.instructions
    changed_before = changed.updated_at
    changed.refresh_from_db()
    assert (changed.description, changed.revision, changed.updated_by) == ("New", 2, owner)
    assert changed.updated_at > changed_before
    assert changed.history.count() == history_before[changed.pk] + 1
    entry = changed.history.first()
    assert (entry.history_type, entry.history_user, entry.history_change_reason) == (
        "~",
        owner,
        "imported",
    )
    assert (entry.description, entry.revision, entry.updated_by) == ("New", 2, owner)
    same_after = Job.objects.get(pk=same.pk)
    assert same_after.revision == 1 and same_after.updated_at == same.updated_at
    assert same.history.count() == history_before[same.pk]


def test_a_bad_last_record_of_a_long_file_imports_nothing(workspace, owner, tmp_path):
    existing = [JobFactory(workspace=workspace, name=f"Existing {i}") for i in range(5)]
    records = [record(job.name, description="Updated.") for job in existing]
    records += [record(f"New {i}") for i in range(300)]
    records.append(record("Last", instructions=""))
    path = write_json(tmp_path, records)
    before = snapshot()

    with pytest.raises(CommandError) as error:
        import_jobs(path, workspace, owner)

    assert str(error.value).startswith(
        "Nothing imported. record 306 ('Last'), field 'instructions'"
    )
    assert snapshot() == before


def test_import_accepts_a_utf8_byte_order_mark(workspace, owner, tmp_path):
    path = tmp_path / "bom.json"
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps([record("Café ☕")]).encode("utf-8"))

    out, _ = import_jobs(str(path), workspace, owner)

    assert "created 1," in out
    assert Job.objects.get(workspace=workspace).name == "Café ☕"


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ('[{"name": "Half', "is not valid JSON: Unterminated string"),
        ("[" * 100_000, "is not valid JSON: it is nested too deeply."),
        ("[" + "1" * 5000 + "]", "is not valid JSON: Exceeds the limit"),
        (
            '[{"name": "Bad", "instructions": "1. Say hi.\\u0000"}]',
            "Nothing imported. The file › 1 › instructions contains a character that cannot",
        ),
        (
            '[{"name": "Bad \\ud800", "instructions": "1. Say hi."}]',
            "Nothing imported. The file › 1 › name contains a character that cannot be stored",
        ),
        (
            '[{"name": "Bad", "\\udfff": "x", "instructions": "1. Say hi."}]',
            "Nothing imported. The file › 1 contains a character that cannot be stored",
        ),
    ],
    ids=["malformed", "deep-nesting", "huge-number", "nul", "surrogate", "surrogate-key"],
)
def test_unreadable_content_is_a_one_line_error(workspace, owner, tmp_path, content, expected):
    JobFactory(workspace=workspace, name="Existing")
    path = tmp_path / "bad.json"
    path.write_text(content, encoding="utf-8")
    before = snapshot()

    with pytest.raises(CommandError) as error:
        import_jobs(str(path), workspace, owner)

    message = str(error.value)
    assert expected in message
    assert "\n" not in message and "Traceback" not in message
    assert snapshot() == before


def test_invalid_utf8_is_a_one_line_error(workspace, owner, tmp_path):
    path = tmp_path / "broken.json"
    path.write_bytes(b'[{"name": "Caf\xc3"}]')

    with pytest.raises(CommandError) as error:
        import_jobs(str(path), workspace, owner)

    assert "is not valid JSON: 'utf-8' codec can't decode" in str(error.value)
    assert "\n" not in str(error.value)
    assert not Job.objects.exists()
