"""Every write to phone numbers, call flows, steps, attachments and versions, by topic:

- `numbers`: add, rename, delete, restore and purge phone numbers;
- `steps`: the draft's steps (add, change, move, remove) and the draft's row lock;
- `attach`: jobs and knowledge pages on a Sona step (the 10-jobs and 20-pages rules);
- `publish`: publish and rollback (immutable versions), and which live versions use a job or page.

Callers import the services from here (`from callflows import services`); every public name of
the modules is re-exported below. A test that replaces a name a service calls patches it in the
module that looks it up.
"""

from .attach import (
    KNOWLEDGE_NOT_SONA,
    NOT_SONA,
    TOO_MANY_JOBS,
    TOO_MUCH_KNOWLEDGE,
    AttachCheck,
    CreatedJob,
    detach_deleted_job,
    detach_deleted_page,
    step_attach_job,
    step_attach_knowledge,
    step_can_attach,
    step_can_attach_knowledge,
    step_create_job,
    step_detach_job,
    step_detach_knowledge,
    step_move_job,
    step_move_knowledge,
)
from .numbers import (
    CHANGE_NUMBERS,
    normalize_number,
    phone_number_create,
    phone_number_delete,
    phone_number_purge_deleted,
    phone_number_rename,
    phone_number_restore,
    phone_number_set_sms_registered,
    phone_number_validate,
)
from .publish import (
    NOTHING_TO_PUBLISH,
    PUBLISH_REFUSAL,
    RESTORE_REFUSAL,
    callflow_publish,
    callflow_rollback,
    numbers_using_job_live,
    numbers_using_page_live,
)
from .steps import DELETED_NUMBER, EDIT_FLOWS, step_add, step_move, step_remove, step_update

__all__ = [
    "AttachCheck",
    "CHANGE_NUMBERS",
    "CreatedJob",
    "DELETED_NUMBER",
    "EDIT_FLOWS",
    "KNOWLEDGE_NOT_SONA",
    "NOTHING_TO_PUBLISH",
    "NOT_SONA",
    "PUBLISH_REFUSAL",
    "RESTORE_REFUSAL",
    "TOO_MANY_JOBS",
    "TOO_MUCH_KNOWLEDGE",
    "callflow_publish",
    "callflow_rollback",
    "detach_deleted_job",
    "detach_deleted_page",
    "normalize_number",
    "numbers_using_job_live",
    "numbers_using_page_live",
    "phone_number_create",
    "phone_number_delete",
    "phone_number_purge_deleted",
    "phone_number_rename",
    "phone_number_restore",
    "phone_number_set_sms_registered",
    "phone_number_validate",
    "step_add",
    "step_attach_job",
    "step_attach_knowledge",
    "step_can_attach",
    "step_can_attach_knowledge",
    "step_create_job",
    "step_detach_job",
    "step_detach_knowledge",
    "step_move",
    "step_move_job",
    "step_move_knowledge",
    "step_remove",
    "step_update",
]
