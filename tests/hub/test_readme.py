"""The docs stay true to the code: every setting variable documented, a short README, no broken links."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

from django.conf import settings

from hub.env import DOCUMENTED

ROOT = Path(__file__).resolve().parents[2]
CONFIGURATION = ROOT / "docs" / "configuration.md"
README_MAX_LINES = 200

# Some variables are read only on one branch of the settings (production mode, DATABASE_URL,
# REDIS_URL): a child process with every branch switched on registers them too. Nothing connects
# to these services while the settings load.
ALL_BRANCHES = {
    "DJANGO_DEBUG": "0",
    "DJANGO_SECRET_KEY": "test-only-secret-key-for-the-docs-check",
    "DATABASE_URL": "postgres://docs@127.0.0.1:5432/docs",
    "REDIS_URL": "redis://127.0.0.1:6379/0",
}
PROBE = "import json, django; django.setup(); from hub.env import DOCUMENTED; print(json.dumps(sorted(DOCUMENTED)))"

FENCE = re.compile(r"^(```|~~~).*?^\1", re.S | re.M)
INLINE_LINK = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
REFERENCE_LINK = re.compile(r"^\s*\[[^\]]+\]:\s*<?(\S+?)>?(?:\s+\"[^\"]*\")?\s*$", re.M)


def _undocumented(names) -> list[str]:
    text = CONFIGURATION.read_text()
    return sorted(name for name in names if f"`{name}`" not in text)


def test_every_setting_variable_is_in_the_configuration_page():
    assert settings.configured and len(DOCUMENTED) > 20  # the settings module has been read
    missing = _undocumented(DOCUMENTED)
    assert missing == [], f"docs/configuration.md lacks: {missing}"


def test_variables_read_only_in_production_or_scale_out_are_documented_too(tmp_path):
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "hub.settings", "HUB_DATA_DIR": str(tmp_path), **ALL_BRANCHES}
    done = subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    names = json.loads(done.stdout.strip().splitlines()[-1])
    assert {"DJANGO_HSTS_SECONDS", "DATABASE_CONN_MAX_AGE"} <= set(names)  # the branches were taken
    missing = _undocumented(names)
    assert missing == [], f"docs/configuration.md lacks: {missing}"


def test_readme_is_an_entry_page_of_at_most_200_lines():
    lines = (ROOT / "README.md").read_text().splitlines()
    assert len(lines) <= README_MAX_LINES, f"README.md has {len(lines)} lines; reference belongs in docs/"


def _relative_links(page: Path) -> list[str]:
    text = FENCE.sub("", page.read_text())  # code samples are not links
    targets = INLINE_LINK.findall(text) + REFERENCE_LINK.findall(text)
    return [t for t in targets if not re.match(r"^[a-z][a-z0-9+.-]*:", t, re.I) and not t.startswith("#")]


def _markdown_pages() -> list[Path]:
    return [ROOT / "README.md", ROOT / "CHANGELOG.md", *sorted((ROOT / "docs").glob("*.md"))]


def test_every_relative_link_in_the_docs_points_to_a_file():
    pages = _markdown_pages()
    assert len(pages) > 3
    broken = []
    for page in pages:
        for target in _relative_links(page):
            path = target.split("#", 1)[0].split("?", 1)[0]
            if not (page.parent / path).exists():
                broken.append(f"{page.relative_to(ROOT)} -> {target}")
    assert broken == [], f"links to missing files: {broken}"


def _slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"[`*~]|\[([^\]]*)\]\([^)]*\)", lambda m: m.group(1) or "", heading.strip()).lower()
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def _anchors(page: Path) -> set[str]:
    anchors, seen = set(), {}
    for heading in re.findall(r"^#{1,6}\s+(.+?)\s*#*$", FENCE.sub("", page.read_text()), re.M):
        slug = _slug(heading)
        anchors.add(slug if slug not in seen else f"{slug}-{seen[slug]}")
        seen[slug] = seen.get(slug, 0) + 1
    return anchors


def _local_anchors(page: Path) -> list[str]:
    text = FENCE.sub("", page.read_text())
    return [t for t in INLINE_LINK.findall(text) if t.startswith("#")]


def test_every_link_to_a_section_of_a_page_finds_its_heading():
    broken = []
    for page in _markdown_pages():
        for target in _relative_links(page) + [f"{page.name}{t}" for t in _local_anchors(page)]:
            path, _, anchor = target.partition("#")
            linked = page.parent / path.split("?", 1)[0]
            if anchor and linked.suffix == ".md" and linked.exists() and anchor not in _anchors(linked):
                broken.append(f"{page.relative_to(ROOT)} -> {target}")
    assert broken == [], f"links to missing headings: {broken}"
