"""Two overlapping edits of one conversation: the second save gets a conflict (409 with the
message), nothing is overwritten silently, and the second editor sees the first one's
version and can save again deliberately. Also when both start a new conversation, and when
the two saves arrive at the same moment."""

from __future__ import annotations

import re
import threading
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from screening.models import Conversation, FollowUp
from screening.services import assessments
from tests.app.staffing import make_patient, make_staff, make_units, sign_in
from tests.conftest import csrf_from
from tests.reliability.common import AUDIT_ANSWERS

CONFLICT_TEXT = "Noen andre lagret denne samtalen mens du redigerte den"  # bokmål, the default


class Editor:
    """One clinician's browser tab on the conversation page."""

    def __init__(self, app: Any, person: Any, assessment_uuid: str) -> None:
        self.client = app.test_client()
        sign_in(app, self.client, person)
        self.url = f"/assessments/{assessment_uuid}/conversation"
        self.page = ""

    def open(self) -> str:
        response = self.client.get(self.url)
        assert response.status_code == 200
        self.page = response.get_data(as_text=True)
        return self.version()

    def version(self) -> str:
        match = re.search(r'name="version"[^>]*value="([^"]*)"', self.page)
        assert match is not None, "the page has no version field"
        return match.group(1)

    def save(self, units_per_week: int) -> Any:
        due = (date.today() + timedelta(weeks=4)).isoformat()
        response = self.client.post(self.url, data={
            "csrf_token": csrf_from(self.page), "version": self.version(),
            "feedback.given": "on", "goal.type": "reduce",
            "goal.units_per_week": str(units_per_week), "follow_up.date": due,
            "follow_up.by": "elder_care", "follow_up.mode": "home_visit",
        })
        if response.status_code != 303:
            self.page = response.get_data(as_text=True)
        return response


@pytest.fixture
def setup(app):  # type: ignore[no-untyped-def]
    make_units(app)
    first = make_staff(app, "nurse.first", "nurse", ("home-a",))
    second = make_staff(app, "nurse.second", "nurse", ("home-a",))
    patient = make_patient(app)

    class User:
        id, role = first.id, "nurse"
        unit_ids = frozenset({_unit(app, "home-a")})

    catalogue = app.extensions["screening.catalogue"]
    answers = {item.id: value for item, value in
               zip(catalogue.instrument("audit").items, AUDIT_ANSWERS, strict=True)}
    done = assessments.submit(app.extensions["screening.db"], app.extensions["screening.keys"],
                              catalogue, User(), patient_uuid=patient, instrument_id="audit",
                              answers=answers, setting="home_care", medication=frozenset(),
                              submission_token="c" * 43)
    return first, second, done.uuid


def _unit(app: Any, code: str) -> int:
    from screening.models import Unit

    session = app.extensions["screening.db"].read_session()
    try:
        return int(session.scalar(select(Unit.id).where(Unit.code == code)))
    finally:
        session.close()


def _stored(app: Any) -> tuple[int, dict[str, Any]]:
    """(version, record) of the one conversation, opened with the patient's key."""
    from screening.models import Patient
    from screening.services import patients

    db, keyring = app.extensions["screening.db"], app.extensions["screening.keys"]
    session = db.read_session()
    try:
        rows = session.scalars(select(Conversation)).all()
        assert len(rows) == 1
        row = rows[0]
        patient = session.get(Patient, row.patient_id)
        patients.unlock(row, patients.data_key(keyring, patient))
        return row.version, row.record
    finally:
        session.close()


def _follow_ups(app: Any) -> int:
    session = app.extensions["screening.db"].read_session()
    try:
        return int(session.scalar(select(func.count()).select_from(FollowUp)))
    finally:
        session.close()


def test_second_of_two_overlapping_edits_gets_a_conflict(app, setup) -> None:
    first_nurse, second_nurse, assessment = setup
    creator = Editor(app, first_nurse, assessment)
    creator.open()
    assert creator.save(3).status_code == 303
    one, two = Editor(app, first_nurse, assessment), Editor(app, second_nurse, assessment)
    assert one.open() == two.open() == "1"
    assert one.save(7).status_code == 303
    late = two.save(14)
    assert late.status_code == 409
    assert CONFLICT_TEXT in late.get_data(as_text=True)
    version, record = _stored(app)
    assert version == 2 and record["goal"]["units_per_week"] == 7  # the first save stands
    # the second editor now sees the stored version (7) and may save over it knowingly
    assert two.version() == "2" and 'value="7"' in two.page
    assert two.save(14).status_code == 303
    version, record = _stored(app)
    assert version == 3 and record["goal"]["units_per_week"] == 14


def test_two_new_conversations_started_at_once_store_one(app, setup) -> None:
    first_nurse, second_nurse, assessment = setup
    one, two = Editor(app, first_nurse, assessment), Editor(app, second_nurse, assessment)
    assert one.open() == two.open() == ""
    assert one.save(7).status_code == 303
    follow_ups = _follow_ups(app)
    late = two.save(21)
    assert late.status_code == 409 and CONFLICT_TEXT in late.get_data(as_text=True)
    version, record = _stored(app)
    assert version == 1 and record["goal"]["units_per_week"] == 7
    assert _follow_ups(app) == follow_ups == 1  # no second set of follow-up tasks


def test_simultaneous_saves_one_wins_the_other_is_told(app, setup) -> None:
    first_nurse, second_nurse, assessment = setup
    creator = Editor(app, first_nurse, assessment)
    creator.open()
    assert creator.save(1).status_code == 303
    for round_number in range(8):
        one, two = Editor(app, first_nurse, assessment), Editor(app, second_nurse, assessment)
        one.open()
        two.open()
        results: dict[int, int] = {}
        barrier = threading.Barrier(2)

        def save(editor: Editor, units: int) -> None:
            barrier.wait()
            results[units] = editor.save(units).status_code

        threads = [threading.Thread(target=save, args=(one, 10 + round_number)),
                   threading.Thread(target=save, args=(two, 50 + round_number))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sorted(results.values()) == [303, 409], results
        winner = next(units for units, status in results.items() if status == 303)
        version, record = _stored(app)
        assert version == round_number + 2 and record["goal"]["units_per_week"] == winner
