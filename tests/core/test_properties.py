"""Property tests of the engine with Hypothesis.

- Valid answers: evaluate() agrees with an oracle written here from clinical-rules §1-§3.
- Malformed answers and facts: every one is rejected with an AnswerError that names the item
  and reads as one line in both languages; no other exception escapes.
"""

from __future__ import annotations

import math
from decimal import Decimal
from fractions import Fraction
from typing import Any

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from screening.core.engine import PatientFacts, evaluate
from screening.core.errors import AnswerError, IncompleteAnswers, InvalidAnswer
from screening.core.scoring import asked_items, score

from .support import shared_catalogue

CATALOGUE = shared_catalogue()
AUDIT = CATALOGUE.instrument("audit")
DUDIT = CATALOGUE.instrument("dudit")
MEDICATION = ("sedatives", "strong_painkillers", "blood_thinners", "fall", "memory", "low_mood")
PROPERTY = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
FUZZ = settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])

ages = st.one_of(st.sampled_from([18, 45, 64, 65, 66, 80, 100]), st.integers(0, 130))
facts_strategy = st.builds(
    PatientFacts,
    sex=st.sampled_from(["male", "female"]),
    age=ages,
    setting=st.sampled_from(["home_care", "gp_practice"]),
    medication=st.frozensets(st.sampled_from(MEDICATION)),
)
# How an item that is not asked is given: left out, None, or an explicit 0 (all accepted).
not_asked_forms = st.sampled_from(["omit", "none", "zero"])


@st.composite
def audit_answers(draw: st.DrawFn) -> tuple[list[int | None], dict[str, Any]]:
    """A valid AUDIT answer set: (indices with None for not asked, answers mapping)."""
    vector: list[int | None] = [draw(st.integers(0, 4))]
    if vector[0] == 0:
        vector += [None] * 7
    else:
        vector += [draw(st.integers(0, 4)), draw(st.integers(0, 4))]
        if vector[1] == vector[2] == 0:
            vector += [None] * 5
        else:
            vector += [draw(st.integers(0, 4)) for _ in range(5)]
    vector += [draw(st.integers(0, 2)), draw(st.integers(0, 2))]
    answers: dict[str, Any] = {}
    for item_id, value in zip(AUDIT.item_ids, vector, strict=True):
        if value is not None:
            answers[item_id] = value
        else:
            form = draw(not_asked_forms)
            if form != "omit":
                answers[item_id] = None if form == "none" else 0
    return vector, answers


def oracle_audit(vector: list[int | None], facts: PatientFacts, rule_set: str) -> dict[str, Any]:
    """clinical-rules §1-§2, written independently of the instrument and rule-set files."""
    p = [0 if v is None else v for v in vector]
    p[8] *= 2
    p[9] *= 2
    total = sum(p)
    c = p[0] + p[1] + p[2]
    zone = 1 if total <= 7 else 2 if total <= 15 else 3 if total <= 19 else 4
    older = facts.age >= 65
    level, rules = zone, ["Z"]
    if (facts.sex == "female" or older) and total == 7:
        level, rules = max(level, 2), [*rules, "W7"]
    if any(p[i] >= 2 for i in (3, 4, 5)) or p[8] == 4 or p[9] == 4:
        level, rules = min(4, level + 1), [*rules, "E1"]
    if rule_set == "sondre-land" and older and (c >= 4 or p[2] >= 1):
        level, rules = max(level, 2), [*rules, "O65"]
    result: dict[str, Any] = {
        "total": total, "audit_c": c, "zone": ["I", "II", "III", "IV"][zone - 1],
        "level": level, "rules": rules,
    }  # fmt: skip
    if rule_set == "who-2001":
        return {**result, "flags": [], "pathways": [], "weeks": None}
    flags = []
    if p[1] >= 1 or p[2] >= 1:
        flags.append("consumption")
    if any(p[i] > 0 for i in (3, 4, 5)):
        flags.append("dependence_signs")
    if p[3] + p[4] + p[5] >= 4:
        flags.append("dependence_subscore")
    if any(p[i] > 0 for i in (6, 7, 8, 9)):
        flags.append("harm")
    if p[8] == 2 or p[9] == 2:
        flags.append("past_problem")
    if c >= (4 if facts.sex == "male" else 3):
        flags.append("audit_c_positive")
    if c > 0 and p[1] == p[2] == 0:
        flags.append("frequency_only")
    home = facts.setting == "home_care"
    pathways = {
        1: [],
        2: ["elder_care"] if home else ["gp"],
        3: ["gp", "substance_use_consultant"] + (["elder_care"] if home else []),
        4: ["gp", "specialist_referral", "substance_use_consultant"]
        + (["elder_care"] if home else []),
    }[level]
    if total > 0 and older and facts.medication and "gp" not in pathways:
        pathways.append("gp")
    weeks = {1: None, 2: 8, 3: 4, 4: 2}[level]
    return {**result, "flags": flags, "pathways": pathways, "weeks": weeks}


