"""Every write to jobs and templates. Views, admin, commands and the API call these."""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models.functions import Lower
from django.utils import timezone
from simple_history.utils import bulk_create_with_history

from core import purge
from core.text import check_data, check_text, parse_json
from workspaces import audit
from workspaces.documents import services as documents
from workspaces.imports import (
    Deadline,
    RunResult,
    import_run_create,
    import_run_enqueue,
    import_run_execute,
)
from workspaces.models import ImportRun, User, Workspace
from workspaces.permissions import EDIT, require_role

from . import actions, optimizer, selectors
from .models import NAME_TAKEN, TEXT_FIELDS, Job, JobTemplate
from .signals import job_changed, job_deleting

REASON_FROM_TEMPLATE = "created from template"
REASON_OPTIMIZED = "optimized"
REASON_UNDO_OPTIMIZE = "undo optimize"
REASON_OVERWROTE = "edited over a newer version"
REASON_CONFLICT_COPY = "edited (conflicting copy, not kept)"
REASON_KEPT_CURRENT = "kept the newer version"

CHANGE_JOBS = "change jobs"
CHANGE_TEMPLATES = "change job templates"

# The core's conflict: the view renders it as the conflict page.
JobConflict = documents.DocumentConflict


@dataclass(frozen=True)
class OptimizeResult:
    job: Job  # the saved job: optimized, or only with the unsaved edits when nothing changed
    result: optimizer.Result


class JobOptimizeRefused(ValidationError):
    """The optimizer refused the text. Unsaved edits were saved first, as `job`: the editor
    must carry that job's revision on."""

    def __init__(self, message: str, *, job: Job):
        super().__init__({"instructions": message})
        self.job = job


def _normalized(data: Mapping[str, str]) -> dict[str, str]:
    """Keep only the four text fields, trimmed; a missing optional field becomes ''."""
    clean = {}
    for field in TEXT_FIELDS:
        if field in data:
            value = data[field]
            if value is not None and not isinstance(value, str):
                raise ValidationError({field: "Must be text."})
            # Browsers send textarea line breaks as CRLF; store and count them as one character.
            clean[field] = (value or "").replace("\r\n", "\n").replace("\r", "\n").strip()
    return clean


def _validate(job: Job) -> None:
    """A job's own rules beyond the field validators: the unique name and the action markers."""
    try:
        job.validate_constraints()
    except ValidationError as exc:
        # Field validators already cover the limits; what is left is the unique name.
        raise ValidationError({"name": exc.messages}) from exc
    if job.deleted_at is None and actions.has_markers(job.instructions):
        # Only texts with markers pay the two queries (members, numbers) of the context.
        context = selectors.action_context(workspace=job.workspace)
        actions.check(job.instructions, context=context)


# What jobs declare to the versioned-document core (workspaces/documents): their words, their
# own audit events (optimize, undo; None: the calling service records the one event, as
# resolving a conflict with "keep" saves two versions and the kept one is the event), the
# signals, and the rules beyond the fields (the unique name, the action markers).
KIND = documents.DocumentKind(
    model=Job,
    noun="job",
    edit_actions={
        REASON_OPTIMIZED: "job.optimized",
        REASON_UNDO_OPTIMIZE: "job.undo_optimize",
        REASON_CONFLICT_COPY: None,
    },
    audit_prefix="job",
    role_action=CHANGE_JOBS,
    signals=(job_deleting, job_changed),
    unique_message={"name": NAME_TAKEN},
    validate=_validate,
)


def job_validate(*, workspace: Workspace, data: Mapping[str, str], job: Job | None = None) -> None:
    """Raise the ValidationError that saving `data` would raise, without saving (admin forms)."""
    candidate = Job(workspace=workspace) if job is None else Job.objects.get(pk=job.pk)
    for field, value in _normalized(data).items():
        setattr(candidate, field, value)
    candidate.full_clean(
        exclude=["template", "created_by", "updated_by"], validate_constraints=False
    )
    _validate(candidate)


