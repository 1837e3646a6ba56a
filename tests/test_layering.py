"""Reads never depend on writes: no selectors module imports a services module."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# A selectors module, or each module of a selectors package (calls/selectors/).
SELECTORS = sorted([*ROOT.glob("*/selectors.py"), *ROOT.glob("*/selectors/*.py")])


def imported_modules(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            names.update(f"{base}.{alias.name}" for alias in node.names)
    return names


@pytest.mark.parametrize("path", SELECTORS, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_selectors_do_not_import_services(path):
    assert not [name for name in imported_modules(path) if "services" in name.split(".")]


def test_the_check_sees_the_selectors():
    apps = {p.relative_to(ROOT).parts[0] for p in SELECTORS}
    assert apps >= {"callflows", "jobs", "calls"}


def test_every_app_has_its_place_in_the_layers():
    """import-linter (`make lint`) holds the layers of pyproject.toml; an app missing from them
    would be free to import anything, so a new app fails here until it is placed."""
    import tomllib

    from django.apps import apps

    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    linter = config["tool"]["importlinter"]
    [layers] = [c for c in linter["contracts"] if c["type"] == "layers"]
    layered = {name.strip() for layer in layers["layers"] for name in layer.split("|")}
    ours = {app.name for app in apps.get_app_configs() if Path(app.path).parent == ROOT}
    assert ours == layered
    assert set(linter["root_packages"]) == layered | {"config"}
