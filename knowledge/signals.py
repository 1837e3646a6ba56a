from django.dispatch import Signal

# Sent inside the delete transaction before a page is deleted (kwargs: page, user). A receiver
# raises ValidationError to refuse, or returns notices (sentences) about what it changed;
# callflows uses it so that knowledge never imports callflows.
page_deleting = Signal()
# Sent inside the writing transaction after pages' texts changed, or pages were deleted or
# restored (kwargs: page_ids).
page_changed = Signal()
