"""The pages in a real browser: what a reader sees and does, accessibility by axe-core, and
nothing fetched from another host."""

from typing import Any

import httpx
from log_factories import REQUESTER_EMAIL, REQUESTER_NAME, Spec, hertfordshire, publish, withdraw
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import Select, WebDriverWait
from sqlmodel import Session

from browser.browsing import HostPage, axe, foreign_requests, resized

HERTS = "FOI2018/02892"


def _open(driver: WebDriver, url: str) -> None:
    driver.get(url)
    WebDriverWait(driver, 20).until(
        lambda d: d.execute_script("return document.readyState") == "complete"
    )


def _text(driver: WebDriver) -> str:
    text: str = driver.find_element(By.TAG_NAME, "body").text
    return text


def _titles(driver: WebDriver) -> list[str]:
    return [a.text for a in driver.find_elements(By.CSS_SELECTOR, "ol.entries h3 a")]


def test_the_log_and_the_hertfordshire_entry_as_a_reader_sees_them(
    browser: WebDriver, live: str, demo: dict[str, int]
) -> None:
    _open(browser, f"{live}/disclosure-log")
    assert browser.find_element(By.TAG_NAME, "h1").text == "FOI disclosure log"
    titles = _titles(browser)
    assert "Facial image database and facial recognition" in titles
    assert len(titles) == min(len(demo), 20)
    assert f"{len(demo)} entries match" in _text(browser)

    browser.find_element(By.LINK_TEXT, "Facial image database and facial recognition").click()
    assert browser.current_url == f"{live}/disclosure-log/{demo[HERTS]}"
    facts = {
        row.find_element(By.TAG_NAME, "dt").text: row.find_element(By.TAG_NAME, "dd").text
        for row in browser.find_elements(By.CSS_SELECTOR, "dl.facts > div")
    }
    assert facts["Received"] == "29 May 2018"
    assert facts["Due"].startswith("26 June 2018")
    assert facts["Responded"] == "26 June 2018"
    assert facts["Deadline"] == "Answered within the statutory deadline"
    assert facts["Outcome"] == "Neither confirm nor deny"
    # The letter answers in prose, not question by question: no answer is placed under one.
    questions = browser.find_elements(By.CSS_SELECTOR, "li.question")
    assert len(questions) == 17
    assert not browser.find_elements(By.CSS_SELECTOR, "li.question .answer")
    rows = browser.find_elements(By.CSS_SELECTOR, "table.citations tbody tr")
    cells = [[c.text for c in r.find_elements(By.CSS_SELECTOR, "th, td")] for r in rows]
    assert [c[:3] for c in cells] == [
        ["National security (foia-s24)", "24(2)", "Yes"],
        ["Law enforcement (foia-s31)", "31(3)", "Yes"],
    ]
    for test, harm in (c[3:] for c in cells):
        for part in ("For disclosure", "Against disclosure", "Balance"):
            assert part in test
        assert "by confirming or denying" in harm.lower()
    assert "Signed: James Hodson, Information Rights" in _text(browser)


def test_each_answer_sits_under_its_question(
    browser: WebDriver, live: str, session: Session
) -> None:
    entry = publish(
        session,
        Spec(
            title="Fleet by year",
            questions=["How many cars?", "How many vans?", "How many boats?"],
            answers=["Cars: 120.", "Vans: 40.", "No boats are held."],
        ),
    )
    _open(browser, f"{live}/disclosure-log/{entry.id}")
    questions = browser.find_elements(By.CSS_SELECTOR, "li.question")
    placed = [[a.text for a in q.find_elements(By.CSS_SELECTOR, ".answer")] for q in questions]
    assert placed == [
        ["Answer to question 1\nCars: 120."],
        ["Answer to question 2\nVans: 40."],
        ["Answer to question 3\nNo boats are held."],
    ]


