"""What a deploy runs: gunicorn's settings as gunicorn.conf.py documents them, and app code that
needs none of the test tools (`make run` installs only the runtime dependencies)."""

import ast
import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
APPS = ["config", "core", "workspaces", "jobs", "knowledge", "callflows", "calls"]


def gunicorn_config(**env) -> dict[str, str]:
    """gunicorn's effective settings for `gunicorn config.wsgi`, as it prints them."""
    environ = {
        k: v for k, v in os.environ.items() if k not in {"WEB_CONCURRENCY", "GUNICORN_THREADS"}
    }
    out = subprocess.run(
        [sys.executable, "-m", "gunicorn", "--print-config", "config.wsgi"],
        cwd=ROOT, env={**environ, **env}, capture_output=True, text=True, timeout=60, check=True,
    ).stdout  # fmt: skip
    pairs = (line.split("=", 1) for line in out.splitlines() if "=" in line)
    return {key.strip(): value.strip() for key, value in pairs}


def test_gunicorn_runs_a_worker_per_core_with_threads_and_preloads():
    config = gunicorn_config()
    assert config["workers"] == str(os.cpu_count())
    assert (config["worker_class"], config["threads"]) == ("gthread", "4")
    assert config["preload_app"] == "True"


def test_gunicorn_sizes_come_from_the_environment():
    config = gunicorn_config(WEB_CONCURRENCY="8", GUNICORN_THREADS="2")
    assert (config["workers"], config["threads"]) == ("8", "2")


def _imported_roots(path: Path) -> set[str]:
    roots = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            roots.add(node.module.split(".")[0])
    return roots


def _test_tools() -> set[str]:
    """The import names of the `dev` extra, which `make run` does not install."""
    dev = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    names = {req.split(">")[0].split("=")[0].split("[")[0].strip() for req in dev["dev"]}
    aliases = {"factory-boy": "factory", "pytest-django": "pytest_django",
               "pytest-xdist": "xdist", "axe-playwright-python": "axe_playwright_python",
               "import-linter": "importlinter", "jsonschema-rs": "jsonschema_rs"}  # fmt: skip
    return {aliases.get(name, name.replace("-", "_")) for name in names}


@pytest.mark.parametrize("app", APPS)
def test_app_code_needs_no_test_tool(app):
    tools = _test_tools()
    assert "pytest" in tools and "factory" in tools
    used = {
        (path.relative_to(ROOT).as_posix(), root)
        for path in (ROOT / app).rglob("*.py")
        for root in _imported_roots(path) & tools
    }
    assert not used
