"""Helpers of the Open API tests (no tests here): a client that sends a channel's keys."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from django.test import Client

from crm.models import Channel


@dataclass
class Answer:
    status: int
    body: Any
    headers: dict[str, str]
    path: str
    method: str


class Api:
    """The Open API as a business's server calls it, with one channel's credentials."""

    def __init__(self, key: str | None, secret: str | None) -> None:
        self.client = Client()
        self.headers: dict[str, str] = {}
        if key is not None:
            self.headers["x-access-key"] = key
        if secret is not None:
            self.headers["x-access-secret"] = secret

    @classmethod
    def of(cls, channel: Channel, secret: str) -> Api:
        return cls(channel.access_key, secret)

    def call(self, method: str, path: str, body: Any = None, **query: str) -> Answer:
        kwargs: dict[str, Any] = {"headers": self.headers}
        if body is not None:
            kwargs["data"] = body if isinstance(body, str | bytes) else json.dumps(body)
            kwargs["content_type"] = "application/json"
        if query:
            kwargs["QUERY_STRING"] = "&".join(f"{k}={quote(v)}" for k, v in query.items())
        response = getattr(self.client, method.lower())(path, **kwargs)
        content = response.content
        return Answer(
            status=response.status_code,
            body=json.loads(content) if content else None,
            headers={k.lower(): v for k, v in response.items()},
            path=path,
            method=method.lower(),
        )

    def put_member(self, member_id: str, body: Any) -> Answer:
        return self.call("PUT", member_path(member_id), body)

    def get_member(self, member_id: str) -> Answer:
        return self.call("GET", member_path(member_id))

    def delete_member(self, member_id: str) -> Answer:
        return self.call("DELETE", member_path(member_id))


def member_path(member_id: str) -> str:
    return f"/open/v5/users/@{quote(member_id, safe='')}"


NEW = {"unsubscribeEmail": False, "unsubscribeTexting": True}
