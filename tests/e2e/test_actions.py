"""Insert action in the job editor, in a real browser. Accessible names are a contract:
button "Insert action", "Send SMS", "Transfer call"; fields "Message", "Transfer to"."""

import json

from playwright.sync_api import expect

from callflows import services as callflow_services
from jobs import services
from jobs.models import Job
from tests.factories import MembershipFactory
from workspaces.models import Role
from workspaces.services import api_token_create


def test_insert_a_transfer_then_a_wrong_target_is_refused(
    logged_in_page, live_server, owner_membership
):
    workspace = owner_membership.workspace
    MembershipFactory(workspace=workspace, role=Role.MEMBER, user__email="rosa@example.test")
    job = services.job_create(
        workspace=workspace,
        user=owner_membership.user,
        data={"name": "Escalate", "instructions": "1. Apologise.\n2. Hand over."},
    )
    page = logged_in_page
    page.goto(f"{live_server.url}/jobs/{job.pk}/edit/")
    instructions = page.get_by_label("Instructions", exact=True)
    instructions.click()
    instructions.press("ControlOrMeta+End")
    instructions.press_sequentially(" ")

    page.get_by_role("button", name="Insert action").click()
    page.get_by_label("Transfer to").select_option("member rosa@example.test")
    page.get_by_label("What Sona says first (optional)").fill("Let me get Rosa")
    page.get_by_role("button", name="Transfer call").click()
    marker = "[[Transfer call: member rosa@example.test | say: Let me get Rosa]]"
    expect(instructions).to_have_value(f"1. Apologise.\n2. Hand over. {marker}")

    page.get_by_label("Message").fill("Thanks for calling!")
    page.get_by_label("What Sona says as it sends (optional)").fill("I'll text you the details")
    page.get_by_role("button", name="Send SMS").click()
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("heading", name="Escalate", level=1)).to_be_visible()
    saved = Job.objects.get(pk=job.pk).instructions
    sms = "[[Send SMS: Thanks for calling! | say: I'll text you the details]]"
    assert saved == f"1. Apologise.\n2. Hand over. {marker}{sms}"

    # Edit the email to a non-member: refused, quoting the marker; nothing saved.
    page.goto(f"{live_server.url}/jobs/{job.pk}/edit/")
    instructions = page.get_by_label("Instructions", exact=True)
    instructions.fill(saved.replace("rosa@", "nobody@"))
    page.get_by_role("button", name="Save").click()
    expect(
        page.get_by_role("alert").filter(has_text="no member of this workspace")
    ).to_contain_text("[[Transfer call: member nobody@example.test | say: Let me get Rosa]]")
    assert Job.objects.get(pk=job.pk).instructions == saved

    # Publish a step with the job (number registered for SMS): the live API serves the actions.
    user = owner_membership.user
    phone = callflow_services.phone_number_create(
        workspace=workspace, number="+15550100198", display_name="Front desk", user=user
    )
    callflow_services.phone_number_set_sms_registered(
        phone_number=phone, registered=True, user=user
    )
    callflow_services.step_attach_job(step=phone.call_flow.steps.get(), job=job, user=user)
    page.goto(f"{live_server.url}/numbers/{phone.pk}/publish/")
    page.get_by_role("button", name="Publish", exact=True).click()
    expect(page.get_by_role("heading", name="Published versions of Front desk")).to_be_visible()
    token = api_token_create(workspace=workspace, name="rt", user=user).raw
    response = page.request.get(
        f"{live_server.url}/api/v1/numbers/{phone.number}/live",
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status == 200
    (served,) = json.loads(response.text())["steps"][0]["jobs"]
    assert served["actions"] == [
        {
            "type": "transfer_call",
            "to": "member",
            "member": "rosa@example.test",
            "number": None,
            "say": "Let me get Rosa",
        },
        {"type": "send_sms", "message": "Thanks for calling!", "say": "I'll text you the details"},
    ]
