"""Time the built-in job-instructions rewriter at 1k, 5k and 10k characters.

    .venv/bin/python bench/optimizer.py [--runs 50]

Inputs are made from the test corpus (realistic, messy instructions) glued together and cut at
a sentence end; each size is optimized `--runs` times. Prints the median and max wall time.
"""

import argparse
import os
import pathlib
import statistics
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402

from jobs.optimizer import OptimizeRefused, optimize  # noqa: E402

CORPUS = ROOT / "tests" / "optimizer" / "corpus"
SIZES = (1_000, 5_000, 10_000)


def corpus_text() -> str:
    texts = []
    for path in sorted(CORPUS.glob("*.txt")):
        text = path.read_text(encoding="utf-8")
        if text.startswith("trigger:"):
            text = text.partition("\n")[2]
        texts.append(text.strip())
    return "\n\n".join(texts)


def sample(text: str, size: int) -> str:
    """The first `size` characters of `text`, cut back to the last sentence end."""
    while len(text) < size:
        text += "\n\n" + text
    cut = text[:size]
    end = max(cut.rfind(". "), cut.rfind(".\n"))
    return cut[: end + 1] if end > 0 else cut


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=50, help="runs per size (default 50)")
    args = parser.parse_args()
    if getattr(settings, "OPTIMIZER_BACKEND", "builtin") != "builtin":
        settings.OPTIMIZER_BACKEND = "builtin"  # this bench measures the built-in rewriter only

    text = corpus_text()
    print(f"built-in rewriter, {args.runs} runs per size")
    print(f"{'input chars':>11}  {'output chars':>12}  {'median ms':>9}  {'max ms':>7}")
    for size in SIZES:
        source = sample(text, size)
        timings = []
        output = ""
        for _ in range(args.runs):
            start = time.perf_counter()
            try:
                output = optimize(source, trigger="Caller needs help").text
            except OptimizeRefused as refused:
                output = f"(refused: {refused})"
            timings.append((time.perf_counter() - start) * 1000)
        print(
            f"{len(source):>11,}  {len(output):>12,}  {statistics.median(timings):>9.1f}  "
            f"{max(timings):>7.1f}"
        )


if __name__ == "__main__":
    main()
