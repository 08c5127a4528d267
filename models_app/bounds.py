"""How many items one API request may carry: every list in a request body or query has a bound.

Without one, a single request buys unbounded work (an LFS batch of 20,000
objects took 24 s and answered 10 MB). Each bound is well above what the
Hugging Face client sends (``huggingface_hub/_commit_api.py`` splits
preupload and LFS batch calls into chunks of ``UPLOAD_BATCH_MAX_NUM_FILES`` =
256), so no client call is refused. Over a bound the answer is 413 (400 for a query) with the
bound in the message and in ``detail``. Reference: docs/limits.md.
"""

from __future__ import annotations

from hub.api import ApiError

# Objects in one LFS batch request (the client sends at most 256).
MAX_LFS_BATCH_OBJECTS = 1000
# Files in one preupload request (the client sends at most 256).
MAX_PREUPLOAD_FILES = 1000
# Operation lines (after the header) in one ndjson commit: files added (also capped by
# HUB_MAX_FILES_PER_COMMIT), files and folders deleted. The client sends every operation
# of a commit in one body; deletions are cheap, so this is higher than the file cap.
MAX_COMMIT_OPERATIONS = 10_000
# Paths in one paths-info request (HF get_paths_info).
MAX_PATHS_INFO_PATHS = 1000
# Tags on a repo, set in one create or settings request.
MAX_REPO_TAGS = 100
# Tag filters in one listing query (``?filter=a&filter=b``, HF list_models): each is one more
# condition; a thousand made SQLite refuse the query ("Expression tree is too large").
MAX_FILTER_TAGS = 50


def check_count(count: int, limit: int, what: str, *, status_code: int = 413) -> None:
    """413 (or ``status_code``) when a request carries more than ``limit`` ``what`` (a plural noun: "LFS objects")."""
    if count > limit:
        raise ApiError(
            f"Too many {what} in one request: at most {limit} are accepted; split the request.",
            status_code=status_code,
            detail={"limit": limit},
        )


# Characters in a discussion's or pull request's title (HF create_discussion, rename_discussion); a comment
# is a room message, bounded by discussions.rooms.MAX_BODY.
MAX_DISCUSSION_TITLE = 200
