"""Measure the router: accuracy per set, latency, model load, memory, first route after start.

    .venv/bin/python bench/routing.py [--runs 300] [--misses SET] [--calibrate]

Sets: "shared" (../shared/routing/*.json beside the project root, or $PLAYBOOK_SHARED_DIR/routing;
bench/data/routing_shared when neither is there), "dev" (its dev/ folder, 60
no-job sentences), "tuned" (bench/data/routing_dev.json + routing_heldout.json, written by an
earlier session and used here for tuning) and "fresh" (bench/data/routing_fresh.json: written
blind before this router was tuned and never looked at while tuning; the honest figure) and
"fresh2" (bench/data/routing_fresh2.json: written blind later, likewise never tuned on).

Per set: in scope, how often the decision is "job" with the right job (top-1), how often the
best-ranked job is right whatever the decision (ranking), how often a "clarify" names the
right job among its two; of no-job sentences, how often the answer is "none"; clarify rate.
Baselines: the model alone (nearest sentence) and the lexical part alone, each at its own best
no-job threshold. Latency is CPU time (process_time) for one turn of a step with 10 jobs, warm,
each turn a new sentence. --calibrate prints the grid the thresholds in engine.py come from.
"""

import argparse
import os
import pathlib
import statistics
import subprocess
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
os.environ.setdefault("HF_HUB_OFFLINE", "1")


def rss_mb() -> float:
    for line in pathlib.Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


RSS_START = rss_mb()

import django  # noqa: E402

django.setup()

from calls.routing import builtin, corpus, engine, minilm  # noqa: E402

SHARED = corpus.routing_dir()  # ../shared/routing ($PLAYBOOK_SHARED_DIR), else bench/data's copy
DATA = ROOT / "bench" / "data"
SETS = {
    "shared": sorted(SHARED.glob("*.json")),
    "dev": sorted((SHARED / "dev").glob("*.json")),
    "tuned": [DATA / "routing_dev.json", DATA / "routing_heldout.json"],
    "fresh": [DATA / "routing_fresh.json"],
    "fresh2": [DATA / "routing_fresh2.json"],
}
TUNING = ("shared", "dev", "tuned")


def figures(businesses, decide=engine.route_builtin) -> dict:
    ins = right = ranked = clarify = clarify_right = nulls = rejected = 0
    misses = []
    for business in businesses:
        for said, expected in business.utterances:
            d = decide(business.candidates, said)
            top = d.ranking[0].name if d.ranking else None
            if expected is None:
                nulls += 1
                rejected += d.decision == "none"
                if d.decision != "none":
                    misses.append((business.name, said, None, d))
                continue
            ins += 1
            ranked += top == expected
            ok = d.decision == "job" and d.job.name == expected
            right += ok
            if d.decision == "clarify":
                clarify += 1
                clarify_right += expected in {o.name for o in d.options}
            if not ok:
                misses.append((business.name, said, expected, d))
    return {
        "in scope": ins,
        "no job": nulls,
        "top-1": right / ins if ins else 0,
        "ranking": ranked / ins if ins else 0,
        "top-1 or asked": (right + clarify_right) / ins if ins else 0,
        "none": rejected / nulls if nulls else float("nan"),
        "clarify": clarify / ins if ins else 0,
        "misses": misses,
    }


def baseline(part: str, businesses, threshold: float):
    """A decide() from one part of builtin.score alone (no clarify)."""

    def decide(candidates, said):
        found = builtin.score(tuple(candidates), said)
        order = sorted(found, key=lambda s: -getattr(s, part))
        best = order[0]
        match = engine._match(best)
        if getattr(best, part) < threshold:
            return engine.Decision(engine.NONE, None, match, (match,))
        return engine.Decision(engine.JOB, match, None, (match,))

    return decide


def best_threshold(part: str, businesses) -> float:
    """The baseline's own threshold: most no-job answers for at most 2 points in scope."""
    free = figures(businesses, baseline(part, businesses, -1))["top-1"]
    best = (-1.0, -1.0)
    for step in range(0, 60):
        t = step / 100
        f = figures(businesses, baseline(part, businesses, t))
        if free - f["top-1"] <= 0.02:
            best = max(best, (f["none"], t))
    return best[1]


def calibrate(businesses):
    """Every (NONE_BELOW, OFF_TOPIC_MARGIN, CLARIFY_MARGIN) on the tuning sets."""
    saved = engine.NONE_BELOW, engine.OFF_TOPIC_MARGIN, engine.CLARIFY_MARGIN
    print("\ncalibration grid (tuning sets): none_below off_margin clarify  top-1  none  clarify")
    for none_below in (0.15, 0.17, 0.19, 0.21, 0.23):
        for off in (0.08, 0.12, 0.16, 0.2, 1.0):
            for margin in (0.0, 0.01, 0.02):
                engine.NONE_BELOW, engine.OFF_TOPIC_MARGIN, engine.CLARIFY_MARGIN = (
                    none_below,
                    off,
                    margin,
                )
                f = figures(businesses)
                print(
                    f"  {none_below:.2f} {off:.2f} {margin:.2f}   {f['top-1']:.3f} "
                    f"{f['none']:.2f} {f['clarify']:.3f}"
                )
    engine.NONE_BELOW, engine.OFF_TOPIC_MARGIN, engine.CLARIFY_MARGIN = saved


