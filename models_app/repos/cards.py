"""Model cards: README.md with YAML front matter in the Hugging Face card format.

``validate_card`` checks a card as the uploader wrote it (``/api/validate-yaml``
calls it too); ``parse_card`` reads it, with the limits of ``card_yaml.py``,
before a commit's transaction opens; ``card_apply`` copies the parsed metadata
onto the repo inside that transaction, so the repo row and the revision always agree;
``render_card`` gives the safe HTML of a revision's card, or a card generated
from the repo's metadata when there is none.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import yaml

from hub.markdown import render_markdown
from models_app.repos.card_vocab import LANGUAGE_RE, LIBRARIES, LICENSES, PIPELINE_TAGS
from models_app.repos.card_yaml import CardYamlError, load_front_matter

CARD_PATH = "README.md"
# A card larger than this is still stored and served, but not parsed (YAML bombs, huge tables).
MAX_CARD_BYTES = 1024 * 1024
KNOWN_KEYS = {
    "license",
    "license_name",
    "license_link",
    "language",
    "tags",
    "datasets",
    "metrics",
    "base_model",
    "base_model_relation",
    "library_name",
    "pipeline_tag",
    "model-index",
    "widget",
    "inference",
    "thumbnail",
    "co2_eq_emissions",
    "model_name",
    "new_version",
    "extra_gated_prompt",
    "extra_gated_fields",
}
_FRONT_MATTER = re.compile(r"\A\ufeff?---[ \t]*\r?\n(.*?)(?:\r?\n)?^---[ \t]*(?:\r?\n|\Z)", re.DOTALL | re.MULTILINE)


@dataclass
class Card:
    meta: dict = field(default_factory=dict)
    body: str = ""
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def split_front_matter(text: str) -> tuple[str | None, str]:
    """``(yaml text or None, markdown body)``."""
    match = _FRONT_MATTER.match(text)
    if match is None:
        return None, text
    return match.group(1), text[match.end() :]


def _as_list(value) -> list:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def parse_card(text: str, *, repo_type: str = "model") -> Card:
    """Parse and check a card; errors make it unusable, warnings are advice (a dataset's card needs no task)."""
    card = Card()
    raw, card.body = split_front_matter(text)
    if raw is None:
        if text.lstrip().startswith("---"):
            card.errors.append("The YAML front matter is not closed: end it with a line holding only '---'.")
        else:
            card.warnings.append("The card has no YAML front matter (license, pipeline_tag, tags…) at the top.")
        _check_body(card)
        return card
    try:
        meta = load_front_matter(raw) if raw.strip() else {}
    except CardYamlError as exc:
        card.errors.append(str(exc))
        return card
    if meta is None:
        meta = {}
    if not isinstance(meta, dict):
        card.errors.append("The front matter must be a YAML mapping (key: value lines).")
        return card
    card.meta = meta
    _check_meta(card, repo_type)
    _check_body(card)
    return card


def _check_meta(card: Card, repo_type: str = "model") -> None:
    meta, errors, warnings = card.meta, card.errors, card.warnings
    license_id = meta.get("license")
    if license_id is None:
        warnings.append(f"No license: add e.g. 'license: apache-2.0' so people know how they may use the {repo_type}.")
    elif not isinstance(license_id, str) or license_id.lower() not in LICENSES:
        errors.append(
            f"'license: {license_id}' is not a known license id; use one like apache-2.0, mit, cc-by-4.0, "
            "or 'other' with license_name and license_link."
        )
    elif license_id.lower() == "other" and not meta.get("license_name"):
        warnings.append("'license: other' should come with license_name and license_link.")
    task = meta.get("pipeline_tag")
    if task is None:
        if repo_type == "model":  # a dataset has no reference task to pick
            warnings.append("No pipeline_tag: the hub cannot pick a reference task for validation from the card.")
    elif not isinstance(task, str) or task not in PIPELINE_TAGS:
        errors.append(f"'pipeline_tag: {task}' is not a known task; use one like text-classification or fill-mask.")
    library = meta.get("library_name")
    if library is not None and (not isinstance(library, str) or library not in LIBRARIES):
        warnings.append(f"'library_name: {library}' is not a library the hub knows; it is kept as written.")
    for key in ("tags", "datasets", "metrics", "language", "base_model"):
        value = meta.get(key)
        if value is not None and not all(isinstance(item, str | int | float) for item in _as_list(value)):
            errors.append(f"'{key}' must be a string or a list of strings.")
    for lang in _as_list(meta.get("language")):
        if isinstance(lang, str) and not LANGUAGE_RE.match(lang):
            warnings.append(f"'language: {lang}' does not look like an ISO 639 code (e.g. en, fr, zh).")
    if "model-index" in meta:
        _check_model_index(meta["model-index"], errors)
    unknown = sorted(str(key) for key in meta if key not in KNOWN_KEYS)
    if unknown:
        warnings.append(f"Unknown front matter keys are kept but not used: {', '.join(unknown)}.")


def _check_model_index(index, errors: list[str]) -> None:
    if not isinstance(index, list):
        errors.append("'model-index' must be a list of {name, results}.")
        return
    for entry in index:
        if not isinstance(entry, dict) or "name" not in entry or not isinstance(entry.get("results", []), list):
            errors.append("Each 'model-index' entry needs a name and a list of results.")
            return
        for result in entry.get("results", []):
            if not isinstance(result, dict) or not isinstance(result.get("task"), dict):
                errors.append("Each model-index result needs a task: {type: ...}.")
                return
            for metric in result.get("metrics", []) or []:
                if not isinstance(metric, dict) or "type" not in metric or "value" not in metric:
                    errors.append("Each model-index metric needs a type and a value.")
                    return


def _check_body(card: Card) -> None:
    if len(card.body.strip()) < 20:
        card.warnings.append("The card has almost no text: describe the model, its training data and its limits.")


def validate_card(text: str) -> tuple[list[str], list[str]]:
    """``(errors, warnings)`` for a README.md's text."""
    card = parse_card(text)
    return card.errors, card.warnings


def read_card(revision) -> str | None:
    """The text of ``revision``'s README.md, or None when it has none (or it is too large to parse)."""
    from models_app.models import RepoFile

    sha = RepoFile.objects.filter(revision=revision, path=CARD_PATH).values_list("blob_id", flat=True).first()
    return blob_text(sha) if sha else None


def blob_text(sha256: str) -> str | None:
    """A stored blob as text, or None when it is missing or over ``MAX_CARD_BYTES``."""
    from models_app.models import Blob
    from models_app.storage import get_store

    blob = Blob.objects.filter(sha256=sha256).first()
    if blob is None or blob.size > MAX_CARD_BYTES:
        return None
    with get_store().open(blob.storage_key) as handle:
        return handle.read().decode("utf-8", errors="replace")


def card_apply(repo, card: Card | None) -> None:
    """Copy a parsed card's metadata onto ``repo`` (called inside the commit's transaction).

    ``card`` None: the README is gone, so the card metadata goes too; the
    fields set when the repo was created stay. The card was parsed before the
    transaction opened (parsing is the expensive part, and a lock held while a
    large card is read would stall every other writer); a card with errors
    never gets here, the caller refuses it.
    """
    if card is None:
        repo.card_meta = {}
        repo.save(update_fields=["card_meta"])
        return
    meta = card.meta
    repo.card_meta = meta
    if isinstance(meta.get("license"), str):
        repo.license = meta["license"].lower()[:64]
    if isinstance(meta.get("pipeline_tag"), str):
        repo.pipeline_tag = meta["pipeline_tag"][:64]
    if isinstance(meta.get("library_name"), str):
        repo.library_name = meta["library_name"][:64]
    if "tags" in meta:
        repo.tags = [str(tag)[:64] for tag in _as_list(meta["tags"])][:100]
    if "language" in meta:
        repo.languages = [str(lang)[:16] for lang in _as_list(meta["language"])][:100]
    repo.save(update_fields=["card_meta", "license", "pipeline_tag", "library_name", "tags", "languages"])


def card_generate(repo) -> str:
    """A card for a repo whose revision has no README.md, from the repo's own metadata."""
    lines = ["---"]
    if repo.license:
        lines.append(f"license: {repo.license}")
    if repo.pipeline_tag:
        lines.append(f"pipeline_tag: {repo.pipeline_tag}")
    if repo.library_name:
        lines.append(f"library_name: {repo.library_name}")
    if repo.tags:
        lines.append("tags:")
        lines += [f"- {yaml.safe_dump(str(tag), default_style=None).splitlines()[0]}" for tag in repo.tags]
    lines += ["---", "", f"# {repo.name}", ""]
    task = f" for {repo.pipeline_tag.replace('-', ' ')}" if repo.pipeline_tag else ""
    lines.append(f"A model{task} published by {repo.owner.username}. The owner has not written a model card yet.")
    if repo.license:
        lines += ["", f"License: {repo.license}."]
    return "\n".join(lines) + "\n"


@dataclass
class RenderedCard:
    html: str
    meta: dict
    generated: bool


def render_card(repo, revision=None) -> RenderedCard:
    """Safe HTML of the card of ``revision`` (a README.md's body, or a generated card)."""
    text = read_card(revision) if revision is not None else None
    generated = text is None
    if generated:
        text = card_generate(repo)
    _, body = split_front_matter(text)
    meta = repo.card_meta if not generated else {}
    return RenderedCard(html=render_markdown(body), meta=meta, generated=generated)
