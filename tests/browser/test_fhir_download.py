"""The FHIR export from the result page in Chromium: the link by its bokmål name downloads a
valid R4 bundle with the AUDIT's LOINC panel and the AUDIT-C panel, and no request leaves the
server. Screenshot: screenshots/fhir-result-page.png."""

from __future__ import annotations

import json
import random
from pathlib import Path

from fhir.resources.R4B.bundle import Bundle
from playwright.sync_api import Page

from tests.browser.clinician import answer_all, log_in, register_patient, younger_fnr
from tests.browser.test_round import start_audit, submit_and_check_result

RNG = random.Random(1718)
SCREENSHOTS = Path(__file__).parent / "screenshots"


def test_fhir_export_downloads_from_the_result_page(live_server: str, page: Page,
                                                     clinic) -> None:  # type: ignore[no-untyped-def]
    page.goto(live_server + "/")
    log_in(page, clinic["gp"])
    register_patient(page, "Gunnar Prøvesen", younger_fnr(RNG, "male"))
    start_audit(page, older=False)
    answer_all(page, [3, 1, 1, 1, 0, 3, 1, 0, 0, 0])
    assessment = submit_and_check_result(
        page, {"Sum": "10", "AUDIT-C": "5", "Sone": "II", "Tiltaksnivå": "3"},
        pathway="Fastlege", rule="E1")
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=SCREENSHOTS / "fhir-result-page.png", full_page=True)
    with page.expect_download() as info:
        page.get_by_role("link", name="FHIR-eksport").click()
    download = info.value
    assert download.suggested_filename == f"audit-{assessment}.fhir.json"
    bundle = json.loads(Path(download.path()).read_text("utf-8"))
    Bundle.model_validate(bundle)
    codes = {e["resource"]["code"]["coding"][0]["code"] for e in bundle["entry"]
             if e["resource"]["resourceType"] == "Observation"}
    assert {"72110-0", "75624-7", "72109-2", "75626-2", "68518-0"} <= codes
    assert page.request_log.foreign() == []
