"""Who may see and change a repo. A repo someone may not see is a 404, never a 403.

A repo is found by its type and ``owner/name`` (``find_visible_repo``): every
entrance names the type its URL stands for (``/api/models/...`` a model,
``/api/datasets/...`` a dataset), and models are the default.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils import timezone

from hub.api import ApiError
from hub.names import validate_username
from hub.orgs import Role, at_least, can_create_in, member_org_ids, role_in
from models_app.bounds import MAX_REPO_TAGS
from models_app.models import ModelRepo, Ref, RepoRedirect, Revision
from models_app.repos.card_vocab import LICENSES, PIPELINE_TAGS
from models_app.repos.events import announce_access_change
from models_app.repos.initial import initial_commit
from models_app.repos.revisions import PR_REF_RE

MODEL = ModelRepo.RepoType.MODEL
DATASET = ModelRepo.RepoType.DATASET
NOUNS = {MODEL: "model", DATASET: "dataset"}


class RepoTakenDown(ApiError):
    """A repo the people who run the site have hidden: 451 with the public reason, for everyone but staff."""

    def __init__(self, repo: ModelRepo):
        self.repo = repo
        super().__init__(
            f"{repo.repo_id} has been taken down by the operators of this hub: {repo.hidden_reason or 'no reason given'}",
            status_code=451,
            detail={"reason": repo.hidden_reason, "hidden_at": repo.hidden_at.isoformat() if repo.hidden_at else None},
            code="RepoTakenDown",
        )


def _readable_repos(user, repo_type: str | None) -> QuerySet[ModelRepo]:
    """Repos whose existence ``user`` may know of: public ones, their own and their orgs', all for staff."""
    repos = ModelRepo.objects.select_related("owner")
    if repo_type is not None:
        repos = repos.filter(repo_type=repo_type)
    if user is not None and user.is_authenticated:
        if user.is_staff:
            return repos
        # A subquery, not a join over memberships: an OR across a join would repeat public repos once a member.
        return repos.filter(Q(private=False) | Q(owner=user) | Q(owner_id__in=member_org_ids(user)))
    return repos.filter(private=False)


def visible_repos(user, repo_type: str | None = None) -> QuerySet[ModelRepo]:
    """Repos ``user`` may see (public ones, their own and their orgs', all for staff), of one type or every type.

    A repo taken down (``hidden_at``) is left out of every listing but staff's.
    """
    repos = _readable_repos(user, repo_type)
    if user is not None and user.is_authenticated and user.is_staff:
        return repos
    return repos.filter(hidden_at__isnull=True)


def find_visible_repo(
    user, owner: str, name: str, repo_type: str = MODEL, *, related: tuple[str, ...] = ()
) -> ModelRepo | None:
    """The ``repo_type`` repo ``owner/name`` (case-insensitive) if ``user`` may see it, else None.

    ``related``: relations to fetch in the same query (``select_related``). A
    repo taken down raises ``RepoTakenDown`` (451) for all but staff, so every
    entrance that finds a repo here stops serving it, files included.
    """
    repos = _readable_repos(user, repo_type).select_related(*related)
    repo = repos.filter(owner__username__iexact=owner, name__iexact=name).first()
    if repo is not None and repo.hidden_at is not None and not (user is not None and user.is_staff):
        raise RepoTakenDown(repo)
    return repo


def get_visible_repo(user, owner: str, name: str, repo_type: str = MODEL) -> ModelRepo:
    """As ``find_visible_repo``, but Http404 when it is missing or hidden."""
    repo = find_visible_repo(user, owner, name, repo_type)
    if repo is None:
        raise Http404(f"Repository {owner}/{name} not found.")
    return repo


def repo_role(user, repo: ModelRepo) -> str | None:
    """``user``'s role on ``repo``: "admin" for the owner and staff, their org role in an org's repo, else None."""
    if user is None or not user.is_authenticated:
        return None
    if user.pk == repo.owner_id or user.is_staff:
        return Role.ADMIN
    return role_in(user, repo.owner_id)


def can_write(user, repo: ModelRepo) -> bool:
    """Push, merge, re-run: the owner, staff, an org's write and admin members, and a contributor on their own repo."""
    role = repo_role(user, repo)
    if at_least(role, Role.WRITE):
        return True
    return role == Role.CONTRIBUTOR and repo.creator_id == user.pk


