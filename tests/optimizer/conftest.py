import pathlib

import pytest

CORPUS = pathlib.Path(__file__).parent / "corpus"


def load_item(path: pathlib.Path) -> tuple[str, str]:
    """A corpus file: an optional first line "trigger: ...", then the instructions."""
    text = path.read_text(encoding="utf-8")
    first, _, rest = text.partition("\n")
    if first.startswith("trigger:"):
        return first.removeprefix("trigger:").strip(), rest
    return "", text


@pytest.fixture(autouse=True)
def builtin_backend(settings):
    # Whatever the environment says, these tests pick their backend explicitly.
    settings.OPTIMIZER_BACKEND = "builtin"
