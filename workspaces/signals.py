from django.dispatch import Signal

# Sent inside membership_remove's transaction before the membership is deleted (kwargs:
# membership). A receiver raises ValidationError to refuse; jobs uses it (a job's transfer
# may name the member) so that workspaces never imports jobs.
member_removing = Signal()