def test_a_search_typed_into_the_box(browser: WebDriver, live: str, demo: dict[str, int]) -> None:
    _open(browser, f"{live}/disclosure-log")
    box = browser.find_element(By.ID, "q")
    box.send_keys("snapchat", Keys.ENTER)
    WebDriverWait(browser, 20).until(expected_conditions.url_contains("q=snapchat"))
    assert _titles(browser) == ["Facial image database and facial recognition"]
    assert browser.find_element(By.CSS_SELECTOR, ".excerpt mark").text.lower() == "snapchat"
    assert browser.find_element(By.ID, "q").get_attribute("value") == "snapchat"


def test_a_filter_and_the_next_pages(browser: WebDriver, live: str, demo: dict[str, int]) -> None:
    _open(browser, f"{live}/disclosure-log")
    browser.find_element(By.CSS_SELECTOR, "details.more summary").click()
    Select(browser.find_element(By.ID, "f-force")).select_by_visible_text(
        "Hertfordshire Constabulary"
    )
    browser.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
    WebDriverWait(browser, 20).until(expected_conditions.url_contains("force=hertfordshire"))
    filtered = _titles(browser)
    assert "Facial image database and facial recognition" in filtered
    assert len(filtered) < len(demo)

    _open(browser, f"{live}/disclosure-log?limit=3")
    seen: list[str] = []
    for _ in range(len(demo)):
        seen += _titles(browser)
        following = browser.find_elements(By.LINK_TEXT, "Next page")
        if not following:
            break
        following[0].click()
        WebDriverWait(browser, 20).until(expected_conditions.url_contains("cursor="))
    assert len(seen) == len(demo)
    assert browser.find_elements(By.LINK_TEXT, "First page")


def test_a_withdrawn_entry_says_when_and_why(
    browser: WebDriver, live: str, session: Session
) -> None:
    entry = publish(session, title="Published in error")
    withdraw(session, entry, reason="The response named a member of staff.")
    assert httpx.get(f"{live}/disclosure-log/{entry.id}").status_code == 410
    _open(browser, f"{live}/disclosure-log/{entry.id}")
    assert browser.find_element(By.TAG_NAME, "h1").text == "This entry was withdrawn"
    text = _text(browser)
    assert "The response named a member of staff." in text
    withdrawn = entry.withdrawn_at
    assert withdrawn is not None
    assert f"was withdrawn from the disclosure log on {withdrawn.day} " in text
    assert "Published in error" not in text


# As a browser asks: the errors met before any route answer a page only to such a request.
HTML = {"Accept": "text/html"}


def _page_urls(live: str, session: Session) -> dict[str, str]:
    """One URL of every page type, over entries whose requester is on file."""
    entry = hertfordshire(session)
    gone = publish(session, title="Taken down", text="Jane asked about tasers")
    withdraw(session, gone)
    return {
        "log": f"{live}/disclosure-log",
        "search": f"{live}/disclosure-log?q=facial",
        "entry": f"{live}/disclosure-log/{entry.id}",
        "force": f"{live}/forces/hertfordshire",
        "gone (410)": f"{live}/disclosure-log/{gone.id}",
        "bad parameter (400)": f"{live}/disclosure-log?received_from=yesterday",
        "control character (400)": f"{live}/disclosure-log?q=%01",
        "no such page (404)": f"{live}/disclosure-logs/{entry.id}",
        "embedded": f"{live}/disclosure-log/{entry.id}?embed=1",
    }


def test_the_requester_appears_on_no_page(
    browser: WebDriver, live: str, session: Session, host_page: HostPage
) -> None:
    urls = _page_urls(live, session)
    for name, url in [*urls.items(), ("embed host", host_page.url)]:
        _open(browser, url)
        if name == "embed host":
            WebDriverWait(browser, 20).until(
                lambda d: d.find_elements(By.CSS_SELECTOR, "foilog-log li")
            )
        source = browser.page_source
        assert REQUESTER_NAME not in source, name
        assert REQUESTER_EMAIL not in source, name
        assert "Jane" not in _text(browser).replace("Jane asked", ""), name