FIRST_ROUTE = """
import os, time
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
import django; django.setup()
from dataclasses import replace
from calls.routing import minilm, route, routed_texts, embed, Candidate
minilm.warm()  # what config/wsgi.py does before the first request
jobs = [Candidate(i, f"Job {i}", f"Caller wants help with thing {i}") for i in range(10)]
# After a deploy, embed_jobs has stored every job's vectors: the step reads them, embeds none.
jobs = [replace(c, vectors=embed(routed_texts(c))) for c in jobs]
start = time.perf_counter()
route(jobs, "hi, I need to move my appointment to Friday")
print((time.perf_counter() - start) * 1000)
"""


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=300)
    parser.add_argument("--misses", choices=list(SETS), help="print that set's misses")
    parser.add_argument("--calibrate", action="store_true")
    args = parser.parse_args()

    before = rss_mb()
    start = time.perf_counter()
    minilm.warm()
    load_s = time.perf_counter() - start
    print(
        f"model {minilm.MODEL_ID}: load + warm-up {load_s * 1000:.0f} ms; RSS {RSS_START:.0f} MB "
        f"at start, {before:.0f} MB after Django, {rss_mb():.0f} MB with the model "
        f"(+{rss_mb() - before:.0f} MB)"
    )
    print(
        f"thresholds: none below {engine.NONE_BELOW}, off-topic margin {engine.OFF_TOPIC_MARGIN}, "
        f"clarify margin {engine.CLARIFY_MARGIN}"
    )
    data = {name: corpus.load(*paths) for name, paths in SETS.items() if paths}
    tuning = [b for name in TUNING for b in data.get(name, [])]
    thresholds = {part: best_threshold(part, tuning) for part in ("semantic", "lexical")}

    print(
        "\nset     in-scope/no-job  top-1  ranking  top-1|asked  none  clarify"
        "   | model alone: top-1 none | lexical alone: top-1 none"
    )
    for name, businesses in data.items():
        f = figures(businesses)
        base = [
            figures(businesses, baseline(part, businesses, thresholds[part]))
            for part in ("semantic", "lexical")
        ]
        print(
            f"{name:<7} {f['in scope']:>4}/{f['no job']:<4}       {f['top-1']:>5.1%}  "
            f"{f['ranking']:>6.1%}  {f['top-1 or asked']:>9.1%}  {f['none']:>5.0%}  "
            f"{f['clarify']:>6.1%}   |  {base[0]['top-1']:>6.1%} {base[0]['none']:>4.0%}"
            f"           | {base[1]['top-1']:>6.1%} {base[1]['none']:>4.0%}"
        )
        if args.misses == name:
            for business, said, expected, d in f["misses"]:
                got = d.job.name if d.job else d.decision
                print(f"    miss [{business}] {said!r}: got {got}, want {expected}")
    print("(top-1: decision 'job' and the right job; top-1|asked: or a clarify naming it)")

    if args.calibrate:
        calibrate(tuning)

    # Latency: 10 jobs (two businesses' jobs), warm; each turn a new sentence; CPU time.
    ten = tuple(c for b in data["tuned"][:3] for c in b.candidates)[:10]
    sentences = [s for bs in data.values() for b in bs for s, _ in b.utterances]
    engine.route_builtin(ten, "warm up")
    times = []
    for i in range(args.runs):
        said = f"{sentences[i % len(sentences)]} {i}"  # new text: no per-sentence cache hit
        start = time.process_time()
        engine.route_builtin(ten, said)
        times.append((time.process_time() - start) * 1000)
    times.sort()
    p95 = times[int(len(times) * 0.95) - 1]
    print(
        f"\none turn, {len(ten)} jobs, warm, CPU: p50 {statistics.median(times):.1f} ms, "
        f"p95 {p95:.1f} ms"
    )
    start = time.perf_counter()
    builtin.index.cache_clear()
    builtin._embed_one.cache_clear()
    engine.route_builtin(ten, "first turn of a new step")
    print(
        f"first turn of a step with no stored vectors (embeds its jobs): "
        f"{(time.perf_counter() - start) * 1000:.0f} ms"
    )
    first = subprocess.run(
        [sys.executable, "-c", FIRST_ROUTE], cwd=ROOT, capture_output=True, text=True, check=True
    )
    print(f"first route in a fresh process after warm-up: {float(first.stdout):.0f} ms")


if __name__ == "__main__":
    main()
