"""What the browser tests ask of a page: axe-core's verdict, the hosts it asked for things."""

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.remote.webdriver import WebDriver

AXE = Path(__file__).parent / "node_modules" / "axe-core" / "axe.min.js"
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--hide-scrollbars",
)


def chromium(profile: str) -> WebDriver:
    """Debian's headless Chromium through its chromedriver, with a fresh profile directory."""
    options = webdriver.ChromeOptions()
    options.binary_location = str(shutil.which("chromium"))
    for flag in (*CHROMIUM_FLAGS, f"--user-data-dir={profile}", "--window-size=1280,900"):
        options.add_argument(flag)
    service = Service(executable_path=str(shutil.which("chromedriver")))
    return webdriver.Chrome(options=options, service=service)


@dataclass
class HostPage:
    url: str


WCAG_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]


def axe(driver: WebDriver, *, only_wcag: bool = False) -> dict[str, Any]:
    """axe-core's verdict on the page the driver shows: every rule it has (WCAG 2.0-2.2 A and
    AA, and its best practices), or with `only_wcag` the WCAG A and AA rules alone."""
    driver.execute_script(AXE.read_text(encoding="utf-8"))
    options: dict[str, Any] = {"resultTypes": ["violations"]}
    if only_wcag:
        options["runOnly"] = {"type": "tag", "values": WCAG_AA}
    result: dict[str, Any] = driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "axe.run(document, arguments[0])"
        ".then(r => done({violations: r.violations.map(v => ({id: v.id, impact: v.impact,"
        " help: v.help, nodes: v.nodes.map(n => n.html)})), passes: r.passes.length}))"
        ".catch(e => done({error: String(e)}));",
        options,
    )
    return result


def foreign_requests(driver: WebDriver, *origins: str) -> list[str]:
    """What the page asked of any host but `origins` (the browser's resource timing list)."""
    names: list[str] = driver.execute_script(
        "return performance.getEntriesByType('resource').map(e => e.name)"
        ".concat(performance.getEntriesByType('navigation').map(e => e.name));"
    )
    return [name for name in names if not name.startswith(origins)]


def viewport(driver: WebDriver, width: int, height: int) -> None:
    """Size the page's viewport: a headless window's size counts no browser chrome, so the
    window is sized, measured and sized again to match."""
    driver.set_window_size(width, height)
    inner = driver.execute_script("return [window.innerWidth, window.innerHeight]")
    driver.set_window_size(width + (width - inner[0]), height + (height - inner[1]))


@contextmanager
def resized(driver: WebDriver, width: int, height: int) -> Iterator[None]:
    """The page's viewport at this size for a while, the window as it was after: the browser
    is shared by every test of the session."""
    size = driver.get_window_size()
    viewport(driver, width, height)
    try:
        yield
    finally:
        driver.set_window_size(size["width"], size["height"])
