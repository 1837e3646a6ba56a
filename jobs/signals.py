from django.dispatch import Signal

# Sent inside the delete transaction before a job is deleted (kwargs: job, user).
# A receiver raises ValidationError to refuse the delete; callflows uses it so that
# jobs never imports callflows.
job_deleting = Signal()
# Sent inside the writing transaction after jobs' texts changed, or jobs were deleted or
# restored (kwargs: job_ids).
job_changed = Signal()
# Sent to learn a workspace's phone numbers, which action markers may name (kwargs:
# workspace); receivers return an iterable of E.164 numbers. callflows answers it.
workspace_numbers = Signal()
# Sent to offer a workspace's numbers in the editor's "Insert action" (kwargs: workspace);
# receivers return (E.164 number, display name) pairs. callflows answers it.
workspace_number_names = Signal()