@audit.write_service
def job_create(
    *,
    workspace: Workspace,
    user: User,
    data: Mapping[str, str],
    template: JobTemplate | None = None,
    reason: str | None = None,
) -> Job:
    documents.require_editor(KIND, user, workspace)
    fields = {field: "" for field in TEXT_FIELDS} | _normalized(data)
    job = Job(workspace=workspace, **fields)
    if template is not None:
        if template.workspace_id not in (None, workspace.pk):
            raise ValidationError("That template belongs to another workspace.")
        job.template, job.template_name = template, template.name
    default_reason = REASON_FROM_TEMPLATE if template else documents.REASON_CREATED
    return documents.create(
        KIND, job, user=user, reason=reason or default_reason, template=job.template_name
    )


@audit.write_service
def job_update(
    *,
    job: Job,
    user: User,
    data: Mapping[str, str],
    expected_revision: int | None = None,
    reason: str = documents.REASON_EDITED,
) -> Job:
    """Change a job's texts. With `expected_revision`, refuse (JobConflict) a stale copy."""
    changes, revision = _normalized(data), expected_revision
    return documents.update(
        KIND, job, changes, user=user, expected_revision=revision, reason=reason
    )


@documents.service(KIND, "delete")
@audit.write_service
def job_delete(*, job: Job, user: User) -> documents.Deleted:
    """Move a job to "Recently deleted". Receivers of job_deleting may refuse, or detach it
    from drafts and say so (the notices)."""
    return documents.delete(KIND, job, user=user)


@documents.service(KIND, "restore")
@audit.write_service
def job_restore_deleted(*, job: Job, user: User) -> Job:
    return documents.restore_deleted(KIND, job, user=user)


@documents.service(KIND, "restore_version")
@audit.write_service
def job_restore_version(
    *, job: Job, version, user: User, expected_revision: int | None = None
) -> Job:
    """Make an earlier version's texts current again, as a new version (history only grows)."""
    revision = expected_revision
    return documents.restore_version(
        KIND, job, version=version, user=user, expected_revision=revision
    )


def job_purge_deleted(*, now=None, batch_size: int = purge.BATCH) -> int:
    """Delete for good the jobs deleted more than DELETED_KEEP_DAYS ago (see
    documents.purge_deleted). Calls keep their data: their job link is cleared, the job's name
    stays on them."""
    return documents.purge_deleted(KIND, now=now, batch_size=batch_size)


def _lock(job: Job) -> Job:
    return documents.lock(KIND, job)


@audit.write_service
def job_resolve_conflict(
    *,
    job: Job,
    user: User,
    choice: str,
    attempted: Mapping[str, str],
    current_revision: int,
) -> Job:
    """The second editor's choice after a conflict. Both texts always end up in history.

    - "overwrite": save theirs over the newer version (refused again if it moved on meanwhile).
    - "keep": keep the newer version; theirs is saved first as a version so it is not lost.
    - "copy": save theirs as a new job next to the original and return that job.
    """
    documents.require_editor(KIND, user, job.workspace)
    if choice == "overwrite":
        return job_update(
            job=job,
            user=user,
            data=attempted,
            expected_revision=current_revision,
            reason=REASON_OVERWROTE,
        )
    if choice == "keep":
        current = _lock(job)
        if current.revision != current_revision:
            raise JobConflict(current, attempted)
        kept = current.text_fields()
        job_update(job=current, user=user, data=attempted, reason=REASON_CONFLICT_COPY)
        return job_update(job=current, user=user, data=kept, reason=REASON_KEPT_CURRENT)
    if choice == "copy":
        data = {**job.text_fields(), **_normalized(attempted)}
        data["name"] = _free_name(job.workspace, data["name"] or job.name)
        return job_create(
            workspace=job.workspace, user=user, data=data, reason=documents.REASON_CREATED
        )
    raise ValidationError("Choose to keep the current version, save yours over it, or copy yours.")


def _free_name(workspace: Workspace, name: str) -> str:
    """ "Name (copy)", "Name (copy 2)", … that no live job of the workspace uses yet."""
    n = 1
    while True:
        suffix = " (copy)" if n == 1 else f" (copy {n})"
        candidate = name[: 100 - len(suffix)] + suffix
        taken = Job.objects.filter(
            workspace=workspace, deleted_at__isnull=True, name__iexact=candidate
        ).exists()
        if not taken:
            return candidate
        n += 1


# Optimize and Undo -------------------------------------------------------------------------


