"""R11.1: each manager reads the back-office in their language; pages without a login follow
the browser; the choice is remembered on the account."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import translation

from crm.languages import in_language_of, manager_language
from crm.models import Channel, ManagerSettings

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("korean")]

CONTACTS = reverse("admin:crm_customer_changelist")
LOGIN = reverse("admin:login")


def logged_in(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_r11_1_a_korean_channels_manager_reads_korean_by_default(
    owner: Any, channel: Channel
) -> None:
    response = logged_in(owner).get(CONTACTS)
    assert response["Content-Language"] == "ko"
    page = response.content.decode()
    assert "로그아웃" in page  # Django's own Korean, in the user tools
    assert "알림함" in page
    assert "Log out" not in page


def test_r11_1_a_managers_own_choice_wins_over_the_channel_and_the_browser(
    owner: Any, channel: Channel
) -> None:
    client = logged_in(owner)
    response = client.post(reverse("language"), {"language": "en", "next": CONTACTS})
    assert response.status_code == 302 and response["Location"] == CONTACTS
    assert ManagerSettings.objects.get(user=owner).language == "en"
    page = client.get(CONTACTS, HTTP_ACCEPT_LANGUAGE="ko").content.decode()
    assert "Log out" in page and "로그아웃" not in page
    # Another device (a new session, no cookie) follows the account.
    assert "Log out" in logged_in(owner).get(CONTACTS).content.decode()


def test_r11_1_an_unknown_language_is_refused_and_nothing_is_saved(
    owner: Any, channel: Channel
) -> None:
    response = logged_in(owner).post(reverse("language"), {"language": "fr"})
    assert response.status_code == 400
    assert not ManagerSettings.objects.filter(user=owner).exists()


@pytest.mark.parametrize(
    ("accept", "expected", "absent"),
    [
        ("ko-KR,ko;q=0.9", "로그인", "Log in"),
        ("en-US,en;q=0.9", "Log in", "로그인"),
        ("", "로그인", "Log in"),
    ],
)
def test_r11_1_the_login_page_follows_the_browser_korean_without_one(
    db: None, accept: str, expected: str, absent: str
) -> None:
    page = Client().get(LOGIN, HTTP_ACCEPT_LANGUAGE=accept).content.decode()
    assert expected in page and absent not in page


def test_r11_1_a_visitor_switches_language_with_a_cookie(db: None) -> None:
    client = Client()
    client.post(reverse("language"), {"language": "en", "next": LOGIN})
    assert "Log in" in client.get(LOGIN, HTTP_ACCEPT_LANGUAGE="ko").content.decode()


def test_r11_1_background_work_runs_in_the_language_of_its_manager(
    owner: Any, channel: Channel, settings: Any
) -> None:
    assert manager_language(owner) == "ko"
    with in_language_of(owner):
        assert translation.gettext("Inbox") == "알림함"
    ManagerSettings.objects.create(user=owner, language="en")
    with in_language_of(owner):
        assert translation.gettext("Inbox") == "Inbox"
    settings.LANGUAGE_BY_COUNTRY = {}  # a channel whose country has no language of its own
    ManagerSettings.objects.filter(user=owner).update(language="")
    assert manager_language(owner) is None


def test_r11_1_a_manager_of_a_channel_abroad_reads_the_browsers_language(
    owner: Any, channel: Channel
) -> None:
    Channel.objects.filter(pk=channel.pk).update(country="US")
    client = logged_in(owner)
    assert "Log out" in client.get(CONTACTS, HTTP_ACCEPT_LANGUAGE="en-US").content.decode()
    assert "로그아웃" in client.get(CONTACTS, HTTP_ACCEPT_LANGUAGE="ko").content.decode()


def test_r11_3_the_open_api_answers_in_english_whatever_the_browser_says(
    channel: Channel,
) -> None:
    response = Client().get("/open/v5/users", HTTP_ACCEPT_LANGUAGE="ko")
    assert response.status_code == 401
    assert response["Content-Language"] == "en"
    body = response.content.decode()
    assert not any("\uac00" <= ch <= "\ud7a3" for ch in body)  # no Hangul
