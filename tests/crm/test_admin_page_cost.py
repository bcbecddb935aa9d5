"""What the contacts page costs besides its own query (issue 15), with what the manager sees
unchanged: rows written by ``crm.admin.rows`` exactly as Django's admin writes them, the
checkbox of each row as Django renders it, every channel grant read in one query, and a page
whose number of queries does not grow with its rows (R1.4: fast at 1,000,000 customers)."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib import admin
from django.contrib.admin import ModelAdmin
from django.contrib.admin.templatetags.admin_list import items_for_result, results
from django.contrib.auth.models import Group
from django.db import connection
from django.forms.renderers import DjangoTemplates, get_default_renderer
from django.test import Client, RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import resolve, reverse
from django.utils import translation
from guardian.shortcuts import assign_perm

from crm.admin.rows import fast_results
from crm.admin.widget_html import WIDGET_HTML
from crm.models import Channel, Customer, ImportTag, Tag
from crm.selectors import channel_grants, channels_for_user
from crm.services.customers import customer_update, lead_add
from tests.conftest import make_user

LIST = reverse("admin:crm_customer_changelist")
PERMS = (
    "view_customers",
    "change_customers",
    "block_customers",
    "delete_customers",
    "import_customers",
    "manage_managers",
    "manage_profile_keys",
)


def _changelist(user: Any, **params: str) -> Any:
    request = RequestFactory().get(LIST, params)
    request.user = user
    request.resolver_match = resolve(LIST)
    request.session = {}  # type: ignore[assignment]
    model_admin = admin.site._registry[Customer]
    cl = model_admin.get_changelist_instance(request)
    cl.formset = None  # as changelist_view sets it for a list without list_editable
    return cl


@pytest.fixture
def varied(channel: Channel) -> list[Customer]:
    """Customers whose cells take every path: no name, a blank name, markup in a name, no email,
    a member, a foreign mobile, no mobile, verified or not (the yes/no icons)."""
    made = [
        lead_add(channel=channel, name="김민준", email="kim@example.com").customer,
        lead_add(channel=channel, name="", email="noname@example.com").customer,
        lead_add(channel=channel, name='<b>Tom & "Jerry"</b>', email="tj@example.com").customer,
        lead_add(channel=channel, name="Alice", mobile_number="+821055556666").customer,
        lead_add(channel=channel, name="Yuki", mobile_number="+819012345678").customer,
    ]
    customer_update(channel=channel, customer=made[0], values={"memberId": "M-<1>"})
    Customer.objects.filter(pk=made[1].pk).update(name="   ")
    Customer.objects.filter(pk__in=[made[2].pk, made[4].pk]).update(verified=False)
    return made


@pytest.mark.parametrize("language", ["en", "ko"])
def test_r1_4_rows_are_written_exactly_as_django_writes_them(
    owner: Any, varied: list[Customer], language: str
) -> None:
    with translation.override(language):
        cl = _changelist(owner, q="")
        assert len(cl.result_list) == len(varied)
        ours = [list(row) for row in fast_results(cl)]
        django = [list(row) for row in results(cl)]
        assert ours == django
        assert any("&lt;b&gt;Tom &amp; &quot;Jerry&quot;&lt;/b&gt;" in cell for cell in ours[2])
        assert {"icon-yes.svg", "icon-no.svg"} <= {
            icon
            for row in ours
            for cell in row
            for icon in ("icon-yes.svg", "icon-no.svg")
            if icon in cell
        }
        # Each row links to its own page (the URL is reversed once per page, issue 15).
        for person, row in zip(cl.result_list, ours, strict=True):
            url = reverse("admin:crm_customer_change", args=[person.pk])
            assert f'<a href="{url}?_changelist_filters=q%3D">' in row[1]
        # Filtered, so the row links carry the list's filters back (preserved filters).
        cl = _changelist(owner, q="example.com")
        ours = [list(row) for row in fast_results(cl)]
        assert ours == [list(items_for_result(cl, row, None)) for row in cl.result_list]
        assert "_changelist_filters=" in ours[0][1]


@pytest.mark.parametrize("language", ["en", "ko"])
def test_r1_4_row_checkbox_is_djangos(owner: Any, varied: list[Customer], language: str) -> None:
    model_admin = admin.site._registry[Customer]
    with translation.override(language):
        for person in varied:
            assert model_admin.action_checkbox(person) == ModelAdmin.action_checkbox(
                model_admin, person
            )


@pytest.mark.parametrize("language", ["en", "ko"])
def test_issue_15_filter_and_action_widgets_are_written_as_django_writes_them(
    owner: Any, varied: list[Customer], channel: Channel, language: str, monkeypatch: Any
) -> None:
    """The sidebar's and the action bar's widgets, written without templates, are the HTML of
    Django's widget templates: tag names with markup, a chosen tag, a bad date, empty fields."""
    Tag.objects.create(channel=channel, name='<i>VIP</i> & "골드"')
    chosen = Tag.objects.create(channel=channel, name="VIP/골드")
    ImportTag.objects.create(channel=channel, name="봄 행사 <1>.csv")
    with translation.override(language):
        cl = _changelist(
            owner, tag=chosen.name, createdFrom="2026-13-01", lastSeenTo="2026-01-02", type="lead"
        )
        forms = [cl.filterset.form, admin.site._registry[Customer].action_form(auto_id=None)]
        assert forms[0].renderer is WIDGET_HTML and forms[1].renderer is WIDGET_HTML
        ours = [str(field) for form in forms for field in form]
        for form in forms:
            form.renderer = get_default_renderer()
        django = [str(field) for form in forms for field in form]
    assert ours == django
    assert any("&lt;i&gt;VIP&lt;/i&gt; &amp; &quot;골드&quot;" in html for html in ours)
    assert any(" selected>VIP/골드</option>" in html for html in ours)
    assert any('value="2026-13-01"' in html for html in ours)
    # Written without Django's widget templates (that is the point), not handed to them.
    for form in forms:
        form.renderer = WIDGET_HTML
    monkeypatch.setattr(DjangoTemplates, "render", lambda *args, **kwargs: 1 / 0)
    with translation.override(language):
        assert [str(field) for form in forms for field in form] == ours