def test_no_page_asks_another_host_for_anything(
    browser: WebDriver, live: str, session: Session
) -> None:
    urls = _page_urls(live, session)
    urls |= {"docs": f"{live}/docs"}
    for name, url in urls.items():
        _open(browser, url)
        if name == "docs":
            WebDriverWait(browser, 20).until(
                lambda d: d.find_elements(By.CSS_SELECTOR, ".swagger-ui .info")
            )
        assert foreign_requests(browser, live) == [], name
        assert "Content-Security-Policy" in httpx.get(url, headers=HTML).headers, name


def _tab_to(driver: WebDriver, wanted: Any, most: int = 40) -> int:
    """How many presses of Tab, from the top of the page, reach the element `wanted` picks."""
    _open(driver, driver.current_url)  # a fresh load: focus starts before the first element
    for presses in range(1, most + 1):
        driver.switch_to.active_element.send_keys(Keys.TAB)
        if wanted(driver.switch_to.active_element):
            return presses
    raise AssertionError(f"not reached in {most} presses of Tab")


def test_the_search_box_and_the_first_result_are_reached_by_keyboard(
    browser: WebDriver, live: str, demo: dict[str, int]
) -> None:
    _open(browser, f"{live}/disclosure-log")
    skip = _tab_to(browser, lambda e: e.text == "Skip to main content")
    box = _tab_to(browser, lambda e: e.get_attribute("id") == "q")
    first = browser.find_element(By.CSS_SELECTOR, "ol.entries h3 a").text
    result = _tab_to(browser, lambda e: e.tag_name == "a" and e.text == first)
    assert skip == 1
    assert skip < box < result
    # Enter on the skip link moves focus into the main content.
    _tab_to(browser, lambda e: e.text == "Skip to main content")
    browser.switch_to.active_element.send_keys(Keys.ENTER)
    assert browser.switch_to.active_element.get_attribute("id") == "main"


def test_the_embed_renders_on_a_page_of_another_origin(
    browser: WebDriver, live: str, demo: dict[str, int], host_page: HostPage
) -> None:
    _open(browser, host_page.url)
    links = WebDriverWait(browser, 20).until(
        lambda d: d.find_elements(By.CSS_SELECTOR, "foilog-log li a")
    )
    hrefs = [a.get_attribute("href") for a in links]
    assert f"{live}/disclosure-log/{demo[HERTS]}" in hrefs
    for href in hrefs:  # force="hertfordshire"
        entry_id = (href or "").rsplit("/", 1)[-1]
        document = httpx.get(f"{live}/v1/disclosure-log/{entry_id}").json()
        assert document["force"] == "hertfordshire"
    # Light DOM: the entries are the host page's own markup, not in a shadow root.
    assert browser.execute_script("return document.querySelector('foilog-log').shadowRoot") is None
    # Found again: the element may have rendered afresh while the forces were checked.
    browser.find_elements(By.CSS_SELECTOR, "foilog-log li a")[0].click()
    WebDriverWait(browser, 20).until(expected_conditions.url_contains("/disclosure-log/"))
    assert browser.current_url.startswith(live)


def test_the_embeds_search_may_hold_a_comma(
    browser: WebDriver, live: str, demo: dict[str, int], host_page: HostPage
) -> None:
    """`q` is one search: "facial, database" is not two values of a parameter that takes one."""
    _open(browser, host_page.url)
    WebDriverWait(browser, 20).until(lambda d: d.find_elements(By.CSS_SELECTOR, "foilog-log li"))
    browser.execute_script(
        "document.querySelector('foilog-log').setAttribute('q', 'facial, database')"
    )
    wanted = f"{live}/disclosure-log/{demo[HERTS]}"
    # Read in one script: the element may render afresh between finding a link and reading it.
    links = "return [...document.querySelectorAll('foilog-log li a')].map(a => a.href)"
    WebDriverWait(browser, 20).until(lambda d: d.execute_script(links) == [wanted])
    assert not browser.find_elements(By.CSS_SELECTOR, ".foilog-error")


