"""Throughput of the scoring engine, next to a plain-Python sum of the same points.

Both are measured in the same run on the same deterministic workload of valid AUDIT answer
sets (with patient facts), so the ratio does not depend on the machine:

- engine: ``evaluate(catalogue, "audit", answers, facts)``: validation, skip logic, points,
  zone, level rules, flags, pathways and follow-up, with reasons;
- plain sum: for each answer set, look each option index up in a points table and add them
  up (no validation, no rules): the least work any scorer must do.

The last line printed is one JSON object:

    {"bench": "score", "assessments_per_s": <engine evaluations per second>,
     "ratio_vs_plain_sum": <plain-sum throughput / engine throughput>}

so ``ratio_vs_plain_sum`` says how many times slower the full engine is than the bare sum.
Runs in about 10 seconds.
"""

from __future__ import annotations

import json
import random
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from screening.core import PatientFacts, evaluate, load_catalogue  # noqa: E402

WORKLOAD = 5_000
ROUNDS = 3
SECONDS_PER_ROUND = 1.5
MEDICATION = ["sedatives", "strong_painkillers", "blood_thinners", "fall", "memory", "low_mood"]


def random_vector(rng: random.Random) -> list[int | None]:
    """A valid AUDIT index vector, None for items the skip logic does not ask."""
    first = rng.randint(0, 4)
    if first == 0:
        middle: list[int | None] = [None] * 7
    else:
        q2, q3 = rng.randint(0, 4), rng.randint(0, 4)
        rest = [None] * 5 if q2 + q3 == 0 else [rng.randint(0, 4) for _ in range(5)]
        middle = [q2, q3, *rest]
    return [first, *middle, rng.randint(0, 2), rng.randint(0, 2)]


def per_second(work: Callable[[], int]) -> float:
    """Best throughput (units per second) over ROUNDS rounds of about SECONDS_PER_ROUND."""
    best = 0.0
    for _ in range(ROUNDS):
        done, start = 0, time.perf_counter()
        while (elapsed := time.perf_counter() - start) < SECONDS_PER_ROUND:
            done += work()
        best = max(best, done / elapsed)
    return best


def main() -> None:
    catalogue = load_catalogue()
    audit = catalogue.instrument("audit")
    rng = random.Random(20240501)
    vectors = [random_vector(rng) for _ in range(WORKLOAD)]
    cases = [
        (
            {i: v for i, v in zip(audit.item_ids, vector, strict=True) if v is not None},
            PatientFacts(
                rng.choice(["male", "female"]),
                rng.randint(18, 95),
                rng.choice(["home_care", "gp_practice"]),
                frozenset(rng.sample(MEDICATION, rng.randint(0, 2))),
            ),
        )
        for vector in vectors
    ]
    table = audit.points_table
    plain_vectors = [[0 if v is None else v for v in vector] for vector in vectors]

    def engine() -> int:
        for answers, facts in cases:
            evaluate(catalogue, "audit", answers, facts)
        return len(cases)

    def plain_sum() -> int:
        for vector in plain_vectors:
            sum([row[v] for row, v in zip(table, vector)])
        return len(plain_vectors)

    # the two must agree on the totals they compute
    for (answers, facts), vector in zip(cases[:200], plain_vectors[:200], strict=True):
        total = sum(row[v] for row, v in zip(table, vector, strict=True))
        assert evaluate(catalogue, "audit", answers, facts).total == total

    engine_rate = per_second(engine)
    plain_rate = per_second(plain_sum)
    print(f"engine:    {engine_rate:12,.0f} assessments/s  ({1e6 / engine_rate:.1f} µs each)")
    print(f"plain sum: {plain_rate:12,.0f} sums/s         ({1e6 / plain_rate:.2f} µs each)")
    # ratio = plain-sum throughput / engine throughput (how many times slower the engine is)
    result = {
        "bench": "score",
        "assessments_per_s": round(engine_rate),
        "ratio_vs_plain_sum": round(plain_rate / engine_rate, 1),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
