import random
from tests.browser.clinician import *

def test_scratch(live_server, open_page, clinic, app):
    page = open_page(java_script_enabled=False)
    page.goto(live_server + "/")
    log_in(page, clinic["nurse"])
    uuid = register_patient(page, "Bjarne Hoppover", older_fnr(random.Random(1), "male"))
    page.get_by_role("link", name="Ny AUDIT").click()
    answer_all(page, [0, None, None, 1, None, None, None, None, 2, 1])
    answer_medication(page)
    page.get_by_role("button", name="Vis resultat").click()
    page.wait_for_load_state()
    print(page.url)
    page.screenshot(path="/tmp/scratch/nojs422.png", full_page=True)
    print(page.locator("main").inner_text()[:1500])
    print(checked_items(page))
