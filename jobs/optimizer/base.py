"""What every optimizer backend returns, and the rules they share."""

from dataclasses import dataclass, field

# Mirrors jobs.models.INSTRUCTIONS_MAX; not imported so the optimizer works without the app
# registry (benchmarks, plain scripts).
MAX_CHARS = 10_000

NOTHING_TO_CHANGE = "Already optimized: nothing to change."


class OptimizeRefused(Exception):
    """The rewrite would break a rule (too long); callers keep the original text."""


@dataclass(frozen=True)
class Result:
    text: str
    changes: list[str] = field(default_factory=list)
    already_optimized: bool = False
    backend: str = "builtin"
    notice: str = ""


def normalize(text: str) -> str:
    """Line endings and trailing spaces are not content: compare texts without them."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    return "\n".join(line.rstrip() for line in lines).strip("\n").strip()


def check_length(text: str) -> None:
    if len(text) > MAX_CHARS:
        raise OptimizeRefused(
            f"The optimized instructions would be {len(text):,} characters, over the "
            f"{MAX_CHARS:,}-character limit, so your text was kept as it was. "
            "Shorten the instructions, then optimize again."
        )
