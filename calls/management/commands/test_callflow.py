from .run_scenarios import Command as RunScenarios


class Command(RunScenarios):
    """The older name of run_scenarios (kept for teams' CI): the same run and output; bad
    input exits with status 1 as it always did (run_scenarios: 2)."""

    help = (
        "Run every scenario (saved test cases included) of every Sona step of a number against "
        "its draft or live version (the same check that blocks publishing). Prints PASS or FAIL "
        "with the turn and the reason for each and a total; exits with status 1 when one fails "
        "or the input is bad, so a team can run it in its own CI. Read-only; any member of the "
        "workspace may run it. run_scenarios does the same, with --junit and exit status 2 for "
        "bad input."
    )
    bad_input = 1
