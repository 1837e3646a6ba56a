"""Knowledge in a real browser: upload a file, attach the page to a Sona step, publish, and
see it in the live API. Names used: link "Knowledge", "Upload files" (link and button), field
"Files", buttons "Attach <title>", "Publish"."""

import json

from playwright.sync_api import expect

from callflows import services
from knowledge.models import KnowledgePage
from workspaces.services import api_token_create


def test_upload_attach_publish_and_see_it_live(
    logged_in_page, live_server, owner_membership, tmp_path
):
    page = logged_in_page
    user, workspace = owner_membership.user, owner_membership.workspace
    phone = services.phone_number_create(
        workspace=workspace, number="+15550100199", display_name="Support line", user=user
    )
    file = tmp_path / "opening-hours.md"
    file.write_text("# Opening hours\n\nMonday to Friday, 9:00 to 17:00.", encoding="utf-8")

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Knowledge").click()
    page.get_by_role("link", name="Upload files", exact=True).click()
    page.get_by_label("Files").set_input_files(str(file))
    page.get_by_role("button", name="Upload files", exact=True).click()
    expect(page.get_by_role("heading", name="opening hours", level=1)).to_be_visible()
    knowledge_page = KnowledgePage.objects.get(workspace=workspace)

    # Attach it from the step's knowledge panel (htmx: no reload).
    step = phone.call_flow.steps.get()
    page.goto(f"{live_server.url}/numbers/{phone.pk}/steps/{step.pk}/knowledge/")
    page.get_by_role("button", name="Attach opening hours", exact=True).click()
    expect(page.get_by_text("1 / 20 pages attached", exact=True)).to_be_visible()
    expect(page.get_by_role("button", name="Detach opening hours", exact=True)).to_be_visible()

    # Publish: the preview lists the knowledge change.
    page.goto(f"{live_server.url}/numbers/{phone.pk}/publish/")
    item = page.get_by_role("listitem").filter(has_text="Knowledge attached to “Sona”")
    expect(item).to_contain_text("opening hours")
    page.get_by_role("button", name="Publish", exact=True).click()
    expect(
        page.get_by_role("heading", name="Published versions of Support line", level=1)
    ).to_be_visible()

    # The live API serves the page's current text.
    token = api_token_create(workspace=workspace, name="rt", user=user).raw
    response = page.request.get(
        f"{live_server.url}/api/v1/numbers/{phone.number}/live",
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status == 200
    knowledge = json.loads(response.text())["steps"][0]["knowledge"]
    assert knowledge == [
        {
            "id": knowledge_page.pk,
            "title": "opening hours",
            "body": "# Opening hours\n\nMonday to Friday, 9:00 to 17:00.",
        }
    ]
