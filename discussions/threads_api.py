"""The HF hub's discussions and pull-request API (``huggingface_hub`` community calls), over room threads.

Views check input, call one function of ``threads.py`` and shape the answer
the way ``huggingface_hub.community`` reads it. A repo the caller cannot see
answers like a missing one (RepoNotFound: 401 anonymous, 404 signed in).
"""

from __future__ import annotations

from datetime import datetime

from drf_spectacular.openapi import AutoSchema
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from discussions import threads
from discussions.models import Message, Thread
from discussions.rooms import RoomError
from hub.api import ApiError
from hub.permissions import TokenScopeAllows
from models_app.hf.errors import HubNotFound, missing_repo
from models_app.hf.schema import hf_schema
from models_app.models import ModelRepo
from models_app.repos.rules import MODEL, find_visible_repo

ERROR_STATUS = {"not_allowed": 403, "rate_limited": 429, "not_found": 404, "too_long": 400, "invalid": 400}


def _iso(value: datetime) -> str:
    return value.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _user(user) -> dict | None:
    if user is None:
        return None
    return {"name": user.username, "fullname": user.get_full_name() or user.username, "type": "user"}


def event_id(message: Message) -> str:
    """HF event ids are hex strings; ours is the message's room id, so the room and the API name it alike."""
    return f"{message.seq:024x}"


def event_json(message: Message) -> dict:
    event = {"id": event_id(message), "type": message.event or "comment", "createdAt": _iso(message.created)}
    if message.author_id is not None:
        event["author"] = _user(message.author)
    if message.event:
        event["data"] = dict(message.data)
        return event
    hidden = message.deleted is not None
    latest = {
        "raw": "" if hidden else message.body,
        "html": "" if hidden else message.html,
        "updatedAt": _iso(message.edited or message.created),
    }
    if message.author_id is not None:
        latest["author"] = _user(message.author)
    event["data"] = {
        "edited": message.num_edits > 0,
        "hidden": hidden,
        "numEdits": message.num_edits,
        "latest": latest,
        # Earlier versions are not kept: the history holds the current one.
        "history": [latest],
    }
    return event


def thread_json(thread: Thread, repo: ModelRepo) -> dict:
    return {
        "num": thread.num,
        "title": thread.title,
        "status": thread.status,
        "isPullRequest": thread.is_pull_request,
        "createdAt": _iso(thread.created),
        **({"author": _user(thread.author)} if thread.author_id else {}),
        "repo": {"name": repo.repo_id, "type": repo.repo_type},
    }


def thread_details_json(thread: Thread, repo: ModelRepo) -> dict:
    messages = Message.objects.filter(thread=thread).select_related("author").order_by("seq")
    answer = {**thread_json(thread, repo), "events": [event_json(m) for m in messages]}
    if thread.is_pull_request:
        answer["changes"] = {"base": f"refs/heads/{thread.target_branch}"}
        if thread.merge_sha:
            answer["changes"]["mergeCommitId"] = thread.merge_sha
        answer["filesWithConflicts"] = threads.conflicting_files(thread)
    return answer


def _repo(request, owner: str, name: str, repo_type: str) -> ModelRepo:
    repo = find_visible_repo(request.user, owner, name, repo_type)
    if repo is None:
        raise missing_repo(request.user, owner, name, request.get_full_path(), repo_type)
    return repo


def _refused(err: RoomError) -> ApiError:
    return ApiError(err.message, status_code=ERROR_STATUS.get(err.code, 400), code=err.code)


def _data(request) -> dict:
    return request.data if isinstance(request.data, dict) else {}


class ThreadApi(APIView):
    """Common to every discussion endpoint: the repo, the thread, errors in the client's terms."""

    def handle_exception(self, exc):
        if isinstance(exc, HubNotFound):
            return exc.response()
        if isinstance(exc, RoomError):
            exc = _refused(exc)
        return super().handle_exception(exc)

    def thread(self, request, owner, name, repo_type, num) -> tuple[ModelRepo, Thread]:
        repo = _repo(request, owner, name, repo_type)
        return repo, threads.thread_get(repo, num)


class ThreadWriteApi(ThreadApi):
    permission_classes = [IsAuthenticated, TokenScopeAllows]


