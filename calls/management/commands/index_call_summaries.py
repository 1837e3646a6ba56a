from calls import search
from core.management.base import ServiceCommand


class Command(ServiceCommand):
    help = (
        "Copy the summaries of the calls reported since the last run into the Calls page's "
        "search index (what the worker's beat does every CALL_SEARCH_INDEX_SECONDS; run it from "
        "cron where no worker runs). Idempotent. A system job: it acts as no user."
    )

    def handle(self, *args, **options):
        done = search.index_summaries()
        self.stdout.write(f"Indexed {done:,} call summar{'y' if done == 1 else 'ies'}.")