@PROPERTY
@given(audit_answers(), facts_strategy, st.sampled_from(["sondre-land", "who-2001"]))
def test_audit_matches_oracle(answers: Any, facts: PatientFacts, rule_set: str) -> None:
    vector, mapping = answers
    result = evaluate(CATALOGUE, "audit", mapping, facts, rule_set)
    expected = oracle_audit(vector, facts, rule_set)
    assert result.total == expected["total"]
    assert result.subscores["audit_c"] == expected["audit_c"]
    assert result.zone is not None and result.zone.id == expected["zone"]
    assert result.level == expected["level"]
    assert [step.rule for step in result.level_steps] == expected["rules"]
    assert [flag.id for flag in result.flags] == expected["flags"]
    assert [p.id for p in result.pathways] == expected["pathways"]
    assert result.follow_up_weeks == expected["weeks"]
    assert result.score.asked == frozenset(
        i for i, v in zip(AUDIT.item_ids, vector, strict=True) if v is not None
    )
    assert asked_items(AUDIT, mapping) == result.score.asked
    document = result.to_dict("nb")
    assert document["level"] == expected["level"] and document["zone"] == expected["zone"]


@PROPERTY
@given(audit_answers(), facts_strategy)
def test_rule_sets_differ_exactly_where_o65_raises(answers: Any, facts: PatientFacts) -> None:
    vector, mapping = answers
    local = evaluate(CATALOGUE, "audit", mapping, facts, "sondre-land")
    who = evaluate(CATALOGUE, "audit", mapping, facts, "who-2001")
    assert local.rule_set_id == "sondre-land" and who.rule_set_id == "who-2001"
    points = [0 if v is None else v for v in vector]
    o65 = facts.age >= 65 and (sum(points[:3]) >= 4 or points[2] >= 1)
    assert who.level is not None and local.level is not None
    assert local.level == (max(who.level, 2) if o65 else who.level)


@st.composite
def dudit_answers(draw: st.DrawFn) -> list[int]:
    return [draw(st.integers(0, 4)) for _ in range(9)] + [
        draw(st.integers(0, 2)),
        draw(st.integers(0, 2)),
    ]


@PROPERTY
@given(dudit_answers(), facts_strategy)
def test_dudit_matches_oracle(vector: list[int], facts: PatientFacts) -> None:
    result = evaluate(CATALOGUE, "dudit", dict(zip(DUDIT.item_ids, vector, strict=True)), facts)
    p = vector[:9] + [2 * vector[9], 2 * vector[10]]
    total = sum(p)
    positive = total >= (6 if facts.sex == "male" else 2)
    dependence = total >= 25
    lifetime = total > 0 and not any(p[:9]) and vector[9] in (0, 1) and vector[10] in (0, 1)
    if dependence:
        pathways = ["gp", "specialist_referral", "substance_use_consultant"]
    elif positive:
        pathways = ["gp"] + (["elder_care"] if facts.setting == "home_care" else [])
    else:
        pathways = []
    assert (result.total, result.positive, result.dependence) == (total, positive, dependence)
    assert [f.id for f in result.flags] == (["lifetime_only"] if lifetime else [])
    assert [r.id for r in result.pathways] == pathways
    if positive and not dependence:
        gp = result.pathways[0]
        assert ("medication review" in gp.reason.en) == (facts.age >= 65)
    assert set(result.to_dict("en")) == {
        "instrument", "instrument_version", "rule_set", "rule_set_version", "total",
        "positive", "dependence", "flags", "pathways",
    }  # fmt: skip


# --------------------------------------------------------------------------- rejections

