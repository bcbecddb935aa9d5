"""The `--manager USERNAME` option every acting command shares (§9)."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from crm.management.lookups import manager_named


def test_manager_named_finds_the_manager_or_none(owner: Any) -> None:
    assert manager_named("owner") == owner
    assert manager_named(None) is None
    assert manager_named("") is None


def test_an_unknown_manager_stops_the_command_naming_it(channel: Any) -> None:
    with pytest.raises(CommandError, match="nobody-here"):
        manager_named("nobody-here")
    with pytest.raises(CommandError, match="nobody-here"):
        call_command(
            "import_customers",
            "acme",
            "members.csv",
            "--kind",
            "member",
            "--manager",
            "nobody-here",
        )
