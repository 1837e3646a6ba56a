import pytest


@pytest.fixture(autouse=True)
def builtin_backend(settings):
    # Whatever the environment says, these tests pick their backend explicitly.
    settings.OPTIMIZER_BACKEND = "builtin"
