"""The submission path does each thing once: a posted AUDIT opens the patient once (one
access-log row, ``assessment_create``); a form shown again opens it to draw the page; the
cached item fieldsets draw exactly what the macro draws."""

from __future__ import annotations

from dataclasses import replace

from sqlalchemy import select

from screening.models import AccessLogEntry
from screening.web import fragments
from tests.app.staffing import login
from tests.app.test_screening_flow import audit_form, clinic, older_fnr, post_audit, register

__all__ = ["clinic"]  # the fixture, used by name


def _actions(app) -> list[str]:  # type: ignore[no-untyped-def]
    session = app.extensions["screening.db"].read_session()
    try:
        return list(session.scalars(select(AccessLogEntry.action).order_by(AccessLogEntry.id)))
    finally:
        session.close()


def test_a_submission_opens_the_patient_once(app, client, clinic) -> None:  # noqa: F811
    login(client, clinic["nurse"])
    patient = register(client, older_fnr("male"), "Torleif Prøvesen")
    html, token = audit_form(client, patient)
    before = _actions(app)
    response = post_audit(client, patient, html, token, [1, 0, 0, 0, 0, 0, 0, 0, 0, 0])
    assert response.status_code == 303
    assert _actions(app)[len(before):] == ["assessment_create"]


def test_a_form_shown_again_opens_the_patient_to_draw_it(app, client, clinic) -> None:  # noqa: F811
    login(client, clinic["nurse"])
    patient = register(client, older_fnr("female"), "Gunnhild Prøvesen")
    html, token = audit_form(client, patient)
    before = _actions(app)
    response = post_audit(client, patient, html, token, [1, 0, None, 0, 0, 0, 0, 0, 0, 0])
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Gunnhild Prøvesen" in page  # the patient line is drawn
    assert _actions(app)[len(before):] == ["draft_view"]


def test_a_refused_submission_offers_break_the_glass(app, client, clinic) -> None:  # noqa: F811
    login(client, clinic["nurse"])
    patient = register(client, older_fnr("female"), "Ragna Prøvesen")
    html, token = audit_form(client, patient)
    other = app.test_client()
    login(other, clinic["nurse_b"])  # another unit: no care relationship
    other_html = other.get("/patients").get_data(as_text=True)
    before = _actions(app)
    response = post_audit(other, patient, other_html, token, [1, 0, 0, 0, 0, 0, 0, 0, 0, 0])
    assert response.status_code == 403
    assert f'action="/patients/{patient}/break-glass"' in response.get_data(as_text=True)
    assert _actions(app)[len(before):] == ["access_denied"]
    assert [a for a in _actions(app) if a == "assessment_create"] == []


def test_cached_fieldsets_draw_what_the_macro_draws(app) -> None:
    catalogue = app.extensions["screening.catalogue"]
    item = catalogue.instrument("audit").items[1]
    with app.test_request_context("/"):
        macro = app.jinja_env.get_template("macros.html").module.item_fieldset
        for lang in ("nb", "en"):
            for selected in (None, 0, 3):
                for error in (None, "Svar på dette spørsmålet."):
                    expected = str(macro(item, lang, item.id, selected, error, hidden=False,
                                         prefix=""))
                    assert str(fragments.item_fieldset(item, lang, item.id, selected, error)) \
                        == expected
                    assert str(fragments.item_fieldset(item, lang, item.id, selected, error)) \
                        == expected  # and again, from the cache
        # A different item object (instruments loaded again) is drawn afresh, never served
        # the markup cached for the old one.
        changed = replace(item, number=99)
        assert "99." in str(fragments.item_fieldset(changed, "nb", item.id, None))