def test_issue_15_widgets_the_templates_would_write_otherwise_are_theirs() -> None:
    """Option groups and numbers (which templates localize) are left to Django's templates."""
    from django import forms

    class Choices(forms.Form):
        grouped = forms.ChoiceField(choices=[("Group <1>", [("a", "A & B")]), ("b", "B")])
        numbered = forms.ChoiceField(choices=[(1, 1000), (2, 2000)])
        count = forms.IntegerField(initial=1234567)

    ours = [str(field) for field in Choices(renderer=WIDGET_HTML)]
    assert ours == [str(field) for field in Choices(renderer=get_default_renderer())]
    assert '<optgroup label="Group &lt;1&gt;">' in ours[0]


def test_r8_2_channel_grants_are_those_of_channels_for_user(
    channel: Channel, other_channel: Channel, agent: Any, admin_manager: Any, owner: Any
) -> None:
    """One query for every grant, and the same channels ``channels_for_user`` lists per grant:
    the user's own grants, a group's, none for an inactive user, all for a superuser."""
    group = Group.objects.create(name="night shift")
    assign_perm("crm.delete_customers", group, other_channel)
    agent.groups.add(group)
    inactive = make_user("gone", is_active=False)
    assign_perm("crm.view_customers", inactive, channel)
    boss = make_user("boss", is_superuser=True, is_staff=True)
    for user in (agent, admin_manager, owner, inactive, boss):
        with CaptureQueriesContext(connection) as queries:
            grants = channel_grants(user)
        assert len(queries) <= 1
        for perm in PERMS:
            expected = set(channels_for_user(user, perm).values_list("pk", flat=True))
            assert set(grants.ids(perm)) == expected, (user.username, perm)
    assert other_channel.pk in channel_grants(agent).ids("delete_customers")


def test_r1_4_contacts_page_queries_do_not_grow_with_its_rows(channel: Channel, owner: Any) -> None:
    client = Client()
    client.force_login(owner)
    lead_add(channel=channel, name="First", email="first@example.com")
    client.get(LIST, {"channel": channel.slug})  # the session remembers the channel
    with CaptureQueriesContext(connection) as one:
        assert client.get(LIST, {"channel": channel.slug}).status_code == 200
    for i in range(60):
        lead_add(channel=channel, name=f"Person {i}", email=f"p{i}@example.com")
    with CaptureQueriesContext(connection) as page:
        html = client.get(LIST, {"channel": channel.slug}).content.decode()
    assert html.count('name="_selected_action"') == 50
    assert len(page) == len(one), [q["sql"] for q in page]
    # Each grant is read once for the whole page, however many rights the page asks about.
    grant_reads = [q for q in page if "channeluserobjectpermission" in q["sql"]]
    assert len(grant_reads) == 1
