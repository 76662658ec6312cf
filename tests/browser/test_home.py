"""The home page in Chromium: bokmål first, English on request and back, nothing fetched
from any host but 127.0.0.1, and no CSP violation."""

from __future__ import annotations


def test_language_switch_and_local_only(live_server: str, page) -> None:  # type: ignore[no-untyped-def]
    console: list[str] = []
    page.on("console", lambda message: console.append(message.text))
    page.goto(live_server + "/")
    assert page.url.startswith(live_server + "/login")
    assert page.locator("html").get_attribute("lang") == "nb"
    assert page.locator("h1").inner_text() == "Logg inn"

    page.get_by_role("button", name="English").click()
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.locator("h1").inner_text() == "Log in"
    assert page.url.startswith(live_server + "/login")

    page.get_by_role("button", name="Norsk (bokmål)").click()
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang") == "nb"
    assert page.locator("h1").inner_text() == "Logg inn"

    assert page.request_log.urls, "no requests were recorded"
    assert page.request_log.foreign() == []
    assert not [text for text in console if "Content Security Policy" in text]
    # the stylesheet came from our own static folder and applied
    assert page.evaluate("getComputedStyle(document.body).margin") == "0px"
