"""WCAG contrast of the design system's colour pairs (static/css/app.css :root), in the light
theme and in the dark one (the :root of the prefers-color-scheme: dark block), run by hand:

    .venv/bin/python bench/contrast.py

Prints each pair's ratio and whether it meets AA (4.5:1 text, 3:1 large text and UI parts);
exits 1 if one does not.
"""

import re
import sys
from pathlib import Path

CSS = Path(__file__).resolve().parents[1] / "static" / "css" / "app.css"
# (what, foreground token or hex, background token or hex, minimum ratio)
PAIRS = [
    ("body text", "--fg", "--bg", 4.5),
    ("body text on white", "--fg", "--surface", 4.5),
    ("muted text", "--muted", "--bg", 4.5),
    ("muted text on table head", "--muted", "--surface-2", 4.5),
    ("link", "--accent", "--bg", 4.5),
    ("link on white", "--accent", "--surface", 4.5),
    ("primary button", "--on-accent", "--accent", 4.5),
    ("primary button hover", "--on-accent", "--accent-strong", 4.5),
    ("danger button", "--on-bad", "--bad", 4.5),
    ("error text", "--bad", "--surface", 4.5),
    ("error toast", "--bad-strong", "--bad-soft", 4.5),
    ("success toast / live badge", "--good", "--good-soft", 4.5),
    ("warning toast / draft badge", "--warn", "--warn-soft", 4.5),
    ("info toast", "--fg", "--accent-soft", 4.5),
    ("current menu item", "--accent-strong", "--surface", 4.5),
    ("badge", "--neutral", "--neutral-soft", 4.5),
    ("table head", "--neutral", "--surface-2", 4.5),
    ("mock badge", "--mock", "--mock-soft", 4.5),
    ("fail badge", "--bad-strong", "--bad-soft", 4.5),
    ("clarify badge", "--accent-strong", "--accent-soft", 4.5),
    ("alert count badge", "--on-bad", "--bad", 4.5),
    ("current menu item", "--accent-strong", "--accent-soft", 4.5),
    ("muted text in the sidebar", "--muted", "--sidebar", 4.5),
    ("muted text on the switcher", "--muted", "--surface-2", 4.5),
    ("link on the info toast", "--accent", "--accent-soft", 4.5),
    ("field and button border", "--border", "--surface", 3),
    ("field border on page", "--border", "--bg", 3),
    ("focus ring", "--focus", "--bg", 3),
    ("current menu underline", "--accent", "--surface", 3),
]


def luminance(hex_colour: str) -> float:
    h = hex_colour.lstrip("#")
    if len(h) == 3:
        h = "".join(c * 2 for c in h)
    channels = [int(h[i : i + 2], 16) / 255 for i in (0, 2, 4)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def ratio(a: str, b: str) -> float:
    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def themes() -> dict[str, dict[str, str]]:
    """{"light": tokens, "dark": tokens}: the dark theme overrides the light one's names."""
    css = CSS.read_text()
    light = re.search(r":root\s*{(.*?)}", css, re.S).group(1)
    dark = re.search(r"prefers-color-scheme:\s*dark\)\s*{\s*:root\s*{(.*?)}", css, re.S).group(1)
    tokens = dict(re.findall(r"(--[\w-]+):\s*(#[0-9a-fA-F]{3,6})", light))
    return {
        "light": tokens,
        "dark": {**tokens, **dict(re.findall(r"(--[\w-]+):\s*(#[0-9a-fA-F]{3,6})", dark))},
    }


def main() -> int:
    failures = 0
    for theme, tokens in themes().items():
        print(f"{theme} theme")
        for what, fg, bg, minimum in PAIRS:
            a, b = tokens.get(fg, fg), tokens.get(bg, bg)
            r = ratio(a, b)
            ok = r >= minimum
            failures += not ok
            print(f"  {what:30} {a} on {b}  {r:5.2f}:1  (AA {minimum}:1) {'ok' if ok else 'FAIL'}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
