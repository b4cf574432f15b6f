"""Headless Chromium (Debian's `chromium` and `chromium-driver`, installed by `make
browser-setup`) driven by selenium against the app under a real uvicorn server, with axe-core
from tests/browser/node_modules.

Without the browser the tests fail under CI (CI=true) and skip, saying why, anywhere else."""

import os
import shutil
import socket
import tempfile
import threading
import time
from collections.abc import Iterator
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import orjson
import pytest
import uvicorn
from selenium.webdriver.remote.webdriver import WebDriver
from sqlmodel import Session, col, select

from app.demo import demo_entries
from app.imports.service import import_entries
from app.keys.schemas import Actor
from app.main import create_app
from app.models import DisclosureEntry
from browser.browsing import AXE, HostPage, chromium

# Generated entries besides the two seeds: enough for a second page at limit=3.
DEMO_COUNT = 6


def _missing() -> str | None:
    if not shutil.which("chromium"):
        return "chromium is not installed (make browser-setup installs it)"
    if not shutil.which("chromedriver"):
        return "chromedriver is not installed (make browser-setup installs chromium-driver)"
    if not AXE.exists():
        return f"{AXE} is missing (make browser-setup runs npm ci in tests/browser)"
    return None


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture(scope="session")
def browser() -> Iterator[WebDriver]:
    missing = _missing()
    if missing:
        if os.environ.get("CI"):
            pytest.fail(f"the browser tests must run in CI: {missing}")
        pytest.skip(missing)
    with tempfile.TemporaryDirectory(prefix="foilog-chromium-") as profile:
        driver = chromium(profile)
        # Pages are cacheable for a minute; a test must see what the database holds now.
        driver.execute_cdp_cmd("Network.enable", {})
        driver.execute_cdp_cmd("Network.setCacheDisabled", {"cacheDisabled": True})
        driver.set_page_load_timeout(30)
        driver.set_script_timeout(30)
        try:
            yield driver
        finally:
            driver.quit()


@pytest.fixture(scope="session")
def live(database_url: str) -> Iterator[str]:
    """The app under uvicorn on a free port, on the test database."""
    port = _free_port()
    config = uvicorn.Config(create_app(), host="127.0.0.1", port=port, log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join()


@pytest.fixture
def demo(session: Session) -> dict[str, int]:
    """The demo log as `foilog demo` loads it (two seeds, a few generated), by reference."""
    lines = [orjson.dumps(document) for document in demo_entries(DEMO_COUNT)]
    import_entries(session, lines, actor=Actor.system("demo"))
    rows = session.exec(select(col(DisclosureEntry.id), col(DisclosureEntry.reference))).all()
    return {reference: entry_id for entry_id, reference in rows if entry_id is not None}


@pytest.fixture
def host_page(live: str, tmp_path: Path) -> Iterator[HostPage]:
    """A force's own page, served from another origin (a second port), embedding the log."""
    (tmp_path / "index.html").write_text(
        f"""<!doctype html>
<html lang="en-GB">
<head><meta charset="utf-8"><title>Hertfordshire Constabulary: our FOI responses</title></head>
<body>
<header><p>Hertfordshire Constabulary</p></header>
<main>
<h1>Our recent Freedom of Information responses</h1>
<foilog-log force="hertfordshire" limit="5">
  <a href="{live}/forces/hertfordshire">Our disclosure log</a>
</foilog-log>
</main>
<script src="{live}/embed.js"></script>
</body>
</html>""",
        encoding="utf-8",
    )
    handler = partial(_QuietHandler, directory=str(tmp_path))
    server = ThreadingHTTPServer(("127.0.0.1", _free_port()), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield HostPage(f"http://127.0.0.1:{server.server_address[1]}/index.html")
    finally:
        server.shutdown()
        server.server_close()


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass
