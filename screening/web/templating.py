"""Names and helpers available in every template."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import Flask
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from markupsafe import Markup, escape

from ..core.pathways import PATHWAYS
from ..i18n import current_lang
from ..localtime import format_date, format_datetime, format_time, iso_local
from .charts import zone_scale_svg
from .fragments import item_fieldset

ROLE_NAMES = {
    "nurse": _l("nurse"),
    "gp": _l("GP"),
    "consultant": _l("substance-use consultant"),
    "analyst": _l("analyst"),
    "admin": _l("administrator"),
    "system": _l("system"),
}
STATUS_NAMES = {"open": _l("open"), "done": _l("done"), "closed": _l("closed"),
                "cancelled": _l("cancelled")}
FOLLOW_UP_OUTCOME_NAMES = {"done": _l("Done"), "not_reached": _l("Patient not reached"),
                           "declined": _l("Patient declined"), "rescheduled": _l("Rescheduled")}
REFERRAL_STATUS_NAMES = {
    "sent": _l("sent, waiting for an answer"),
    "accepted": _l("accepted"),
    "returned": _l("returned"),
    "consent_refused": _l("not sent: the patient did not consent"),
    "external": _l("referred by the GP"),
    "withdrawn": _l("withdrawn: the screening was voided"),
}
MODE_NAMES = {"home_visit": _l("home visit"), "phone": _l("phone"),
              "consultation": _l("consultation")}
FLAG_NAMES = {
    "consumption": _l("Hazardous consumption"),
    "dependence_signs": _l("Signs of dependence"),
    "dependence_subscore": _l("Possible dependence"),
    "harm": _l("Alcohol-related harm"),
    "past_problem": _l("Past problem"),
    "audit_c_positive": _l("AUDIT-C positive"),
    "frequency_only": _l("Points from frequency only"),
    "lifetime_only": _l("Only earlier problems"),
}
ACTION_NAMES = {
    "patient_register": _l("registered the patient"),
    "patient_search": _l("searched for the patient"),
    "patient_view": _l("opened the record"),
    "patient_erase": _l("erased the record"),
    "assessment_create": _l("recorded a screening"),
    "assessment_view": _l("read a screening"),
    "assessment_export": _l("exported a screening"),
    "assessment_void": _l("voided a screening"),
    "draft_save": _l("saved a draft"),
    "draft_view": _l("opened a screening form"),
    "conversation_save": _l("recorded a conversation"),
    "conversation_view": _l("read a conversation"),
    "follow_up_update": _l("updated a follow-up"),
    "break_glass": _l("emergency access"),
    "access_report": _l("listed who has seen the record"),
    "access_denied": _l("was refused access"),
    "undecryptable": _l("a field could not be opened"),
    "patient_list": _l("saw the patient's name in a list"),
    "patient_correct": _l("corrected the patient's details"),
    "duplicate_refused": _l("was refused registering the number: it is already registered"),
    "referral_send": _l("recorded a referral"),
    "referral_view": _l("read a referral"),
    "referral_accept": _l("accepted a referral"),
    "referral_return": _l("returned a referral"),
}
NOT_ASKED_NAMES = {
    "declined": _l("the patient did not want to answer"),
    "unable": _l("the patient could not answer (for example confusion)"),
    "done_recently": _l("gone through recently with the GP"),
    "other": _l("another reason"),
}
# The access log's outcomes and purposes (models.access.OUTCOMES, services.access_log.PURPOSES).
OUTCOME_NAMES = {"ok": _l("carried out"), "denied": _l("refused"), "error": _l("failed")}
PURPOSE_NAMES = {
    "care": _l("health care"),
    "referral": _l("referral"),
    "break_glass": _l("emergency access"),
    "registration": _l("registration"),
    "erasure": _l("erasure"),
    "patient_request": _l("the patient's request for access"),
    "administration": _l("administration"),
    "export": _l("export"),
}
# The patient sheet speaks of the action level (the zone alone can say "low risk" where the
# rule set lowered the cut-off for a woman or an older adult). Bokmål: the sheet is the
# patient's, in the patient's language.
SHEET_LEVEL_TEXT = {
    1: "Svarene dine tyder på lav risiko. Fortsett gjerne å være forsiktig med alkohol, "
       "særlig sammen med medisiner.",
    2: "Svarene dine tyder på at alkoholen kan gi økt risiko for helsen din. Alkohol virker "
       "sterkere med alderen og sammen med mange medisiner. Å drikke mindre gir lavere risiko "
       "for fall, skader og sykdom.",
    3: "Svarene dine tyder på at alkoholen allerede kan skade helsen din. Vi anbefaler en "
       "samtale og oppfølging, slik at du får hjelp til å drikke mindre.",
    4: "Svarene dine tyder på at du kan ha utviklet avhengighet. Vi anbefaler utredning og "
       "behandling. Ikke slutt brått uten å snakke med lege først.",
}
# Why the level is above the zone, in plain words (the rule codes stay on the result page).
SHEET_RAISED_TEXT = {
    "W7": "For kvinner og for personer over 65 år gjelder en lavere grense, fordi kroppen "
          "tåler mindre alkohol.",
    "O65": "For personer over 65 år gir også mindre mengder alkohol økt risiko.",
    "E1": "Ett av svarene dine veier ekstra tungt.",
}
SHEET_MODE_NB = {"home_visit": "hjemmebesøk", "phone": "telefon", "consultation": "konsultasjon"}
GOAL_NB = {"no_change_now": "Ingen endring nå", "reduce": "Drikke mindre",
           "abstain": "Slutte å drikke alkohol",
           "abstain_in_situations": "Ikke drikke i bestemte situasjoner"}


def pathway_name(pathway_id: str, lang: str | None = None) -> str:
    info = PATHWAYS.get(pathway_id)
    name = info.names.get(lang or current_lang()) if info is not None else pathway_id
    return name[:1].upper() + name[1:]


def sheet_goal_text(goal: dict[str, Any]) -> str:
    parts = [GOAL_NB.get(str(goal.get("type")), "")]
    if goal.get("units_per_week") is not None:
        parts.append(f"høyst {goal['units_per_week']} enheter i uken")
    if goal.get("alcohol_free_days_per_week") is not None:
        parts.append(f"{goal['alcohol_free_days_per_week']} alkoholfrie dager i uken")
    if goal.get("start_date"):
        parts.append(f"fra {_sheet_date(goal['start_date'])}")
    return ", ".join(p for p in parts if p) + "."


def _sheet_date(value: object) -> str:
    try:
        return format_date(date.fromisoformat(str(value)))
    except ValueError:
        return str(value)


def zone_title(zone_id: str | None, lang: str | None = None) -> str:
    """A WHO zone's name as the AUDIT instrument file gives it ("Sone II: risikofylt bruk"):
    the one name of a zone on the result, the sheet and the reports."""
    for zone in _audit_zones():
        if zone.id == zone_id:
            return zone.title(lang or current_lang())
    return zone_id or ""


def _audit_zones() -> tuple[Any, ...]:
    from .context import catalogue

    return tuple(catalogue().instrument("audit").zones)


def zone_scale(total: int, lang: str | None = None) -> Markup:
    lang = lang or current_lang()
    zones = _audit_zones()
    title = (f"Poengsum {total} av 40 på sonene I–IV" if lang == "nb"
             else f"Score {total} of 40 on zones I–IV")
    picture = zone_scale_svg(total, tuple(z.id for z in zones), title)
    # The zone names as HTML below the picture: readable on a phone, where SVG text shrinks.
    legend = "".join(
        f'<li><span class="swatch zone-{zone.number}" aria-hidden="true"></span>'
        f"{escape(zone.title(lang))}</li>"
        for zone in zones
    )
    return picture + Markup(f'<ul class="zone-legend">{legend}</ul>')  # noqa: S704


def instrument_code(instrument_id: str) -> str:
    """An instrument's short name as clinicians write it: AUDIT, AUDIT-C, DUDIT."""
    return str(instrument_id).upper().replace("_", "-")


def register_templating(app: Flask) -> None:
    # Every time and date shown to a person: Europe/Oslo, dd.mm.åååå (screening.localtime).
    app.jinja_env.filters["local_date"] = format_date
    app.jinja_env.filters["local_datetime"] = format_datetime
    app.jinja_env.filters["local_time"] = format_time
    app.jinja_env.filters["iso_local"] = iso_local
    app.jinja_env.filters["instrument_code"] = instrument_code

    @app.context_processor
    def _helpers() -> dict[str, object]:
        return {
            "current_locale": lambda: str(get_locale() or "nb"),
            "role_name": lambda role: str(ROLE_NAMES.get(role, role)),
            "status_name": lambda s: str(STATUS_NAMES.get(s, s)),
            "mode_name": lambda m: str(MODE_NAMES.get(m, m)),
            "flag_name": lambda f: str(FLAG_NAMES.get(f, f)),
            "action_name": lambda a: str(ACTION_NAMES.get(a, a)),
            "not_asked_name": lambda r: str(NOT_ASKED_NAMES.get(r, r)),
            "purpose_name": lambda p: str(PURPOSE_NAMES.get(p, p)),
            "outcome_name": lambda o: str(OUTCOME_NAMES.get(o, o)),
            "follow_up_outcome_name": lambda o: str(FOLLOW_UP_OUTCOME_NAMES.get(o or "", o or "")),
            "referral_status_name": lambda s: str(REFERRAL_STATUS_NAMES.get(s, s)),
            "pathway_name": pathway_name,
            "pathway_ids": tuple(PATHWAYS),
            "zone_scale": zone_scale,
            "zone_title": zone_title,
            "sheet_level_text": lambda level: SHEET_LEVEL_TEXT.get(level or 0, ""),
            "sheet_raised_text": lambda rule: SHEET_RAISED_TEXT.get(rule, ""),
            "sheet_mode": lambda m: SHEET_MODE_NB.get(m, m),
            "sheet_goal_text": sheet_goal_text,
            "item_fieldset": item_fieldset,
        }
