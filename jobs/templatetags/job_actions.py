from django import template

from .. import selectors
from ..actions import SMS_MAX

register = template.Library()


@register.inclusion_tag("jobs/_insert_action.html", takes_context=True)
def insert_action(context, textarea_id="id_instructions"):
    """The editor's "Insert action" controls; static/js/app.js writes the marker."""
    workspace = context["request"].workspace
    return {
        "targets": selectors.action_targets(workspace=workspace),
        "textarea_id": textarea_id,
        "sms_max": SMS_MAX,
    }
