"""Fake builder APIs on 127.0.0.1 (pytest-httpserver): realistic pages, and failures on cue.

``failures`` maps the number of a request (1-based, counting every request the fake receives)
to what goes wrong with it: "429" (with Retry-After), "500", "502", or "timeout" (the answer
comes later than the client waits). A failed request is answered, or not, and then the client's
retry of the same page is served normally.
"""

from __future__ import annotations

import base64
import json
import threading
import time
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

SHOPIFY_VERSION = "2025-01"


@dataclass
class Flaky:
    failures: dict[int, str] = field(default_factory=dict)
    timeout_sleep: float = 0.6
    requests: int = 0
    failed: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def fault(self) -> Response | None:
        with self.lock:
            self.requests += 1
            what = self.failures.get(self.requests)
            if what is not None:
                self.failed += 1
        if what is None:
            return None
        if what == "timeout":
            time.sleep(self.timeout_sleep)
            return Response("{}", status=200, content_type="application/json")
        if what == "429":
            return Response(
                json.dumps({"errors": "Exceeded 2 calls per second for api client."}),
                status=429,
                headers={"Retry-After": "1.0"},
                content_type="application/json",
            )
        return Response(json.dumps({"errors": "Internal Server Error"}), status=int(what))


def shopify_customer(i: int, created: datetime) -> dict[str, Any]:
    return {
        "id": 7_000_000_000 + i,
        "email": f"customer{i}@example.com",
        "first_name": f"First{i}",
        "last_name": "김",
        "phone": f"+8210{20000000 + i:08d}" if i % 3 else None,
        "created_at": created.isoformat(),
        "email_marketing_consent": {"state": "subscribed" if i % 2 else "not_subscribed"},
        "sms_marketing_consent": None,
    }


class FakeShopify(Flaky):
    """GET /admin/api/<version>/customers.json with cursor pages (Link: rel="next")."""

    def __init__(
        self,
        server: HTTPServer,
        customers: list[dict[str, Any]],
        *,
        token: str = "shpat_x",
        **flaky: Any,
    ) -> None:
        super().__init__(**flaky)
        self.server = server
        self.customers = customers
        self.token = token
        self.pages_served = 0
        self._matching: dict[str | None, list[dict[str, Any]]] = {}
        server.expect_request(f"/admin/api/{SHOPIFY_VERSION}/customers.json").respond_with_handler(
            self.handle
        )

    @property
    def base_url(self) -> str:
        return self.server.url_for(f"/admin/api/{SHOPIFY_VERSION}").rstrip("/")

    def _created_until(self, until: str | None) -> list[dict[str, Any]]:
        """The customers created at or before ``until``, in id order (computed once)."""
        if until not in self._matching:
            limit = datetime.fromisoformat(until) if until else None
            self._matching[until] = [
                c
                for c in self.customers
                if limit is None or datetime.fromisoformat(c["created_at"]) <= limit
            ]
        return self._matching[until]

    def handle(self, request: Request) -> Response:
        fault = self.fault()
        if fault is not None:
            return fault
        if request.headers.get("X-Shopify-Access-Token") != self.token:
            return Response(json.dumps({"errors": "[API] Invalid API key or access token"}), 401)
        args = request.args
        limit = int(args.get("limit", 50))
        if limit > 250:
            return Response(json.dumps({"errors": {"limit": "must be <= 250"}}), 400)
        if "page_info" in args:
            if set(args) - {"page_info", "limit", "fields"}:
                return Response(json.dumps({"errors": "page_info allows only limit, fields"}), 400)
            cursor = json.loads(base64.urlsafe_b64decode(args["page_info"]))
            start, until = cursor["start"], cursor["until"]
        else:
            start, until = 0, args.get("created_at_max")
        matching = self._created_until(until)
        page = matching[start : start + limit]
        fields = args.get("fields")
        if fields:
            wanted = fields.split(",")
            page = [{k: c.get(k) for k in wanted} for c in page]
        headers = {}
        if start + limit < len(matching):
            info = base64.urlsafe_b64encode(
                json.dumps({"start": start + limit, "until": until}).encode()
            ).decode()
            query = urlencode({"limit": limit, "fields": fields or "", "page_info": info})
            headers["Link"] = f'<{self.base_url}/customers.json?{query}>; rel="next"'
        self.pages_served += 1
        return Response(
            json.dumps({"customers": page}), 200, headers=headers, content_type="application/json"
        )


def cafe24_customer(i: int, day: date) -> dict[str, Any]:
    return {
        "shop_no": 1,
        "member_id": f"member{i:06d}",
        "name": f"회원{i}",
        "email": f"member{i}@example.kr",
        "phone": "02-555-6666" if i % 5 == 0 else "",
        "cellphone": f"010-{2000 + i % 8000:04d}-{i % 10000:04d}",
        "sms": "T" if i % 2 else "F",
        "news_mail": "T" if i % 3 else "F",
        "created_date": f"{day.isoformat()}T10:00:00+09:00",
    }


class FakeCafe24(Flaky):
    """GET /api/v2/admin/customersprivacy(/count) by registration dates; offset capped."""

    def __init__(
        self,
        server: HTTPServer,
        customers: list[dict[str, Any]],
        *,
        offset_max: int,
        token: str = "cafe24-access",
        **flaky: Any,
    ) -> None:
        super().__init__(**flaky)
        self.server = server
        self.customers = customers
        self.offset_max = offset_max
        self.token = token
        self.largest_offset = 0
        server.expect_request("/api/v2/admin/customersprivacy/count").respond_with_handler(
            self.count
        )
        server.expect_request("/api/v2/admin/customersprivacy").respond_with_handler(self.page)

    @property
    def base_url(self) -> str:
        return self.server.url_for("/api/v2").rstrip("/")

    def _window(self, request: Request) -> list[dict[str, Any]] | Response:
        if request.headers.get("Authorization") != f"Bearer {self.token}":
            return Response(json.dumps({"error": {"code": 401, "message": "invalid_token"}}), 401)
        if not request.headers.get("X-Cafe24-Api-Version"):
            return Response(json.dumps({"error": {"code": 400, "message": "no version"}}), 400)
        start = date.fromisoformat(request.args["created_start_date"])
        end = date.fromisoformat(request.args["created_end_date"])
        return [
            c for c in self.customers if start <= date.fromisoformat(c["created_date"][:10]) <= end
        ]

    def count(self, request: Request) -> Response:
        fault = self.fault()
        if fault is not None:
            return fault
        found = self._window(request)
        if isinstance(found, Response):
            return found
        return Response(json.dumps({"count": len(found)}), 200, content_type="application/json")

    def page(self, request: Request) -> Response:
        fault = self.fault()
        if fault is not None:
            return fault
        found = self._window(request)
        if isinstance(found, Response):
            return found
        offset = int(request.args.get("offset", 0))
        limit = int(request.args.get("limit", 10))
        if offset > self.offset_max:
            message = f"offset must be {self.offset_max} or less"
            return Response(json.dumps({"error": {"code": 422, "message": message}}), 422)
        self.largest_offset = max(self.largest_offset, offset)
        rows = found[offset : offset + limit]
        return Response(
            json.dumps({"customersprivacy": rows}), 200, content_type="application/json"
        )


def spread(n: int, start: datetime, step: timedelta) -> list[datetime]:
    return [start + i * step for i in range(n)]
