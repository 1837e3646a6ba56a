"""The "N new calls" poll (calls.views.new_calls) on the Calls page and the home page: real
calls of the workspace newer than the cursor of the newest call the page showed, capped, one
query whatever the number of calls; a forged cursor is a clear 400."""

import re
from datetime import timedelta
from html import unescape

import pytest
from django.urls import reverse
from django.utils import timezone

from calls.models import Source
from calls.selectors.log import NEW_CALLS_CAP, cursor_decode, cursor_encode
from tests.factories import CallFactory, PhoneNumberFactory

pytestmark = pytest.mark.django_db

URL = reverse("calls:new_calls")
HX = {"HTTP_HX_REQUEST": "true"}  # poll.js asks through htmx


def _since(text: str) -> str:
    """The cursor the page's poller sends."""
    match = re.search(r'hx-get="[^"]*\?since=([^"]*)"', text)
    assert match, "no poller on the page"
    from urllib.parse import unquote

    return unquote(unescape(match.group(1)))


@pytest.fixture
def number(workspace):
    return PhoneNumberFactory(workspace=workspace)


def test_nothing_new_is_an_empty_answer(owner_client, number):
    call = CallFactory(phone_number=number)
    response = owner_client.get(URL, {"since": cursor_encode(call)}, **HX)
    assert response.status_code == 200 and "new call" not in response.text


def test_counts_real_calls_newer_than_the_cursor(owner_client, number, other_workspace):
    now = timezone.now()
    shown = CallFactory(phone_number=number, started_at=now - timedelta(minutes=5))
    CallFactory(phone_number=number, started_at=now - timedelta(minutes=9))  # older
    CallFactory(phone_number=number, started_at=now)
    CallFactory(phone_number=number, started_at=now, source=Source.MOCK)  # not real
    CallFactory(phone_number=PhoneNumberFactory(workspace=other_workspace), started_at=now)
    text = owner_client.get(URL, {"since": cursor_encode(shown)}, **HX).text
    assert "1 new call — show it" in text
    assert f'href="{reverse("calls:list")}"' in text
    # Same instant, higher id: newer by the (started_at, id) cursor.
    CallFactory(phone_number=number, started_at=shown.started_at)
    assert (
        "2 new calls — show them"
        in owner_client.get(URL, {"since": cursor_encode(shown)}, **HX).text
    )


def test_an_empty_cursor_counts_every_real_call(owner_client, number):
    CallFactory(phone_number=number)
    assert "1 new call" in owner_client.get(URL, {"since": ""}, **HX).text


def test_the_count_is_capped(owner_client, number):
    shown = CallFactory(phone_number=number, started_at=timezone.now() - timedelta(hours=1))
    CallFactory.create_batch(NEW_CALLS_CAP + 3, phone_number=number)
    text = owner_client.get(URL, {"since": cursor_encode(shown)}, **HX).text
    assert f"{NEW_CALLS_CAP}+ new calls" in text


@pytest.mark.parametrize("since", ["nonsense", "W10:1:abc", cursor_encode.__name__])
def test_a_bad_cursor_is_a_clear_400(owner_client, since):
    response = owner_client.get(URL, {"since": since}, **HX)
    assert response.status_code == 400
    assert "not valid" in response.text


@pytest.mark.parametrize("n", [3, 60])
def test_one_query_at_any_size(client, owner, number, django_assert_num_queries, n):
    shown = CallFactory(phone_number=number, started_at=timezone.now() - timedelta(hours=1))
    CallFactory.create_batch(n, phone_number=number)
    client.force_login(owner)
    client.get(URL, {"since": cursor_encode(shown)}, **HX)
    # session, user, membership (middleware) and the count
    with django_assert_num_queries(4):
        client.get(URL, {"since": cursor_encode(shown)}, **HX)


def test_anonymous_and_no_workspace(client):
    response = client.get(URL)
    assert response.status_code == 302


def test_opened_as_a_page_it_is_the_calls_list(owner_client):
    response = owner_client.get(URL)
    assert (response.status_code, response["Location"]) == (302, reverse("calls:list"))


def test_the_calls_page_polls_from_its_newest_call(owner_client, number):
    now = timezone.now()
    CallFactory(phone_number=number, started_at=now - timedelta(minutes=3))
    newest = CallFactory(phone_number=number, started_at=now)
    text = owner_client.get(reverse("calls:list")).text
    assert 'hx-trigger="poll"' in text and 'data-poll-seconds="15"' in text
    assert cursor_decode(_since(text)) == (newest.started_at, newest.pk)  # signed with a time
    # Not on a filtered page, nor on an older page.
    assert (
        "data-poll-seconds" not in owner_client.get(reverse("calls:list") + "?outcome=failed").text
    )
    older = owner_client.get(reverse("calls:list"), {"after": cursor_encode(newest)}).text
    assert "data-poll-seconds" not in older


def test_the_home_page_polls_from_the_newest_real_call(owner_client, number):
    now = timezone.now()
    newest = CallFactory(phone_number=number, started_at=now - timedelta(minutes=1))
    CallFactory(phone_number=number, started_at=now, source=Source.MOCK)
    text = owner_client.get(reverse("home")).text
    assert cursor_decode(_since(text)) == (newest.started_at, newest.pk)  # signed with a time
    CallFactory(phone_number=number, started_at=now)
    assert "1 new call" in owner_client.get(URL, {"since": _since(text)}, **HX).text
