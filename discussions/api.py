"""REST: a room's history and search (same shape as the socket's frames), a markdown preview, and what is unread."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from discussions import reading, rooms, search
from discussions.reports import report_create
from hub.api import ApiError
from hub.permissions import TokenScopeAllows
from models_app.repos.rules import get_visible_repo


class MessageSerializer(serializers.Serializer):
    """Documents the shape; rows are built by frames.message_frame (no per-row serializer cost)."""

    type = serializers.CharField()
    id = serializers.IntegerField(help_text="increases by one with each message of the room")
    kind = serializers.ChoiceField(choices=["user", "system"])
    author = serializers.CharField(allow_null=True)
    body = serializers.CharField(help_text="markdown as written; empty once deleted")
    html = serializers.CharField(help_text="sanitised HTML rendering of body")
    created = serializers.DateTimeField()
    edited = serializers.DateTimeField(allow_null=True)
    deleted = serializers.BooleanField()
    client_id = serializers.CharField(allow_null=True)
    reply_to = serializers.IntegerField(allow_null=True)
    reactions = inline_serializer(
        "Reaction",
        {"emoji": serializers.CharField(), "count": serializers.IntegerField(), "users": serializers.ListField()},
        many=True,
    )


class RoomMessagesApi(APIView):
    @extend_schema(
        operation_id="room_messages",
        summary="A model's discussion history, cursor-paged by message id",
        parameters=[
            OpenApiParameter("after", int, description="messages with a larger id, oldest first"),
            OpenApiParameter("before", int, description="the newest messages with a smaller id"),
            OpenApiParameter("limit", int, description=f"at most this many (default 50, max {rooms.HISTORY_MAX})"),
            OpenApiParameter(
                "q",
                str,
                description="search: only messages containing every word (case-insensitive), newest first "
                "by page (page back with before); deleted messages never match",
            ),
        ],
        responses=inline_serializer(
            "RoomMessages",
            {
                "room": serializers.CharField(),
                "last_id": serializers.IntegerField(),
                "messages": MessageSerializer(many=True),
            },
        ),
    )
    def get(self, request, owner: str, name: str) -> Response:
        repo = get_visible_repo(request.user, owner, name)
        room = rooms.room_for(repo)
        params = request.query_params
        try:
            if "q" in params:
                messages = search.message_search(
                    room, params["q"], before=params.get("before"), limit=params.get("limit")
                )
            else:
                messages = rooms.history(
                    room, after=params.get("after"), before=params.get("before"), limit=params.get("limit")
                )
        except rooms.RoomError as err:
            raise ApiError(err.message, status_code=400, code=err.code) from None
        return Response({"room": repo.repo_id, "last_id": room.last_seq, "messages": messages})


class MessagePreviewApi(APIView):
    """The room's own renderer (markdown, @mentions, :shortcodes:), for the composer's Preview tab.

    For those who may post: a POST, so a read token is refused like on every other POST.
    """

    permission_classes = [TokenScopeAllows, IsAuthenticated]

    @extend_schema(
        operation_id="room_message_preview",
        summary="Render a message as the room would, without posting it",
        request=inline_serializer("MessagePreviewRequest", {"body": serializers.CharField()}),
        responses=inline_serializer("MessagePreview", {"html": serializers.CharField()}),
    )
    def post(self, request, owner: str, name: str) -> Response:
        get_visible_repo(request.user, owner, name)  # 404 for a room the user cannot see
        body = request.data.get("body") if hasattr(request.data, "get") else None
        try:
            html = rooms.message_preview(body)
        except rooms.RoomError as err:
            raise ApiError(err.message, status_code=400, code=err.code) from None
        return Response({"html": html})


class UnreadMentionsApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="mentions_unread",
        summary="Unread @mentions of the current user, and the rooms with unread messages",
        responses=inline_serializer(
            "UnreadMentions",
            {
                "unread": serializers.IntegerField(help_text="unread @mentions, all rooms together"),
                "rooms": inline_serializer(
                    "UnreadRoom",
                    {
                        "room": serializers.CharField(),
                        "url": serializers.CharField(),
                        "unread": serializers.IntegerField(help_text="messages after the user's read mark"),
                        "mentions": serializers.IntegerField(),
                    },
                    many=True,
                ),
            },
        ),
    )
    def get(self, request) -> Response:
        return Response({"unread": rooms.unread_mentions(request.user), "rooms": reading.unread_rooms(request.user)})


class ReportApi(APIView):
    permission_classes = [IsAuthenticated, TokenScopeAllows]

    @extend_schema(
        summary="Report the repo, one of its files, its discussion or a message, with a reason",
        request=inline_serializer(
            "ReportCreate",
            {
                "kind": serializers.ChoiceField(choices=["model", "file", "discussion", "message"]),
                "reason": serializers.CharField(),
                "path": serializers.CharField(required=False),
                "message": serializers.IntegerField(required=False),
            },
        ),
        responses=inline_serializer(
            "ReportReceived", {"id": serializers.IntegerField(), "status": serializers.CharField()}
        ),
    )
    def post(self, request, owner: str, name: str, repo_type: str = "model") -> Response:
        repo = get_visible_repo(request.user, owner, name, repo_type)
        data = request.data if isinstance(request.data, dict) else {}
        report = report_create(
            request.user,
            repo,
            data.get("kind") or "model",
            data.get("reason"),
            path=data.get("path") or "",
            message_seq=data.get("message"),
        )
        # Only that it was received: nothing about other reports or what will be done.
        return Response({"id": report.pk, "status": "received"}, status=201)
