from django.core.management.base import CommandError

from calls import scenarios
from calls.selectors import mock
from core.management.base import ServiceCommand

from ._common import number_for


class Command(ServiceCommand):
    help = (
        "Write the scenarios of a number's Sona step as a YAML file import_scenarios reads "
        "(it round-trips). Read-only; any member of the workspace may run it."
    )

    def add_arguments(self, parser):
        parser.add_argument("--number", required=True, help="The phone number, E.164.")
        parser.add_argument("--user", required=True, help="Email of the member acting.")
        parser.add_argument(
            "--step", default="", help="The Sona step's key (default: the first Sona step)."
        )
        parser.add_argument("--output", help="File to write (default: standard output).")

    def handle(self, *args, number, user, step, output, **options):
        phone = number_for(number, user, "export scenarios")
        step_key = step.strip()
        if not step_key:
            draft, _ = mock.snapshot_of(phone.call_flow, mock.DRAFT)
            steps = mock.sona_steps(draft)
            if not steps:
                raise CommandError(mock.NO_SONA_STEP)
            step_key = steps[0]["key"]
        found = scenarios.step_scenarios(call_flow=phone.call_flow, step_key=step_key)
        text = scenarios.dump_file(step_key, found)
        done = f"Exported {len(found)} scenario(s) of step {step_key} to {output}."
        self.write_output(text, output, done)
