from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management.base import CommandError

from core.errors import error_messages
from core.management.base import ServiceCommand
from knowledge.fetch import extract_url
from knowledge.services import knowledge_import
from knowledge.sources import FILE_MAX_BYTES, extract_file
from workspaces.management.base import get_user, get_workspace


class Command(ServiceCommand):
    help = (
        "Import knowledge pages from files (.txt .md .csv .json .pdf, at most 10 MB each) and "
        "web pages (http:// or https://). A text longer than 20,000 characters becomes several "
        "pages. All or nothing: one bad source imports nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("sources", nargs="+", metavar="FILE_OR_URL")
        parser.add_argument("--workspace", required=True, help="Workspace slug.")
        parser.add_argument("--user", required=True, help="Email of the user acting.")
        parser.add_argument(
            "--dry-run", action="store_true", help="Check and report, change nothing."
        )
        parser.add_argument(
            "--max-pages",
            type=int,
            default=None,
            metavar="N",
            help="Create at most N pages (default: the KNOWLEDGE_IMPORT_MAX_PAGES setting, "
            f"{settings.KNOWLEDGE_IMPORT_MAX_PAGES}). Larger imports must ask for it.",
        )

    def handle(self, *args, sources, workspace, user, dry_run, max_pages, **options):
        workspace, user = get_workspace(workspace), get_user(user)
        if max_pages is not None and max_pages < 1:
            raise CommandError("--max-pages must be at least 1.")
        try:
            extracted = [self._extract(source) for source in sources]
            pages = knowledge_import(
                workspace=workspace,
                user=user,
                sources=extracted,
                dry_run=dry_run,
                max_pages=max_pages,
            )
        except ValidationError as exc:
            raise CommandError(f"Nothing imported. {' '.join(error_messages(exc))}") from exc
        for page in pages:
            self.stdout.write(f"{page.title} ({len(page.body):,} characters)")
        prefix = "Dry run, nothing saved: would have created" if dry_run else "Created"
        self.stdout.write(f"{prefix} {len(pages)} page(s).")

    def _extract(self, source: str):
        if source.startswith(("http://", "https://")):
            return extract_url(source)
        path = Path(source)
        try:
            if path.stat().st_size > FILE_MAX_BYTES:  # before reading it into memory
                raise ValidationError(f"{path.name}: the file is larger than 10 MB.")
            data = path.read_bytes()
        except OSError as exc:
            raise CommandError(f"Cannot read {source}: {exc.strerror}.") from exc
        return extract_file(path.name, data)
