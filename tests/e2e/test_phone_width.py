"""Every page of the app (not the admin) at a phone's size, 390x844: none is wider than the
window (`document.documentElement.scrollWidth <= window.innerWidth`), logged out (log in, sign
up, password reset, an invitation…) and as an owner of `world` (tests/test_roles.py), with a few
calls and long unbroken words (a URL as a page title, a one-word job name) that must wrap.

A failure lists every page that is too wide, with the elements sticking out past the window."""

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from calls.models import Outcome, Source
from jobs import services as js
from knowledge import services as ks
from tests.e2e.conftest import expect_console_error, login
from tests.factories import CallFactory
from tests.pages import app_urls
from tests.test_roles import world  # noqa: F401  (one of everything behind the pages)

PHONE = {"width": 390, "height": 844}
LONG_WORD = "Reschedule-or-cancel-any-appointment-at-any-of-our-clinics-nationwide"
LONG_URL = "https://www.example-dental.test/services/emergency-appointments-and-fees?lang=en"

# The elements whose right edge is past the window, outermost first (their children are left
# out), as "tag#id.class (width px)".
CULPRITS = """
() => {
  const limit = window.innerWidth;
  const found = [];
  for (const el of document.body.querySelectorAll("*")) {
    const box = el.getBoundingClientRect();
    if (box.right <= limit + 0.5 || box.width === 0) continue;
    if (found.some((outer) => outer.contains(el))) continue;
    let clipped = false;  // inside a box that scrolls or clips, itself within the window
    for (let up = el.parentElement; up && up !== document.body; up = up.parentElement) {
      if (getComputedStyle(up).overflowX !== "visible" && up.getBoundingClientRect().right <= limit + 0.5) {
        clipped = true;
        break;
      }
    }
    if (clipped) continue;
    found.push(el);
  }
  return found.slice(0, 6).map((el) => {
    const id = el.id ? "#" + el.id : "";
    const cls = el.classList.length ? "." + [...el.classList].join(".") : "";
    return `${el.tagName.toLowerCase()}${id}${cls} (${Math.round(el.getBoundingClientRect().width)}px)`;
  });
}
"""


def too_wide(page, url: str) -> str | None:
    """Load `url` if it answers a page, an error page included (a redirect, a POST-only URL and
    an API's answer are skipped: None); "" when it fits the window, else how much wider it is and
    why."""
    head = page.request.get(url, max_redirects=0)
    html = "text/html" in head.headers.get("content-type", "") and head.body()
    if 300 <= head.status < 400 or not html:
        return None
    page.goto(url, wait_until="load")
    # What a tap would show counts too: every disclosure (<details>) open.
    page.evaluate("document.querySelectorAll('details').forEach((d) => { d.open = true; })")
    wider = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    if wider <= 0:
        return ""
    return f"{wider}px wider: {', '.join(page.evaluate(CULPRITS))}"


def check_all(page, urls: list[str]) -> tuple[dict[str, str], int]:
    """({url: why} of the pages wider than the window, how many pages were loaded)."""
    # Error pages are pages too (a link that expired, a page not found): their status is logged.
    expect_console_error(page, r"status of 40[0-9] \(")
    seen = {url: too_wide(page, url) for url in urls}
    loaded = [url for url, why in seen.items() if why is not None]
    return {url: why for url, why in seen.items() if why}, len(loaded)


def report(wide: dict[str, str]) -> str:
    return f"{len(wide)} page(s) scroll sideways at 390px:\n" + "\n".join(
        f"  {url}: {why}" for url, why in wide.items()
    )


@pytest.fixture
def long_words(request):
    """`world` with calls (real and mock, long summaries) and words too long for a phone's
    line: a job named with one long word, a page titled with a URL."""
    w = request.getfixturevalue("world")
    long_job = js.job_create(
        workspace=w.workspace,
        user=w.owner,
        data={"name": LONG_WORD, "instructions": f"Read {LONG_URL} to the caller."},
    )
    ks.knowledge_page_create(
        workspace=w.workspace, user=w.owner, title=LONG_URL, body=f"See {LONG_URL}."
    )
    now = timezone.now()
    for hours, (job, outcome, source) in enumerate(
        [
            (long_job, Outcome.MESSAGE_TAKEN, Source.LIVE),
            (w.job, Outcome.NO_JOB_MATCHED, Source.LIVE),
            (w.job, Outcome.TRANSFERRED, Source.MOCK),
        ],
        start=1,
    ):
        CallFactory(
            phone_number=w.phone,
            caller="+15555550199",
            started_at=now - timedelta(hours=hours),
            ended_at=now - timedelta(hours=hours) + timedelta(minutes=3),
            step_key=w.sona.key,
            step_name=w.sona.name,
            job=job,
            job_name=job.name,
            outcome=outcome,
            source=source,
            summary=f"The caller asked about fees; Sona read {LONG_URL} and took a message.",
            transcript=f"Caller: What are your fees?\nSona: They are at {LONG_URL}.",
        )
    return w


def test_logged_out_pages_fit_a_phone(page, live_server, workspace, long_words):
    page.set_viewport_size(PHONE)
    # Logged out, only the pages that answer without a login are loaded (the others redirect).
    urls = app_urls(workspace, long_words)
    invited = [m for m in mail.outbox if "pending@example.test" in m.to][-1]
    urls.append(re.search(r"/invitations/[^/\s]+/", invited.body).group(0))
    wide, loaded = check_all(page, [live_server.url + url for url in urls])
    assert wide == {}, report(wide)
    assert loaded >= 8  # log in, sign up, resend, password reset and done, an invitation…


def test_every_page_fits_a_phone_as_an_owner(page, live_server, workspace, long_words):
    w = long_words
    page.set_viewport_size(PHONE)
    login(page, live_server, w.owner.email)
    urls = app_urls(workspace, w)
    # States of pages the URL configuration does not name: a step's settings beside the
    # diagram, Compare of two versions.
    urls += [
        f"/numbers/{w.phone.pk}/?step={w.sona.pk}",
        f"/numbers/{w.phone.pk}/?step={w.greeting.pk}",
    ]
    wide, loaded = check_all(page, [live_server.url + url for url in urls])
    assert wide == {}, report(wide)
    assert loaded > 40  # pages really loaded