@audit.write_service(atomic=False)  # the optimizer runs outside any transaction
def job_optimize(
    *,
    job: Job,
    user: User,
    expected_revision: int | None = None,
    unsaved: Mapping[str, str] | None = None,
) -> OptimizeResult:
    """Rewrite the instructions with the optimizer and save them as an "optimized" version.

    Unsaved edits from the editor are saved first as their own version, so nothing typed is
    lost. The optimizer (possibly a slow HTTP call) runs outside any transaction or row lock;
    the revision check when saving catches anyone who saved in between.
    """
    documents.require_editor(KIND, user, job.workspace)
    if unsaved:
        job = job_update(job=job, user=user, data=unsaved, expected_revision=expected_revision)
        expected_revision = job.revision
    else:
        job = Job.objects.get(pk=job.pk)
        if expected_revision is not None and job.revision != expected_revision:
            raise JobConflict(job, job.text_fields())
    try:
        result = optimizer.optimize(job.instructions, trigger=job.trigger)
    except (ValueError, optimizer.OptimizeRefused) as exc:
        raise JobOptimizeRefused(str(exc), job=job) from exc
    if result.already_optimized or result.text == job.instructions:
        return OptimizeResult(job, result)
    job = job_update(
        job=job,
        user=user,
        data={"instructions": result.text},
        expected_revision=job.revision,
        reason=REASON_OPTIMIZED,
    )
    return OptimizeResult(job, result)


def job_can_undo_optimize(job: Job) -> bool:
    """Undo is offered while the newest version is an optimize."""
    latest = job.history.order_by("-history_id").only("history_change_reason").first()
    return latest is not None and latest.history_change_reason == REASON_OPTIMIZED


UNDO_WOULD_DROP_EDITS = (
    "You changed the instructions after optimizing. Save your changes, or reload the page "
    "to discard them, before using Undo."
)


def job_unsaved_fields(job: Job, typed: Mapping[str, str]) -> list[str]:
    """The text fields whose typed value differs from the saved job (as the service would
    store it: line breaks and surrounding spaces do not count)."""
    clean = _normalized(typed)
    return [
        field for field in TEXT_FIELDS if field in clean and clean[field] != getattr(job, field)
    ]


@audit.write_service
def job_undo_optimize(
    *,
    job: Job,
    user: User,
    expected_revision: int | None = None,
    unsaved: Mapping[str, str] | None = None,
) -> Job:
    """Bring back exactly the instructions from before the newest optimize.

    `unsaved` are the editor's current texts. Undo changes the instructions only: it refuses
    when the typed instructions differ from the saved ones (they would be thrown away); the
    other fields are neither checked nor saved here, the editor keeps what was typed in them.
    """
    documents.require_editor(KIND, user, job.workspace)
    current = _lock(job)
    if expected_revision is not None and current.revision != expected_revision:
        # The conflict page shows what the editor held as "your text": nothing typed is lost.
        raise JobConflict(current, {**current.text_fields(), **_normalized(unsaved or {})})
    if "instructions" in job_unsaved_fields(current, unsaved or {}):
        raise ValidationError(UNDO_WOULD_DROP_EDITS)
    latest = current.history.order_by("-history_id").first()
    if latest is None or latest.history_change_reason != REASON_OPTIMIZED:
        raise ValidationError("There is no optimize to undo: the job changed after it.")
    before = (
        current.history.filter(history_id__lt=latest.history_id).order_by("-history_id").first()
    )
    return job_update(
        job=current,
        user=user,
        data={"instructions": before.instructions},
        reason=REASON_UNDO_OPTIMIZE,
    )


# Templates ---------------------------------------------------------------------------------


@audit.write_service
def template_create_from_job(*, job: Job, user: User, name: str = "") -> JobTemplate:
    require_role(user, job.workspace, EDIT, CHANGE_TEMPLATES)
    template = JobTemplate(
        workspace=job.workspace,
        created_by=user,
        **{**job.text_fields(), "name": name.strip() or job.name},
    )
    template.full_clean(exclude=["created_by", "key"])
    template.save()
    _audit_template(user, template, "template.saved", job=job.name)
    return template


def _audit_template(user: User, template: JobTemplate, action: str, **details) -> None:
    audit.record(
        user=user,
        workspace=template.workspace,
        action=action,
        obj=template,
        label=template.name,
        details=details,
    )


