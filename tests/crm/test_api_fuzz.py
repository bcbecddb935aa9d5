"""Schemathesis against the live test server (R6.5): generated requests to every operation;
no answer is a server error, and every answer matches the schema (status, headers, body).

Values the schema allows can still be refused with a documented 400 (an unknown profile key, a
date in a format the import refuses, a phone without its country code): the parsers are the
contract there, so the check that every schema-valid request is accepted is left out."""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from django.core.cache import cache
from django.test import override_settings
from hypothesis import HealthCheck, given, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from crm.services.channels import channel_create
from crm.services.profile_keys import profile_key_create
from tests.conftest import make_user


@pytest.fixture
def credentials(transactional_db: None) -> dict[str, str]:
    cache.clear()
    made = channel_create(slug="fuzz", name="Fuzz", owner=make_user("fuzz-owner"))
    profile_key_create(channel=made.channel, key="grade", type="string", by=None)
    return {"x-access-key": made.channel.access_key, "x-access-secret": made.access_secret}


@override_settings(API_RATE_LIMIT=100_000)
def test_r6_5_generated_requests_get_answers_the_schema_describes(
    live_server: Any, credentials: dict[str, str]
) -> None:
    api = schemathesis.openapi.from_url(f"{live_server.url}/open/v5/openapi.json")
    api.config.update(base_url=live_server.url)
    operations = [result.ok() for result in api.get_all_operations()]
    assert len(operations) == 6

    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=15,
            deadline=None,
            database=None,
            derandomize=True,  # the same examples every run: CI is not a lottery
            suppress_health_check=list(HealthCheck),
        )
        def call(case: Any) -> None:
            case.call_and_validate(headers=credentials, excluded_checks=[positive_data_acceptance])

        call()
