"""Screenshots of the log and an entry page at phone and desktop widths, for the README.

    cd tests && ../.venv/bin/python -m browser.screenshots --url http://127.0.0.1:PORT [--entry ID]

Needs `make browser-setup` (Debian's chromium and chromium-driver) and a running foilog with
the demo loaded (`make run`)."""

import argparse
import tempfile
from pathlib import Path

from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver

from browser.browsing import chromium, viewport

OUT = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
SIZES = {"phone": (390, 844), "desktop": (1280, 900)}


def _shoot(driver: WebDriver, url: str, name: str, *, scroll_to: str | None = None) -> None:
    for width, (w, h) in SIZES.items():
        viewport(driver, w, h)
        driver.get(url)
        if scroll_to:
            target = driver.find_element(By.CSS_SELECTOR, scroll_to)
            driver.execute_script("arguments[0].scrollIntoView()", target)
        path = OUT / f"{name}-{width}.png"
        driver.save_screenshot(str(path))
        print(f"{path} ({path.stat().st_size // 1024} KB)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True, help="where foilog answers")
    parser.add_argument("--entry", default=None, help="the entry to show (default: Hertfordshire)")
    args = parser.parse_args()
    base = args.url.rstrip("/")
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as profile:
        driver = chromium(profile)
        try:
            entry = args.entry
            if entry is None:
                driver.get(f"{base}/forces/hertfordshire?q=facial")
                link = driver.find_element(By.CSS_SELECTOR, "ol.entries h3 a")
                entry = str(link.get_attribute("href")).rsplit("/", 1)[-1]
            _shoot(driver, f"{base}/disclosure-log", "log")
            _shoot(driver, f"{base}/disclosure-log/{entry}", "entry")
            _shoot(driver, f"{base}/disclosure-log/{entry}", "citations", scroll_to="h3")
        finally:
            driver.quit()


if __name__ == "__main__":
    main()
