"""The one rule for text the database can store: no NUL, no lone surrogate.

PostgreSQL refuses NUL in text columns and no database encodes a lone surrogate (what a JSON
"\\ud800" escape or an undecodable command argument turns into), so such input is refused at the
edge, with a message, before it can reach a query. Pages, the API, commands and import files all
ask this module.
"""

import json
import re
from collections.abc import Mapping

from django.core.exceptions import ValidationError

_BAD = re.compile("[\x00\ud800-\udfff]")
MESSAGE = (
    "{what} contains a character that cannot be stored (a NUL byte or a broken Unicode "
    "character). Remove it and try again."
)


def bad_text(value: str) -> bool:
    return bool(_BAD.search(value))


def check_text(value: str, what: str = "This value") -> None:
    """Raise ValidationError when `value` holds NUL or a lone surrogate."""
    if isinstance(value, str) and bad_text(value):
        raise ValidationError(MESSAGE.format(what=what), code="bad_character")


def check_data(data, what: str = "The input") -> None:
    """check_text on every string (keys included) of nested JSON-like data, naming the path."""
    stack = [(data, what)]
    while stack:
        value, where = stack.pop()
        if isinstance(value, str):
            check_text(value, where)
        elif isinstance(value, Mapping):
            for key, item in value.items():
                check_text(str(key), where)
                stack.append((item, f"{where} › {key}"))
        elif isinstance(value, list | tuple):
            stack.extend((item, f"{where} › {i + 1}") for i, item in enumerate(value))


_SURROGATE = re.compile("[\ud800-\udfff]")


def storable_text(value: str) -> str:
    """`value` without NUL and with each lone surrogate replaced by U+FFFD, for text extracted
    from files and web pages (a PDF's font map or a page in UTF-7 can yield either)."""
    return _SURROGATE.sub("\ufffd", value.replace("\x00", ""))


def parse_json(data: str | bytes, what: str = "The input"):
    """json.loads, with every failure a ValidationError "<what> is not valid JSON: <why>.":
    bad syntax, bytes that are not UTF-8 (a byte order mark is allowed), a number too long to
    convert, and nesting deeper than the parser's recursion limit (RecursionError, e.g.
    100,000 "[", which would otherwise be a server error)."""
    try:
        # utf-8-sig: files saved by Windows editors start with a byte order mark.
        text = data.decode("utf-8-sig") if isinstance(data, bytes) else data
        return json.loads(text)
    except RecursionError:
        raise ValidationError(
            f"{what} is not valid JSON: it is nested too deeply.", code="json_too_deep"
        ) from None
    except ValueError as exc:  # JSONDecodeError, UnicodeDecodeError, int-conversion limit
        raise ValidationError(f"{what} is not valid JSON: {exc}.", code="json_invalid") from None