@audit.write_service
def template_delete(*, template: JobTemplate, user: User) -> None:
    if template.is_builtin:  # no workspace, so no one's role reaches it
        raise ValidationError("Built-in templates are read-only.")
    require_role(user, template.workspace, EDIT, CHANGE_TEMPLATES)
    _audit_template(user, template, "template.deleted")  # before the delete clears the pk
    template.delete()


# Import / export ---------------------------------------------------------------------------


@dataclass
class ImportResult:
    created: list[str]
    updated: list[str]
    unchanged: list[str]


class JobImportError(ValidationError):
    """A record of an import file is invalid; the message names the record and the field."""


class JobsFileUnreadable(JobImportError):
    """The import file is not JSON (or not UTF-8); the message names the file."""


def job_export(*, workspace: Workspace) -> list[dict[str, str]]:
    jobs = Job.objects.filter(workspace=workspace, deleted_at__isnull=True).order_by("name")
    return [{**job.text_fields(), "revision": job.revision} for job in jobs]


def _record_error(index: int, record, field: str | None, message) -> JobImportError:
    label = f"record {index}"
    if isinstance(record, Mapping) and isinstance(record.get("name"), str):
        label += f" ({record['name'][:40]!r})"
    where = f", field {field!r}" if field else ""
    return JobImportError(f"{label}{where}: {message}")


# Rows per INSERT/UPDATE and names per lookup: few round trips, and under SQLite's 999
# parameters per query.
_IMPORT_BATCH = 900


def _import_check(index: int, record) -> tuple[str, dict[str, str]]:
    """One record's own rules, no query: its lookup key (the lowered name) and clean texts."""
    if not isinstance(record, Mapping):
        raise _record_error(index, record, None, "each record must be an object.")
    unknown = set(record) - {*TEXT_FIELDS, "revision"}
    if unknown:
        raise _record_error(index, record, sorted(map(str, unknown))[0], "unknown field.")
    name = record.get("name")
    if not isinstance(name, str) or not name.strip():
        raise _record_error(index, record, "name", "a name is required.")
    revision = record.get("revision")
    if revision is not None and (isinstance(revision, bool) or not isinstance(revision, int)):
        raise _record_error(index, record, "revision", "must be a whole number.")
    try:
        data = _normalized(record)
    except ValidationError as exc:
        field, messages = next(iter(exc.message_dict.items()))
        raise _record_error(index, record, field, " ".join(messages)) from exc
    return data["name"].lower(), data


def _import_validate(
    index: int, record, texts: Mapping[str, str], context: "_ImportContext"
) -> None:
    """The model's own field rules (limits, required, storable text) and the action markers
    on the texts to be saved.

    bulk_create and bulk_update skip full_clean; these are the same validators, without a
    query but the context's two, once per file.
    """
    for field, model_field in context.fields:
        value = texts[field]
        try:
            check_text(value, "The text")
            model_field.clean(value, None)
        except ValidationError as exc:
            raise _record_error(index, record, field, " ".join(exc.messages)) from exc
    if actions.has_markers(texts["instructions"]):
        problems = actions.find_problems(texts["instructions"], context=context.get())
        if problems:
            message = " ".join(map(str, problems))
            raise _record_error(index, record, "instructions", message)


class _ImportContext:
    """What one import reads or looks up once for every record: the text fields' model fields
    (their validators) and the workspace's action context, read on first use."""

    def __init__(self, workspace: Workspace):
        self.workspace, self.context = workspace, None
        self.fields = [(field, Job._meta.get_field(field)) for field in TEXT_FIELDS]

    def get(self) -> actions.Context:
        if self.context is None:
            self.context = selectors.action_context(workspace=self.workspace)
        return self.context