class DiscussionsApi(ThreadApi):
    permission_classes = [TokenScopeAllows]

    @hf_schema("A repo's discussions and pull requests, newest first (HF get_repo_discussions)")
    def get(self, request, owner: str, name: str, repo_type: str = MODEL) -> Response:
        repo = _repo(request, owner, name, repo_type)
        q = request.query_params
        count, start, rows = threads.threads_list(
            repo, kind=q.get("type"), status=q.get("status"), author=q.get("author"), page=q.get("p")
        )
        return Response({"count": count, "start": start, "discussions": [thread_json(t, repo) for t in rows]})

    @hf_schema("Open a discussion, or a draft pull request (HF create_discussion)")
    def post(self, request, owner: str, name: str, repo_type: str = MODEL) -> Response:
        if not request.user.is_authenticated:
            self.permission_denied(request)
        repo = _repo(request, owner, name, repo_type)
        data = _data(request)
        thread = threads.thread_open(
            repo, request.user, data.get("title"), data.get("description"), pull_request=data.get("pullRequest") is True
        )
        answer = {"num": thread.num, "url": f"{repo.web_path}/discussions/{thread.num}"}
        if thread.is_pull_request:
            answer["pullRequest"] = {"ref": f"refs/pr/{thread.num}"}
        return Response(answer, status=200)


class OneThreadSchema(AutoSchema):
    """A thread's GET and the list's GET would both be named ``..._discussions_retrieve`` (path parameters
    do not count): the thread's is named apart."""

    def get_operation_id(self):
        return super().get_operation_id().replace("_retrieve", "_thread_retrieve")


class DiscussionDetailApi(ThreadApi):
    schema = OneThreadSchema()

    @hf_schema("A discussion or pull request with its events (HF get_discussion_details)")
    def get(self, request, owner: str, name: str, num: int, repo_type: str = MODEL) -> Response:
        repo, thread = self.thread(request, owner, name, repo_type, num)
        return Response(thread_details_json(thread, repo))


class CommentApi(ThreadWriteApi):
    @hf_schema("Comment on a discussion or pull request (HF comment_discussion)")
    def post(self, request, owner: str, name: str, num: int, repo_type: str = MODEL) -> Response:
        _, thread = self.thread(request, owner, name, repo_type, num)
        message = threads.thread_comment(thread, request.user, _data(request).get("comment"))
        return Response({"newMessage": event_json(message)})


class CommentEditApi(ThreadWriteApi):
    @hf_schema("Edit one's comment (HF edit_discussion_comment)")
    def post(self, request, owner: str, name: str, num: int, comment_id: str, repo_type: str = MODEL) -> Response:
        _, thread = self.thread(request, owner, name, repo_type, num)
        message = threads.comment_edit(thread, request.user, comment_id, _data(request).get("content"))
        return Response({"updatedComment": event_json(message)})


class CommentHideApi(ThreadWriteApi):
    @hf_schema("Hide a comment: the room's delete (HF hide_discussion_comment)")
    def post(self, request, owner: str, name: str, num: int, comment_id: str, repo_type: str = MODEL) -> Response:
        _, thread = self.thread(request, owner, name, repo_type, num)
        message = threads.comment_hide(thread, request.user, comment_id)
        return Response({"updatedComment": event_json(message)})


class TitleApi(ThreadWriteApi):
    @hf_schema("Rename a discussion or pull request (HF rename_discussion)")
    def post(self, request, owner: str, name: str, num: int, repo_type: str = MODEL) -> Response:
        _, thread = self.thread(request, owner, name, repo_type, num)
        message = threads.thread_rename(thread, request.user, _data(request).get("title"))
        return Response({"newTitle": event_json(message)})


class StatusApi(ThreadWriteApi):
    @hf_schema("Close or reopen (HF change_discussion_status)")
    def post(self, request, owner: str, name: str, num: int, repo_type: str = MODEL) -> Response:
        _, thread = self.thread(request, owner, name, repo_type, num)
        data = _data(request)
        message = threads.thread_set_status(thread, request.user, data.get("status"), data.get("comment"))
        return Response({"newStatus": event_json(message)})


class MergeApi(ThreadWriteApi):
    @hf_schema("Merge a pull request into its target branch (HF merge_pull_request); writers only")
    def post(self, request, owner: str, name: str, num: int, repo_type: str = MODEL) -> Response:
        _, thread = self.thread(request, owner, name, repo_type, num)
        message = threads.thread_merge(thread, request.user, _data(request).get("comment"))
        return Response({"newStatus": event_json(message), "mergeCommitId": thread.merge_sha})
