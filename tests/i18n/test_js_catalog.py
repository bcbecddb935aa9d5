"""R11.1 for the import wizard's script: its text comes from the JavaScript catalog (djangojs
domain, served by Django's JavaScriptCatalog at /jsi18n/) in the reader's language."""

from __future__ import annotations

import json
import re
from typing import Any

import polib
import pytest
from django.test import Client
from django.urls import reverse

from crm.models import Channel, ManagerSettings
from tests.i18n import scan

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("korean")]

WIZARD_JS = scan.ROOT / "importer/static/importer/wizard.js"
KOREAN_JS = scan.ROOT / "locale/ko/LC_MESSAGES/djangojs.po"
DUPLICATE = "%(key)s is also used by %(columns)s: a profile key may be used by one column only."


def escaped(text: str) -> str:
    """As the catalog writes a string: JSON, non-ASCII escaped."""
    return json.dumps(text)[1:-1]


def catalog(user: Any) -> str:
    client = Client()
    client.force_login(user)
    response = client.get(reverse("javascript-catalog"))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/javascript")
    return response.content.decode()


def test_r11_1_the_catalog_view_serves_the_wizards_korean(owner: Any, channel: Channel) -> None:
    script = catalog(owner)
    for korean in ("열에도 쓰이고 있습니다", "가져오지 않음", "(식별 키)", "만드는 중…"):
        assert escaped(korean) in script
    assert escaped("%(count)s바이트") in script  # the plural, one form in Korean


def test_r11_1_a_manager_who_chose_english_gets_no_korean(owner: Any, channel: Channel) -> None:
    ManagerSettings.objects.create(user=owner, language="en")
    script = catalog(owner)
    assert escaped("가져오지 않음") not in script and "\\u" not in script


def test_r11_1_the_wizard_page_loads_the_catalog_before_its_script(
    owner: Any, channel: Channel
) -> None:
    client = Client()
    client.force_login(owner)
    html = client.get(reverse("importer:start", args=[channel.slug])).content.decode()
    catalog_at = html.index(f'src="{reverse("javascript-catalog")}"')
    assert catalog_at < html.index("importer/wizard.js")


def test_r11_1_every_text_of_the_wizards_script_is_translated() -> None:
    """Each gettext/ngettext of wizard.js has Korean, and no sentence is left outside them."""
    source = WIZARD_JS.read_text(encoding="utf-8")
    marked = set(re.findall(r'gettext\("((?:[^"\\]|\\.)*)"', source))
    assert DUPLICATE in marked
    korean = {e.msgid: e for e in polib.pofile(str(KOREAN_JS))}
    assert not [m for m in marked if m not in korean or not korean[m].translated()]
    # A sentence in quotes outside a gettext call: text a manager would read in English.
    unmarked = [
        text
        for text in re.findall(r'(?<!gettext\()"([A-Z][a-z]+ [^"]*)"', source)
        if text not in marked
    ]
    assert not unmarked
