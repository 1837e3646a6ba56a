"""Measure the router: accuracy per set and business, baselines, latency, model load and memory.

    .venv/bin/python bench/routing.py [--runs 300] [--misses]

Sets: "shared" (/work/shared/routing, or $ROUTING_SHARED), "dev" (bench/data/routing_dev.json,
tuned on) and "held-out" (bench/data/routing_heldout.json, written before any tuning, never
tuned on). Baselines: plain BM25 over name + caller intent (no stemming, no synonyms), the
semantic model alone (WordLlama, nearest sentence) and the lexical part alone. Latency: one turn
for a step of 10 jobs, warm (index cached, the caller's sentence new each time).
"""

import argparse
import math
import os
import pathlib
import resource
import statistics
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402

from calls.routing import Decision, Match, builtin, corpus, engine, route, semantic  # noqa: E402  # noqa: E402
from calls.routing.text import words  # noqa: E402

SHARED = pathlib.Path(os.environ.get("ROUTING_SHARED", "/work/shared/routing"))
SETS = {
    "shared": sorted(SHARED.glob("*.json")),
    "dev": [ROOT / "bench" / "data" / "routing_dev.json"],
    "held-out": [ROOT / "bench" / "data" / "routing_heldout.json"],
}


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def decide(scored, no_job_below):
    """A Decision from [(score, Match)], for the baselines (same threshold rule)."""
    ranking = tuple(m for _, m in sorted(scored, key=lambda x: -x[0]))
    best = sorted(scored, key=lambda x: -x[0])[0]
    job = best[1] if best[0] >= no_job_below else None
    return Decision(job, None, ranking, False)


def plain_bm25(candidates, said, k1=1.5, b=0.75):
    docs = [[w for w in words(f"{c.name} {c.trigger}")] for c in candidates]
    avg = sum(map(len, docs)) / len(docs)
    query = set(words(said))
    scored = []
    for c, doc in zip(candidates, docs, strict=True):
        value = 0.0
        for term in query:
            df = sum(term in d for d in docs)
            tf = doc.count(term)
            if tf:
                idf = math.log(1 + (len(docs) - df + 0.5) / (df + 0.5))
                value += idf * tf * (k1 + 1) / (tf + k1 * (1 - b + b * len(doc) / avg))
        scored.append((value, Match(c.id, c.name, value)))
    return scored


def part(index):  # 1: lexical, 2: semantic (of builtin.score's tuples)
    def score(candidates, said):
        return [(s[index], s[-1]) for s in builtin.score(tuple(candidates), said)]

    return score


def best_threshold(businesses, scorer):
    """The baselines get their own best no-job threshold, so the comparison is fair to them."""
    best = (0, 0.0)
    for step in range(0, 40):
        threshold = step / 40 * (4 if scorer is plain_bm25 else 1)
        total, wrong = corpus.misses(businesses, lambda c, s, t=threshold: decide(scorer(c, s), t))
        best = max(best, (total - len(wrong), threshold))
    return best[1]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=300)
    parser.add_argument("--misses", action="store_true", help="print every miss")
    args = parser.parse_args()

    before = rss_mb()
    start = time.perf_counter()
    semantic.model()
    load_s = time.perf_counter() - start
    print(f"model load: {load_s:.2f} s, memory (max RSS delta): {rss_mb() - before:.0f} MB")
    no_job, margin = engine.thresholds()
    print(f"backend {settings.ROUTER_BACKEND}, no job below {no_job}, ambiguous margin {margin}")

    data = {name: corpus.load(*paths) for name, paths in SETS.items()}
    tuned = data["shared"] + data["dev"]
    baselines = {"plain BM25": plain_bm25, "semantic only": part(2), "lexical only": part(1)}
    thresholds = {name: best_threshold(tuned, scorer) for name, scorer in baselines.items()}
    print("\nset         utterances  router  " + "  ".join(f"{b:>13}" for b in baselines))
    for name, businesses in data.items():
        total, wrong = corpus.misses(businesses, route)
        row = [
            1
            - len(corpus.misses(businesses, lambda c, s, sc=sc, t=t: decide(sc(c, s), t))[1])
            / total
            for sc, t in ((baselines[b], thresholds[b]) for b in baselines)
        ]
        print(
            f"{name:<11} {total:>10}  {1 - len(wrong) / total:>6.0%}  "
            + "  ".join(f"{r:>13.0%}" for r in row)
        )
    print("(baselines use their best no-job threshold on shared + dev)")

    for name, businesses in data.items():
        print(f"\n{name}: per business")
        for business in businesses:
            total, wrong = corpus.misses([business], route)
            print(f"  {business.name:<22} {total - len(wrong):>2}/{total}")
            for _, said, expected, got in wrong if args.misses or name != "dev" else []:
                print(f"      miss: {said!r}: got {got}, want {expected}")

    # Ambiguous flag: how often it marks right and wrong picks.
    flagged = {True: 0, False: 0}
    counts = {True: 0, False: 0}
    for business in tuned:
        for said, expected in business.utterances:
            decision = route(business.candidates, said)
            if decision.job:
                right = decision.job.name == expected
                counts[right] += 1
                flagged[right] += decision.ambiguous
    print(
        f"\nambiguous flag (shared + dev): {flagged[False]}/{counts[False]} wrong picks, "
        f"{flagged[True]}/{counts[True]} right picks"
    )

    # Latency: 10 jobs (two businesses' jobs), warm; each turn a new sentence.
    ten = tuple([c for c in data["held-out"][0].candidates] + list(data["held-out"][1].candidates))[
        :10
    ]
    sentences = [s for b in data.values() for bz in b for s, _ in bz.utterances]
    route(ten, "warm up")
    times = []
    for i in range(args.runs):
        said = f"{sentences[i % len(sentences)]} {i}"  # new text: no per-sentence cache hit
        start = time.perf_counter()
        route(ten, said)
        times.append((time.perf_counter() - start) * 1000)
    times.sort()
    p95 = times[int(len(times) * 0.95) - 1]
    print(
        f"\none turn, {len(ten)} jobs, warm: p50 {statistics.median(times):.1f} ms, "
        f"p95 {p95:.1f} ms"
    )
    start = time.perf_counter()
    builtin.index.cache_clear()
    semantic._embed_one.cache_clear()
    route(ten, "first turn of a new step")
    print(f"first turn of a step (index built): {(time.perf_counter() - start) * 1000:.0f} ms")


if __name__ == "__main__":
    main()