def can_commit_to(user, repo: ModelRepo, rev: str) -> bool:
    """Whether ``user`` may commit to ``rev``: writers anywhere; a pull request's author to its refs/pr/N too."""
    if can_write(user, repo):
        return True
    match = PR_REF_RE.match(rev)
    if match is None or user is None or not user.is_authenticated:
        return False
    return Ref.objects.filter(repo=repo, kind=Ref.Kind.PR, name=match[1], opened_by=user).exists()


def can_propose(user, repo: ModelRepo) -> bool:
    """Whether ``user`` may propose a change to ``repo`` (open a pull request): anyone signed in who can see it."""
    return bool(user is not None and user.is_authenticated and visible_repos(user).filter(pk=repo.pk).exists())


def can_manage(user, repo: ModelRepo) -> bool:
    """Settings, rename, delete: the owner, staff and an org's admins."""
    return repo_role(user, repo) == Role.ADMIN


def _check_name(name: str, noun: str = "model") -> None:
    try:
        validate_username(name)
    except ValidationError as exc:
        if exc.code == "reserved_name":
            raise ApiError(f"'{name}' is reserved.", status_code=400) from None
        raise ApiError(
            f"'{name}' is not a valid {noun} name: use 1-96 letters, digits, '-', '_' or '.', "
            "not starting with '.' or '-'.",
            status_code=400,
        ) from None


def _check_metadata(license: str | None, pipeline_tag: str | None, tags) -> list[str]:
    if license and license.lower() not in LICENSES:
        raise ApiError(f"'{license}' is not a known license id (e.g. apache-2.0, mit, cc-by-4.0).", status_code=400)
    if pipeline_tag and pipeline_tag not in PIPELINE_TAGS:
        raise ApiError(f"'{pipeline_tag}' is not a known task (e.g. text-classification).", status_code=400)
    if isinstance(tags, str):
        tags = [tag.strip() for tag in tags.split(",")]
    if not isinstance(tags, list | tuple) or not all(isinstance(tag, str) for tag in tags):
        raise ApiError("tags must be a list of strings.", status_code=400)
    return [tag[:64] for tag in tags if tag][:MAX_REPO_TAGS]  # the API refuses more (bounds.py); forms keep the first


def repo_create(
    owner,
    name: str,
    *,
    creator=None,
    private: bool = False,
    license: str = "",
    pipeline_tag: str = "",
    tags: list[str] | tuple = (),
    repo_type: str = MODEL,
) -> ModelRepo:
    """Create ``owner/name``; 400 on a bad name or metadata, 409 when the owner has one of that type (any case).

    ``owner`` is a user or an organization's account; ``creator`` (default: the
    owner) is who asked. Whether they may create there is ``namespace_check``'s call.
    """
    if repo_type not in NOUNS:
        raise ApiError(f"'{repo_type}' is not a repo type: use 'model' or 'dataset'.", status_code=400)
    _check_name(name, NOUNS[repo_type])
    tags = _check_metadata(license, pipeline_tag, list(tags) if not isinstance(tags, str) else tags)
    try:
        with transaction.atomic():
            repo = ModelRepo.objects.create(
                owner=owner,
                name=name,
                repo_type=repo_type,
                private=private,
                license=(license or "").lower(),
                pipeline_tag=pipeline_tag or "",
                tags=tags,
                creator=creator or owner,
            )
            # The name is a repo again: an old redirect under it would shadow nothing, so it goes.
            RepoRedirect.objects.filter(owner=owner, name__iexact=name, repo__repo_type=repo_type).delete()
            initial_commit(repo, creator or owner)  # the first commit is the creator's, through their token
            return repo
    except IntegrityError:
        raise ApiError(
            f"You already have a {NOUNS[repo_type]} named {owner.username}/{name}.", status_code=409
        ) from None


def namespace_check(user, namespace: str | None):
    """The account ``user`` creates a repo under: themselves (None or their name), or an org where they may.

    403 when ``namespace`` is an org they are not a contributor of, or another person.
    """
    if namespace in (None, "") or namespace.lower() == user.username.lower():
        return user
    account = get_user_model().objects.filter(username__iexact=namespace).first()
    if account is not None and can_create_in(user, account):
        return account
    raise ApiError(
        f"You cannot create repositories in {namespace}: you can create them in your own namespace "
        f"({user.username}) or in an organization where you are a contributor, write or admin member.",
        status_code=403,
    )