def _import_lock_existing(workspace: Workspace, keys: list[str]) -> dict[str, Job]:
    """Live jobs of the workspace named in the file, by lowered name, locked in pk order."""
    live = Job.objects.filter(workspace=workspace, deleted_at__isnull=True).annotate(
        key=Lower("name")
    )
    pks = []
    for start in range(0, len(keys), _IMPORT_BATCH):
        chunk = keys[start : start + _IMPORT_BATCH]
        pks += live.filter(key__in=chunk).values_list("pk", flat=True)
    pks.sort()
    # Lock in one global pk order so two imports touching the same jobs cannot deadlock.
    jobs = {}
    for start in range(0, len(pks), _IMPORT_BATCH):
        chunk = pks[start : start + _IMPORT_BATCH]
        for job in live.select_for_update().filter(pk__in=chunk).order_by("pk"):
            jobs[job.key] = job
    if len(jobs) != len(pks) or not set(jobs) <= set(keys):  # changed between the two reads
        raise JobImportError("Jobs changed while importing. Nothing imported; run it again.")
    return jobs


def _bulk_update_texts(jobs: list[Job], *, user: User | None, now) -> None:
    """Write the texts and revisions of many jobs, one UPDATE … FROM (VALUES …) per batch.

    With bulk_update (a CASE WHEN per row and field) re-importing 10,000 jobs took 35 s on
    PostgreSQL; with this, under 4 s. The caller writes the history rows (bulk_history_create)
    in the same transaction, so no change goes unrecorded.
    """
    qn = connection.ops.quote_name
    columns = ["id", *TEXT_FIELDS, "revision"]
    size = min(_IMPORT_BATCH, connection.ops.bulk_batch_size(columns, jobs) or _IMPORT_BATCH)
    assignments = ", ".join(f"{qn(c)} = v.{qn(c)}" for c in columns[1:])
    row = f"({', '.join(['%s'] * len(columns))})"
    with connection.cursor() as cursor:
        for start in range(0, len(jobs), size):
            batch = jobs[start : start + size]
            cursor.execute(
                f"WITH v ({', '.join(map(qn, columns))}) AS (VALUES {', '.join([row] * len(batch))}) "  # noqa: S608 (names are ours)
                f"UPDATE {qn(Job._meta.db_table)} SET {assignments}, "
                f"{qn('updated_by_id')} = %s, {qn('updated_at')} = %s "
                f"FROM v WHERE {qn(Job._meta.db_table)}.{qn('id')} = v.{qn('id')}",
                [
                    value
                    for job in batch
                    for value in (job.pk, *job.text_fields().values(), job.revision)
                ]
                + [user.pk if user else None, connection.ops.adapt_datetimefield_value(now)],
            )


@audit.write_service
def job_import(
    *, workspace: Workspace, user: User, records: Iterable, dry_run: bool = False
) -> ImportResult:
    """Create or update jobs by name, all or nothing. An existing name gets a new version.

    The whole file is checked first (in memory, then one locked read of the jobs it names);
    only then are jobs written in bulk with one attributed history row each, so the number of
    queries does not grow with the number of records.
    """
    require_role(user, workspace, EDIT, "import jobs")
    if not isinstance(records, list):
        raise JobImportError("The file must contain a JSON list of jobs.")
    errors: list[tuple[int, JobImportError]] = []  # every bad record, not only the first
    checked, seen = [], set()
    for index, record in enumerate(records, start=1):
        try:
            key, data = _import_check(index, record)
            if key in seen:
                raise _record_error(index, record, "name", "the file names this job twice.")
        except JobImportError as exc:
            errors.append((index, exc))
            continue
        seen.add(key)
        checked.append((index, record, key, data))

    existing = _import_lock_existing(workspace, [key for _, _, key, _ in checked])
    context = _ImportContext(workspace)
    result = ImportResult([], [], [])
    new_texts, to_update = [], []
    now = timezone.now()
    for index, record, key, data in checked:
        try:
            job = existing.get(key)
            if job is None:
                texts = {field: data.get(field, "") for field in TEXT_FIELDS}
                _import_validate(index, record, texts, context)
                new_texts.append(texts)
                result.created.append(data["name"])
                continue
            expected = record.get("revision")
            if expected is not None and expected != job.revision:
                raise _record_error(
                    index, record, "revision", "the job changed since this file was exported."
                )
            if all(getattr(job, field) == value for field, value in data.items()):
                result.unchanged.append(data["name"])  # nothing changed: no new version
                continue
            _import_validate(index, record, {**job.text_fields(), **data}, context)
        except JobImportError as exc:
            errors.append((index, exc))
            continue
        for field, value in data.items():
            setattr(job, field, value)
        job.revision += 1
        job.updated_by, job.updated_at = user, now
        to_update.append(job)
        result.updated.append(data["name"])
    if errors:
        # Before any write: the whole file is refused, every bad record named in file order.
        raise _import_errors(sorted(errors, key=lambda error: error[0]))

    if dry_run:
        return result
    # Built only now: a bad record anywhere is refused before this (costly) step.
    to_create = [
        Job(workspace=workspace, created_by=user, updated_by=user, **texts) for texts in new_texts
    ]
    history = {
        "default_user": user,
        "default_change_reason": documents.REASON_IMPORTED,
        "default_date": now,
    }
    try:
        with transaction.atomic():
            _bulk_update_texts(to_update, user=user, now=now)
            Job.history.bulk_history_create(
                to_update, batch_size=_IMPORT_BATCH, update=True, **history
            )
            bulk_create_with_history(to_create, Job, batch_size=_IMPORT_BATCH, **history)
    except IntegrityError as exc:
        # Only a job created concurrently under one of the new names gets here.
        raise JobImportError(f"{NAME_TAKEN} Nothing imported; run it again.") from exc
    if to_update:
        # Created jobs are in no call flow yet; updated ones may be live.
        job_changed.send(sender=Job, job_ids=[job.pk for job in to_update])
    _audit_import(user, workspace, result)
    return result


