"""``/open/v5/users…`` (R6.2 to R6.4, SPEC §9): parse, authorise (the key's channel), call one
service or selector, answer. Errors are ``{"errors": {what: why}}`` like every JSON edge."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, JsonResponse
from django.utils.text import format_lazy
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, status
from rest_framework.parsers import JSONParser
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView, exception_handler

from crm.api.authentication import AccessKeyAuthentication, ChannelAuthenticated
from crm.api.ratelimit import AccessKeyRateThrottle
from crm.api.selectors import (
    CURSOR_PATTERN,
    DEFAULT_LIMIT,
    MAX_LIMIT,
    api_user_page,
    api_users,
    user_data,
)
from crm.api.serializers import (
    ErrorSerializer,
    UpsertedSerializer,
    UpsertSerializer,
    UserEnvelopeSerializer,
    UserPageSerializer,
)
from crm.models import ActivityLog, Channel, Customer
from crm.services.api_users import UpsertConflict, api_user_upsert
from crm.services.deletion import customer_delete

_ERROR_KEYS: list[tuple[type[Exception], str]] = [
    (exceptions.NotAuthenticated, "auth"),
    (exceptions.AuthenticationFailed, "auth"),
    (exceptions.Throttled, "rate"),
    (exceptions.NotFound, "user"),
    (Http404, "user"),
    (exceptions.ParseError, "body"),
    (exceptions.UnsupportedMediaType, "body"),
    (exceptions.MethodNotAllowed, "method"),
]


def _flat(detail: Any) -> str:
    if isinstance(detail, list):
        return " ".join(_flat(d) for d in detail)
    if isinstance(detail, dict):
        return " ".join(f"{k}: {_flat(v)}" for k, v in detail.items())
    return str(detail)


def open_api_errors(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF's handler (status, Retry-After, WWW-Authenticate), with our error body."""
    response = exception_handler(exc, context)
    if response is None:
        return None
    data = response.data
    key = next((k for cls, k in _ERROR_KEYS if isinstance(exc, cls)), "request")
    if isinstance(data, dict) and set(data) != {"detail"}:
        errors = {k: _flat(v) for k, v in data.items()}
    else:
        errors = {key: _flat(data.get("detail") if isinstance(data, dict) else data)}
    response.data = {"errors": errors}
    return response


def _invalid(exc: ValidationError, code: int = status.HTTP_400_BAD_REQUEST) -> Response:
    errors = (
        {k: " ".join(v) for k, v in exc.message_dict.items()}
        if hasattr(exc, "error_dict")
        else {"user": " ".join(exc.messages)}
    )
    return Response({"errors": errors}, status=code)


ERRORS = {
    400: ErrorSerializer,
    401: ErrorSerializer,
    404: ErrorSerializer,
    429: ErrorSerializer,
}
# 400: the request breaks this schema; 422: it keeps to it but the channel's rules refuse it
# (a profile key the channel does not have, a value the parsers refuse, an R1.3 limit, a new
# user without both unsubscribe flags), which no static schema can say. 409: other requests
# kept creating or changing the same user at that moment; sending it again is safe.
UPSERT_ERRORS = {**ERRORS, 409: ErrorSerializer, 422: ErrorSerializer}
MEMBER_ID = OpenApiParameter(
    "memberId", OpenApiTypes.STR, OpenApiParameter.PATH, description=_("the user's memberId")
)
USER_ID = OpenApiParameter(
    "id", {"type": "integer", "minimum": 1}, OpenApiParameter.PATH, description=_("the user's id")
)


_DELETES = _("Deletes the user and all its data except conversation history (R3.2).")


class OpenApiView(APIView):
    authentication_classes = [AccessKeyAuthentication]
    permission_classes = [ChannelAuthenticated]
    throttle_classes = [AccessKeyRateThrottle]
    parser_classes = [JSONParser]
    renderer_classes = [JSONRenderer]

    def get_exception_handler(self) -> Any:
        return open_api_errors

    def finalize_response(
        self, request: Request, response: Response, *args: Any, **kwargs: Any
    ) -> Response:
        response = super().finalize_response(request, response, *args, **kwargs)
        state = getattr(request, "_rate_state", None)
        if state is not None:
            for name, value in state.headers().items():
                response[name] = value
        return response

    def channel(self, request: Request) -> Channel:
        assert isinstance(request.auth, Channel)
        return request.auth

    def user(self, request: Request, **lookup: Any) -> Customer:
        customer = api_users(self.channel(request)).filter(**lookup).first()
        if customer is None:
            raise exceptions.NotFound(gettext("no such user in this channel"))
        return customer

    def answer(self, customer: Customer, **extra: Any) -> dict[str, Any]:
        return {"user": user_data([customer])[0], **extra}

    def delete_user(self, request: Request, customer: Customer) -> Response:
        try:
            customer_delete(
                channel=self.channel(request), customer=customer, by=None, via=ActivityLog.Via.API
            )
        except ValidationError:  # deleted meanwhile by another request
            raise exceptions.NotFound(gettext("no such user in this channel")) from None
        return Response(status=status.HTTP_204_NO_CONTENT)