NON_INTEGERS = st.one_of(
    st.booleans(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([1.0, 2.0, math.nan, Decimal(1), Fraction(2, 1), 1j, b"1", bytearray(b"2")]),
    st.sampled_from(["0", "1", "3", "\uff13", "\u0663", "\u00b2", "1.0", "", " 1", "-", "one"]),
    st.text(max_size=5),
    st.lists(st.integers(0, 4), max_size=2),
    st.tuples(st.integers(0, 4)),
    st.dictionaries(st.text(max_size=2), st.integers(), max_size=1),
)


def assert_clear(error: AnswerError) -> None:
    for lang in ("nb", "en"):
        text = error.message(lang)
        assert text.strip() and "\n" not in text and "\r" not in text
        if error.item_id is not None:  # named as is, or quoted when it is not a known id
            assert error.item_id in text or repr(error.item_id) in text
    assert error.code


@FUZZ
@given(audit_answers(), facts_strategy, st.data())
def test_non_integer_answer_rejected(
    answers: Any, facts: PatientFacts, data: st.DataObject
) -> None:
    _, mapping = answers
    item_id = data.draw(st.sampled_from(AUDIT.item_ids))
    mapping = {**mapping, item_id: data.draw(NON_INTEGERS)}
    try:
        evaluate(CATALOGUE, "audit", mapping, facts)
    except InvalidAnswer as error:
        assert error.item_id == item_id and error.code == "not_integer"
        assert_clear(error)
    else:
        raise AssertionError(f"accepted {mapping[item_id]!r} for {item_id}")


@FUZZ
@given(audit_answers(), facts_strategy, st.data())
def test_out_of_range_rejected(answers: Any, facts: PatientFacts, data: st.DataObject) -> None:
    _, mapping = answers
    item = data.draw(st.sampled_from(AUDIT.items))
    bad = data.draw(st.one_of(st.integers(max_value=-1), st.integers(min_value=len(item.options))))
    try:
        evaluate(CATALOGUE, "audit", {**mapping, item.id: bad}, facts)
    except InvalidAnswer as error:
        assert error.item_id == item.id and error.code == "out_of_range"
        assert_clear(error)
    else:
        raise AssertionError(f"accepted {bad} for {item.id}")


@FUZZ
@given(audit_answers(), facts_strategy, st.data())
def test_missing_answers_are_incomplete(
    answers: Any, facts: PatientFacts, data: st.DataObject
) -> None:
    vector, mapping = answers
    asked = [i for i, v in zip(AUDIT.item_ids, vector, strict=True) if v is not None]
    dropped = data.draw(st.lists(st.sampled_from(asked), min_size=1, unique=True))
    for item_id in dropped:
        del mapping[item_id]
    if data.draw(st.booleans()):
        mapping.update(dict.fromkeys(dropped[:1]))  # given as None: still unanswered
    try:
        evaluate(CATALOGUE, "audit", mapping, facts)
    except IncompleteAnswers as error:
        unanswered = {i for i in AUDIT.item_ids if mapping.get(i) is None}
        assert set(dropped) <= set(error.missing) <= unanswered
        assert error.item_id == error.missing[0]
        assert_clear(error)
    else:
        raise AssertionError(f"scored without {dropped}")


@FUZZ
@given(facts_strategy, st.data())
def test_answer_to_skipped_item_rejected(facts: PatientFacts, data: st.DataObject) -> None:
    never = data.draw(st.booleans())
    vector = [0] * 10 if never else [data.draw(st.integers(1, 4)), 0, 0] + [0] * 7
    skipped = range(1, 8) if never else range(3, 8)
    for position in skipped:
        vector[position] = data.draw(st.integers(0, 4))
    assume(any(vector[p] for p in skipped))
    vector[8], vector[9] = data.draw(st.integers(0, 2)), data.draw(st.integers(0, 2))
    # with q1 = 0, q2 and q3 are themselves not asked: an answer there is rejected too
    first_bad = next(p for p in skipped if vector[p])
    mapping = dict(zip(AUDIT.item_ids, vector, strict=True))
    try:
        evaluate(CATALOGUE, "audit", mapping, facts)
    except InvalidAnswer as error:
        assert error.code == "not_asked" and error.item_id == AUDIT.item_ids[first_bad]
        assert_clear(error)
    else:
        raise AssertionError(f"accepted answers to skipped items: {vector}")


@FUZZ
@given(
    st.dictionaries(
        st.one_of(st.sampled_from(AUDIT.item_ids), st.text(max_size=4), st.integers(), st.none()),
        st.one_of(st.integers(-3, 6), st.none(), NON_INTEGERS),
        max_size=14,
    )
    | st.one_of(st.none(), st.integers(), st.text(), st.lists(st.integers(0, 4), max_size=11)),
    st.builds(
        PatientFacts,
        sex=st.one_of(st.sampled_from(["male", "female", "Male", "f", ""]), st.text(max_size=3)),
        age=st.one_of(ages, st.integers(-5, 200), st.floats(), st.booleans(), st.text(max_size=3)),
        setting=st.one_of(st.sampled_from(["home_care", "gp_practice", "hospital"]), st.text()),
        medication=st.one_of(
            st.frozensets(st.sampled_from([*MEDICATION, "aspirin", ""])),
            st.lists(st.sampled_from(MEDICATION), max_size=2),
            st.text(max_size=5),
            st.none(),
        ),
    )
    | st.one_of(st.none(), st.text(max_size=3), st.integers()),
    st.sampled_from(["audit", "dudit"]),
)
def test_anything_is_scored_or_rejected_clearly(answers: Any, facts: Any, instrument: str) -> None:
    try:
        result = evaluate(CATALOGUE, instrument, answers, facts)
    except AnswerError as error:
        assert_clear(error)
    else:  # accepted: then it really was valid
        assert isinstance(answers, dict) and isinstance(facts, PatientFacts)
        assert all(type(v) is int or v is None for v in answers.values())
        assert facts.sex in ("male", "female") and type(facts.age) is int
        score(result.score.instrument, answers)


def test_non_mapping_answers_rejected() -> None:
    facts = PatientFacts("male", 45, "gp_practice")
    for answers in (None, [2, 1, 1, 1, 0, 0, 1, 1, 0, 0], "2,1,1", 7):
        try:
            evaluate(CATALOGUE, "audit", answers, facts)  # type: ignore[arg-type]
        except InvalidAnswer as error:
            assert error.code == "not_mapping" and error.item_id is None
            assert_clear(error)
        else:
            raise AssertionError(answers)