_IMPORT_ERRORS_SHOWN = 20  # a file bad throughout is refused with a readable message


def _import_errors(errors: list[tuple[int, JobImportError]]) -> JobImportError:
    messages = [message for _, exc in errors[:_IMPORT_ERRORS_SHOWN] for message in exc.messages]
    if len(errors) > _IMPORT_ERRORS_SHOWN:
        messages.append(f"… and {len(errors) - _IMPORT_ERRORS_SHOWN:,} more bad records.")
    return JobImportError(messages)


_IMPORT_NAMES_KEPT = 50  # per list: an event of a 10,000-job import stays small


def _audit_import(user: User, workspace: Workspace, result: ImportResult) -> None:
    """One event for the whole file, not one per job."""
    lists = {"created": result.created, "updated": result.updated}
    label = f"{len(result.created)} created, {len(result.updated)} updated"
    counts = {key: len(names) for key, names in lists.items()}
    names = {f"{key}_names": names[:_IMPORT_NAMES_KEPT] for key, names in lists.items()}
    documents.record_import(
        KIND, user, workspace, label, **counts, unchanged=len(result.unchanged), **names
    )


# Large files in the background (jobs/tasks.py) ---------------------------------------------


def job_records(data: bytes, label: str = "The file") -> list:
    """The records of a jobs file (JSON), or a ValidationError saying what is wrong with it:
    JobsFileUnreadable naming `label` when it is not JSON."""
    try:
        records = parse_json(data, label)
    except ValidationError as exc:
        raise JobsFileUnreadable(exc.messages[0]) from None
    check_data(records, "The file")
    return records


@audit.write_service
def job_import_start(*, workspace: Workspace, user: User, name: str, data: bytes) -> ImportRun:
    """Queue a jobs file (its bytes, kept in the database for the worker) as a run a worker
    imports with job_import; the run records the counts or the error."""
    require_role(user, workspace, EDIT, "import jobs")
    run = import_run_create(
        workspace=workspace, user=user, kind=ImportRun.Kind.JOBS, files=[(name, data)]
    )
    from . import tasks  # tasks call services

    import_run_enqueue(run, tasks.import_jobs)
    return run


def job_import_run(*, run_id: int) -> ImportRun | None:
    """Do a queued jobs import as the person who started it (jobs/tasks.py)."""

    def prepare(run: ImportRun, deadline: Deadline) -> list:
        file = run.files.get()
        return job_records(bytes(file.data), file.name)

    def commit(run: ImportRun, records: list) -> RunResult:
        result = job_import(workspace=run.workspace, user=run.created_by, records=records)
        return RunResult(
            created=len(result.created),
            updated=len(result.updated),
            summary=f"created {len(result.created)}, updated {len(result.updated)}, "
            f"left {len(result.unchanged)} unchanged.",
        )

    return import_run_execute(run_id, prepare=prepare, commit=commit)