def test_axe_finds_no_violation_on_any_page_type(
    browser: WebDriver, live: str, session: Session, host_page: HostPage
) -> None:
    urls = _page_urls(live, session) | {"docs": f"{live}/docs", "embed host": host_page.url}
    found: dict[str, list[Any]] = {}
    for name, url in urls.items():
        _open(browser, url)
        if name == "docs":
            WebDriverWait(browser, 20).until(
                lambda d: d.find_elements(By.CSS_SELECTOR, ".swagger-ui .opblock")
            )
        if name == "embed host":
            WebDriverWait(browser, 20).until(
                lambda d: d.find_elements(By.CSS_SELECTOR, "foilog-log li a")
            )
        # Swagger UI's own markup goes from its h1 to h3 (axe's best-practice heading-order):
        # /docs is held to the WCAG A and AA rules, every page of ours to every rule.
        result = axe(browser, only_wcag=name == "docs")
        assert "error" not in result, result
        print(f"axe {name}: {len(result['violations'])} violations, {result['passes']} passed")
        found[name] = result["violations"]
    assert found == {name: [] for name in urls}


LONG_LINK = "https://www.whatdotheyknow.com/request/number_of_anpr_cameras_operated_" + "x" * 60


def test_long_unbroken_text_wraps_within_a_phones_width(
    browser: WebDriver, live: str, session: Session
) -> None:
    # WCAG 1.4.10: a link pasted into a request, an answer or a public interest balance, or a
    # title with no spaces, wraps; the page never scrolls sideways.
    entry = publish(
        session,
        Spec(
            title="Cameras" + "x" * 200,
            text=f"As asked on {LONG_LINK}, how many cameras?",
            answers=[f"See {LONG_LINK}"],
        ),
    )
    with resized(browser, 390, 844):
        for url in (f"{live}/disclosure-log/{entry.id}", f"{live}/disclosure-log"):
            _open(browser, url)
            wide = browser.execute_script(
                "return [document.documentElement.scrollWidth, window.innerWidth]"
            )
            assert wide[0] <= wide[1], url


def test_a_direction_override_in_stored_text_stays_in_its_field(
    browser: WebDriver, live: str, session: Session, host_page: HostPage
) -> None:
    # An unclosed right-to-left override (U+202E) in a title or a reference would reverse the
    # text after it ("received 9 January 2023"); each stored field is isolated (bdi).
    entry = publish(session, Spec(force="hertfordshire", title="Fleet \u202e", reference="R\u202e"))
    _open(browser, f"{live}/disclosure-log/{entry.id}")
    assert browser.find_element(By.CSS_SELECTOR, ".lede bdi.ref").text == "R\u202e"
    _open(browser, host_page.url)
    isolated = (
        "return [...document.querySelectorAll('foilog-log li')].map(li => "
        "[...li.querySelectorAll('bdi')].map(b => b.textContent))"
    )
    WebDriverWait(browser, 20).until(
        lambda d: ["Fleet \u202e", "R\u202e"] in d.execute_script(isolated)
    )


def test_the_citations_tables_narrow_columns_keep_their_words_whole(
    browser: WebDriver, live: str, demo: dict[str, int]
) -> None:
    # Long links may break anywhere, but not at the cost of the table: words broken anywhere
    # let the letter's long public interest factors squeeze "Exemption" to a letter a line.
    with resized(browser, 1280, 900):
        _open(browser, f"{live}/disclosure-log/{demo[HERTS]}")
        lines = browser.execute_script(
            "const range = document.createRange();"
            "return [...document.querySelectorAll('table.citations thead th')].map(th => {"
            "  range.selectNodeContents(th);"
            "  return new Set([...range.getClientRects()].map(r => Math.round(r.top))).size;"
            "});"
        )
        # Exemption, Provision as cited, Neither confirm nor deny, Public interest test, Harm.
        assert lines[0] == 1, lines
        assert max(lines) <= 4, lines
