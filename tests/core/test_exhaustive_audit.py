"""Every AUDIT index vector (5^8 · 3^2 = 3,515,625) against a re-derivation written here.

The re-derivation uses only clinical-rules §1 (points S1, totals S2, skip logic S3, zones Z),
not the instrument file or the core: p1..p8 = index, p9 = 2·index, p10 = 2·index; item 1 = 0
means items 2-8 are not asked; items 2 and 3 both 0 means items 4-8 are not asked.  A vector
is valid when every item that is not asked is 0.  Every valid vector must score exactly as
derived; a deterministic sample of the invalid ones must be rejected naming a skipped item.
"""

from __future__ import annotations

import itertools

import pytest

from screening.core.errors import InvalidAnswer
from screening.core.instruments import Instrument
from screening.core.scoring import score

VECTORS = 5**8 * 3**2
VALID = 2_700_045  # 9 · (1 + 4 · (1 + 24 · 5^5)): q1 = 0 / q2 = q3 = 0 / otherwise
INVALID_SAMPLE_STRIDE = 31


def who_zone(total: int) -> str:
    if total <= 7:
        return "I"
    if total <= 15:
        return "II"
    if total <= 19:
        return "III"
    return "IV"


def not_asked(vector: tuple[int, ...]) -> range | tuple[()]:
    """Positions (0-based) the skip logic does not ask."""
    if vector[0] == 0:
        return range(1, 8)
    if vector[1] + vector[2] == 0:
        return range(3, 8)
    return ()


@pytest.mark.parametrize("first", range(5), ids=lambda q1: f"q1={q1}")
def test_every_vector(audit: Instrument, first: int) -> None:
    ids = audit.item_ids
    zones = [who_zone(t) for t in range(41)]
    valid = invalid = sampled = 0
    failures: list[tuple[tuple[int, ...], object, object]] = []
    for rest in itertools.product(range(5), range(5), range(5), range(5), range(5), range(5),
                                  range(5), range(3), range(3)):  # fmt: skip
        vector = (first, *rest)
        skipped = not_asked(vector)
        if any(vector[p] for p in skipped):
            invalid += 1
            if invalid % INVALID_SAMPLE_STRIDE == 0:
                sampled += 1
                with pytest.raises(InvalidAnswer) as caught:
                    score(audit, dict(zip(ids, vector, strict=True)))
                assert caught.value.code == "not_asked"
                assert caught.value.item_id in {ids[p] for p in skipped if vector[p]}
            continue
        valid += 1
        total = sum(vector[:8]) + 2 * vector[8] + 2 * vector[9]
        expected = (total, zones[total], vector[0] + vector[1] + vector[2])
        result = score(audit, dict(zip(ids, vector, strict=True)))
        actual = (
            result.total,
            result.zone.id if result.zone else None,
            result.subscores["audit_c"],
        )
        if actual != expected:
            failures.append((vector, expected, actual))
    assert failures[:5] == []
    assert valid + invalid == VECTORS // 5
    # q1 = 0: only items 9-10 vary; otherwise q2 = q3 = 0 (1 way) or 24 ways times 5^5.
    assert valid == (9 if first == 0 else 9 * (1 + 24 * 5**5))
    assert sampled == invalid // INVALID_SAMPLE_STRIDE > 500


def test_valid_count() -> None:
    """The per-q1 counts above add up to the total of valid vectors."""
    count = 0
    for head in itertools.product(range(5), repeat=3):
        if head[0] == 0:
            count += 1 if head[1] == head[2] == 0 else 0
        elif head[1] + head[2] == 0:
            count += 1
        else:
            count += 5**5
    assert count * 9 == VALID == 9 + 4 * 9 * (1 + 24 * 5**5)