class UserByMemberIdView(OpenApiView):
    @extend_schema(
        operation_id="getUserByMemberId",
        parameters=[MEMBER_ID],
        responses={200: UserEnvelopeSerializer, **ERRORS},
        summary=_("Get a user by memberId"),
    )
    def get(self, request: Request, memberId: str) -> Response:
        return Response(self.answer(self.user(request, member_id=memberId)))

    @extend_schema(
        operation_id="upsertUserByMemberId",
        parameters=[MEMBER_ID],
        request=UpsertSerializer,
        responses={200: UpsertedSerializer, 201: UpsertedSerializer, **UPSERT_ERRORS},
        summary=_("Create or update a user by memberId"),
        description=_(
            "`profile` sets values (null clears a key), `profileOnce` sets only keys that are "
            "empty, `tags` replaces the user's tags. Values are parsed and limited as in an "
            "import. A new user needs `unsubscribeEmail` and `unsubscribeTexting` (true or "
            "false): without them it is refused with 422, while an existing user keeps its "
            "stored flags. Profile keys are the channel's own: a key it does not have, or a "
            "value its type's parser refuses, is refused with 422 naming the key. Verified "
            "leads sharing the user's email or mobile number are unified into it (R2.7). A "
            "blocked user stays blocked."
        ),
    )
    def put(self, request: Request, memberId: str) -> Response:
        body = UpsertSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        try:
            upserted = api_user_upsert(
                channel=self.channel(request),
                member_id=memberId,
                profile=data.get("profile"),
                profile_once=data.get("profileOnce"),
                tags=data.get("tags"),
                unsubscribe_email=data.get("unsubscribeEmail"),
                unsubscribe_texting=data.get("unsubscribeTexting"),
            )
        except ValidationError as exc:
            return _invalid(exc, status.HTTP_422_UNPROCESSABLE_ENTITY)
        except UpsertConflict as exc:
            return Response({"errors": {"user": str(exc)}}, status=status.HTTP_409_CONFLICT)
        return Response(
            self.answer(upserted.customer, created=upserted.created),
            status=status.HTTP_201_CREATED if upserted.created else status.HTTP_200_OK,
        )

    @extend_schema(
        operation_id="deleteUserByMemberId",
        parameters=[MEMBER_ID],
        responses={204: None, **ERRORS},
        summary=_("Delete a user by memberId"),
        description=_DELETES,
    )
    def delete(self, request: Request, memberId: str) -> Response:
        return self.delete_user(request, self.user(request, member_id=memberId))


class UserByIdView(OpenApiView):
    @extend_schema(
        operation_id="getUser",
        parameters=[USER_ID],
        responses={200: UserEnvelopeSerializer, **ERRORS},
        summary=_("Get a user by id"),
    )
    def get(self, request: Request, id: int) -> Response:
        return Response(self.answer(self.user(request, pk=id)))

    @extend_schema(
        operation_id="deleteUser",
        parameters=[USER_ID],
        responses={204: None, **ERRORS},
        summary=_("Delete a user by id"),
        description=_DELETES,
    )
    def delete(self, request: Request, id: int) -> Response:
        return self.delete_user(request, self.user(request, pk=id))


class UserListView(OpenApiView):
    @extend_schema(
        operation_id="listUsers",
        parameters=[
            OpenApiParameter("memberId", OpenApiTypes.STR, description=_("exact memberId")),
            OpenApiParameter("email", OpenApiTypes.STR, description=_("an email address")),
            OpenApiParameter(
                "mobileNumber", OpenApiTypes.STR, description=_("a mobile number with country code")
            ),
            OpenApiParameter(
                "since",
                {"type": "string", "pattern": CURSOR_PATTERN},
                description=_("the `next` of the previous page"),
            ),
            OpenApiParameter(
                "limit",
                {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT},
                description=format_lazy(_("default {limit}"), limit=DEFAULT_LIMIT),
            ),
        ],
        responses={200: UserPageSerializer, **ERRORS},
        summary=_("List users"),
        description=_("Oldest first, a page at a time; filters are exact (R6.4)."),
    )
    def get(self, request: Request) -> Response:
        try:
            users, cursor = api_user_page(self.channel(request), request.query_params)
        except ValidationError as exc:
            return _invalid(exc)
        return Response({"users": user_data(users), "next": cursor})


@csrf_exempt
def unknown_path(request: HttpRequest) -> JsonResponse:
    """Anything else under /open/v5/ answers like the API, not with an HTML page."""
    return JsonResponse({"errors": {"path": gettext("no such endpoint")}}, status=404)