def _require_owner(user, repo: ModelRepo) -> None:
    if not can_manage(user, repo):
        raise ApiError(f"Only the owner may change this {NOUNS[repo.repo_type]}'s settings.", status_code=403)


def repo_update(
    user, repo: ModelRepo, *, private: bool | None = None, license=None, pipeline_tag=None, tags=None
) -> ModelRepo:
    """Change visibility or metadata (owner or staff); None leaves a field as it is."""
    _require_owner(user, repo)
    _check_metadata(license, pipeline_tag, [])
    fields = []
    if private is not None and bool(private) != repo.private:
        repo.private, fields = bool(private), [*fields, "private"]
        announce_access_change(repo.pk)
    if license is not None:
        repo.license, fields = license.lower(), [*fields, "license"]
    if pipeline_tag is not None:
        repo.pipeline_tag, fields = pipeline_tag, [*fields, "pipeline_tag"]
    if tags is not None:
        repo.tags, fields = _check_metadata(None, None, tags), [*fields, "tags"]
    if fields:
        repo.updated = timezone.now()
        repo.save(update_fields=[*fields, "updated"])
    return repo


def repo_rename(user, repo: ModelRepo, new_name: str) -> ModelRepo:
    """Rename within the owner's namespace; the old name keeps redirecting (``RepoRedirect``)."""
    _require_owner(user, repo)
    _check_name(new_name, NOUNS[repo.repo_type])
    old_name = repo.name
    if new_name == old_name:
        return repo
    try:
        with transaction.atomic():
            RepoRedirect.objects.filter(
                owner_id=repo.owner_id, name__iexact=new_name, repo__repo_type=repo.repo_type
            ).delete()
            repo.name = new_name
            repo.save(update_fields=["name"])
            if old_name.lower() != new_name.lower():
                RepoRedirect.objects.create(owner_id=repo.owner_id, name=old_name, repo=repo)
    except IntegrityError:
        repo.name = old_name
        raise ApiError(
            f"You already have a {NOUNS[repo.repo_type]} named {repo.owner.username}/{new_name}.", status_code=409
        ) from None
    return repo


def repo_delete(user, repo: ModelRepo) -> None:
    """Delete a repo with its revisions, refs and redirects (owner or staff).

    Blobs stay: other repos may share them, and an unreferenced blob is not visible.
    """
    _require_owner(user, repo)
    with transaction.atomic():
        repo_pk = repo.pk
        announce_access_change(repo_pk)
        # Refs and parent links PROTECT revisions; drop them first so the cascade can run.
        Ref.objects.filter(repo_id=repo_pk).delete()
        Revision.objects.filter(repo_id=repo_pk).update(parent=None)
        ModelRepo.objects.filter(pk=repo_pk).delete()


def redirect_target(owner: str, name: str, repo_type: str = MODEL) -> ModelRepo | None:
    """The ``repo_type`` repo once called ``owner/name`` (renamed since), or None."""
    row = (
        RepoRedirect.objects.select_related("repo__owner")
        .filter(owner__username__iexact=owner, name__iexact=name, repo__repo_type=repo_type)
        .first()
    )
    return row.repo if row is not None else None


def repo_move(user, repo: ModelRepo, owner_name: str, new_name: str) -> ModelRepo:
    """``move_repo`` within the repo's namespace (a rename); the old id keeps redirecting.

    Moving to another namespace is refused (403): ownership transfer is not built yet.
    """
    _require_owner(user, repo)
    if owner_name.lower() != repo.owner.username.lower():
        raise ApiError(
            f"You cannot move {repo.repo_id} to {owner_name}: you may only move repos within a namespace you own.",
            status_code=403,
        )
    noun = NOUNS[repo.repo_type]
    clash = ModelRepo.objects.filter(
        owner__username__iexact=owner_name, name__iexact=new_name, repo_type=repo.repo_type
    )
    if clash.exclude(pk=repo.pk).exists():
        raise ApiError(f"A {noun} repository called {owner_name}/{new_name} already exists.", status_code=409)
    return repo_rename(user, repo, new_name)
