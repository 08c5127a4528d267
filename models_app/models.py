"""Model repositories, their immutable revisions, and the content-addressed blobs behind them."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone

from hub.names import NAME_RE  # noqa: F401 - repo names follow the same rule as usernames


class Blob(models.Model):
    """File content, stored once by its sha256 whoever uploads it."""

    sha256 = models.CharField(max_length=64, primary_key=True)
    size = models.BigIntegerField()
    storage_key = models.CharField(max_length=255)
    created = models.DateTimeField(default=timezone.now)
    # git's object id (sha1 of "blob <size>\0" + content) for files small enough to be regular, not LFS:
    # the HF client compares it with a local file's. Filled when stored, or on first listing (models_app/repos/blobs.py).
    git_oid = models.CharField(max_length=40, blank=True, default="")

    def __str__(self) -> str:
        return f"{self.sha256[:12]} ({self.size} B)"


class ModelRepo(models.Model):
    """A repo of the hub: a model, or a dataset (``repo_type``), as on the Hugging Face Hub.

    ``owner/name`` is the id within a type, so ``alice/foo`` may be both a model and a dataset.
    """

    class RepoType(models.TextChoices):
        MODEL = "model"
        DATASET = "dataset"

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="repos")
    name = models.CharField(max_length=96)
    repo_type = models.CharField(max_length=8, choices=RepoType.choices, default=RepoType.MODEL)
    private = models.BooleanField(default=False)
    # Gated: files other than the card need an accepted access request ("auto" accepts on asking).
    gated = models.CharField(
        max_length=8, blank=True, default="", choices=[("", "no"), ("auto", "auto"), ("manual", "manual")]
    )
    # Parsed YAML front matter of README.md (the HF card format).
    card_meta = models.JSONField(default=dict, blank=True)
    license = models.CharField(max_length=64, blank=True)
    pipeline_tag = models.CharField(max_length=64, blank=True)
    library_name = models.CharField(max_length=64, blank=True)
    tags = models.JSONField(default=list, blank=True)
    languages = models.JSONField(default=list, blank=True)
    downloads = models.BigIntegerField(default=0)
    likes = models.IntegerField(default=0)
    created = models.DateTimeField(default=timezone.now)
    updated = models.DateTimeField(default=timezone.now)
    # Who created it: in an organization, a contributor may write to the repos they created.
    creator = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # A takedown by the people who run the site: set, the repo answers 451 with this public reason.
    hidden_at = models.DateTimeField(null=True, blank=True)
    hidden_reason = models.CharField(max_length=500, blank=True)
    # The newest discussion or pull request number: both share one number space per repo, as on the
    # HF hub (a PR's ref is refs/pr/<num>). Taken under the row lock (repos/revisions.next_discussion_num).
    last_discussion_num = models.IntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint("owner", "repo_type", Lower("name"), name="repo_owner_type_name_ci_unique"),
        ]
        indexes = [
            models.Index(fields=["-downloads"]),
            models.Index(fields=["-likes"]),
            models.Index(fields=["-updated"]),
            models.Index(fields=["-created"]),
        ]

    def __str__(self) -> str:
        return self.repo_id

    @property
    def repo_id(self) -> str:
        return f"{self.owner.username}/{self.name}"

    @property
    def is_dataset(self) -> bool:
        return self.repo_type == self.RepoType.DATASET

    @property
    def url_prefix(self) -> str:
        """Before ``/owner/name`` in the website's and the HF protocol's URLs: "" or "/datasets"."""
        return URL_PREFIXES[self.repo_type]

    @property
    def web_path(self) -> str:
        return f"{self.url_prefix}/{self.repo_id}"

    @property
    def api_path(self) -> str:
        return f"/api/{API_SEGMENTS[self.repo_type]}/{self.repo_id}"


# As the Hugging Face Hub spells them (huggingface_hub.constants.REPO_TYPES_URL_PREFIXES).
URL_PREFIXES = {ModelRepo.RepoType.MODEL: "", ModelRepo.RepoType.DATASET: "/datasets"}
API_SEGMENTS = {ModelRepo.RepoType.MODEL: "models", ModelRepo.RepoType.DATASET: "datasets"}


class Revision(models.Model):
    """An immutable snapshot of a repo's files. ``sha`` hashes the manifest and the parent."""

    repo = models.ForeignKey(ModelRepo, on_delete=models.CASCADE, related_name="revisions")
    sha = models.CharField(max_length=40, db_index=True)
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="children")
    message = models.CharField(max_length=500, blank=True)
    description = models.TextField(blank=True)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    # The access token the author wrote with (None: the website, or an operator's command).
    token = models.ForeignKey("hub.ApiToken", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created", "-id"]
        constraints = [models.UniqueConstraint(fields=["repo", "sha"], name="revision_repo_sha_unique")]

    def __str__(self) -> str:
        return f"{self.repo_id_cached}@{self.sha[:8]}" if hasattr(self, "repo_id_cached") else self.sha


class Ref(models.Model):
    """A branch (``main``) or tag pointing at a revision."""

    class Kind(models.TextChoices):
        BRANCH = "branch"
        TAG = "tag"
        PR = "pr"  # refs/pr/<name>: a pull request's head; name is its number

    repo = models.ForeignKey(ModelRepo, on_delete=models.CASCADE, related_name="refs")
    name = models.CharField(max_length=255)
    kind = models.CharField(max_length=8, choices=Kind.choices, default=Kind.BRANCH)
    revision = models.ForeignKey(Revision, on_delete=models.PROTECT, related_name="refs")
    message = models.CharField(max_length=500, blank=True)
    # A pull request's author: besides the repo's writers, the one who may commit to refs/pr/<name>.
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        # A branch and a tag may share a name (refs/heads/x and refs/tags/x), as in git.
        constraints = [models.UniqueConstraint(fields=["repo", "kind", "name"], name="ref_repo_kind_name_unique")]


class RepoFile(models.Model):
    """One path of a revision's manifest."""

    revision = models.ForeignKey(Revision, on_delete=models.CASCADE, related_name="files")
    path = models.CharField(max_length=255)
    blob = models.ForeignKey(Blob, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["path"]
        constraints = [models.UniqueConstraint(fields=["revision", "path"], name="repofile_revision_path_unique")]


class RepoRedirect(models.Model):
    """An old ``owner/name`` of a renamed repo; requests for it are redirected to the repo's current URL.

    The row goes away when its owner creates a new repo under the old name, so
    a name is never both a redirect and a repo.
    """

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    name = models.CharField(max_length=96)
    repo = models.ForeignKey(ModelRepo, on_delete=models.CASCADE, related_name="redirects")
    created = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint("owner", Lower("name"), name="reporedirect_owner_name_ci_unique"),
        ]


class AccessRequest(models.Model):
    """A user's request for a gated repo's files, and the owner's answer (models_app/repos/gating.py)."""

    class Status(models.TextChoices):
        PENDING = "pending"
        ACCEPTED = "accepted"
        REJECTED = "rejected"

    repo = models.ForeignKey(ModelRepo, on_delete=models.CASCADE, related_name="access_requests")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="access_requests")
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.PENDING)
    fields = models.JSONField(default=dict, blank=True)  # what the requester said (the HF form's fields)
    rejection_reason = models.CharField(max_length=500, blank=True)
    granted = models.BooleanField(default=False)  # given by the owner without a request: no email shared
    created = models.DateTimeField(default=timezone.now)
    updated = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["repo", "user"], name="access_request_repo_user_unique")]
