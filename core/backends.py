"""Pluggable parts chosen by one setting each, as Django's EMAIL_BACKEND.

    ROUTER = BackendSetting("ROUTER_BACKEND", method="route", short_names={
        "builtin": "calls.routing.engine.BuiltinRouter", "llm": "calls.routing.llm.LLMRouter"})
    ROUTER.load().route(...)

The setting holds a short name (any case, spaces around it ignored: " Builtin " is "builtin") or
the dotted path of a class with the one method, loaded with `import_string`. Unset or empty means
`default`. The instance is made once per process and path, so a backend keeps no per-call state.
A value that names no backend raises ImproperlyConfigured when used, and the system check below
reports it at startup (`manage.py check`, `runserver`, `migrate`).

The declarations live with the backends (calls.routing.engine.ROUTER, jobs.optimizer.OPTIMIZER);
each app imports its declaration in `ready()`, so the check sees it without importing upward.
"""

from functools import lru_cache

from django.conf import settings
from django.core import checks
from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import import_string

_declared: dict[str, "BackendSetting"] = {}  # by setting name


class BackendSetting:
    """One setting that names a backend, its short names and the one method a backend has."""

    def __init__(
        self, setting: str, *, method: str, short_names: dict[str, str], default: str = "builtin"
    ):
        assert default in short_names
        self.setting = setting
        self.method = method
        self.short_names = short_names
        self.default = default
        names = ", ".join(f'"{name}"' for name in short_names)
        self.choices = f"{names} or a dotted path to a backend class"
        _declared[setting] = self

    def __repr__(self) -> str:
        return f"<BackendSetting {self.setting}>"

    def value(self) -> str:
        """The setting as written ("" when unset; settings need not be configured)."""
        found = getattr(settings, self.setting, None) if settings.configured else None
        return "" if found is None else str(found)

    def path(self) -> str:
        """The dotted path of the configured backend class."""
        value = self.value().strip() or self.default
        if value.lower() in self.short_names:
            return self.short_names[value.lower()]
        if "." in value:
            return value
        raise ImproperlyConfigured(f"{self.setting} must be {self.choices}, not {value!r}.")

    def load(self):
        """The configured backend (one instance per process and path)."""
        return _instance(self.setting, self.path(), self.method, self.choices)

    def uses(self, short_name: str) -> bool:
        """Whether the setting names the backend `short_name` stands for (by either name)."""
        return self.path() == self.short_names[short_name]

    def check(self) -> list[checks.CheckMessage]:
        try:
            self.load()
        except ImproperlyConfigured as error:
            return [checks.Error(str(error), id="core.E001")]
        return []


@lru_cache(maxsize=32)
def _instance(setting: str, path: str, method: str, choices: str):
    try:
        cls = import_string(path)
    except ImportError as error:
        raise ImproperlyConfigured(
            f"{setting} = {path!r} names no backend ({error}); it must be {choices}."
        ) from error
    if not isinstance(cls, type) or not callable(getattr(cls, method, None)):
        raise ImproperlyConfigured(
            f"{setting} = {path!r} is not a backend class (a class with the method {method}())."
        )
    return cls()


@checks.register()
def check_backends(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    """Every declared backend setting names a loadable backend."""
    return [message for declared in _declared.values() for message in declared.check()]
