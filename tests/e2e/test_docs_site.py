"""The documentation site, read as a reader would: built strictly, served, opened in Chromium.

``mkdocs build --strict`` must succeed (a broken link, a missing reference or a
docstring that does not render fails it). The built site is then served on
127.0.0.1 and every page is opened in headless Chromium: each loads with no
console error and no failed request, every in-site link reaches a page that
exists and every ``#anchor`` names an element on its page, and the search box
finds ``receive_media`` in the API reference. Screenshots of the home page and
of the reference page land in the test's temporary folder, for a person to look
at when a layout question comes up.
"""

from __future__ import annotations

import functools
import os
import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urldefrag, urlsplit

import pytest

from tests.e2e._playwright import TIMEOUT_MS, chromium, watch

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
BUILD_TIMEOUT = 120.0
_ID = re.compile(r"""\sid=["']([^"']+)["']""")


class _QuietHandler(SimpleHTTPRequestHandler):
    """Serve files without printing a log line per request."""

    def log_message(self, format: str, *args: Any) -> None:
        return


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Build the site in strict mode into a fresh folder and return that folder."""
    out = tmp_path_factory.mktemp("site")
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    build = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(out)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=BUILD_TIMEOUT,
        check=False,
    )
    assert build.returncode == 0, f"mkdocs build --strict failed:\n{build.stderr}"
    return out


@pytest.fixture(scope="module")
def base_url(site: Path) -> Iterator[str]:
    """Serve the built site on a free 127.0.0.1 port for the module."""
    handler = functools.partial(_QuietHandler, directory=str(site))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def _pages(site: Path) -> list[str]:
    return sorted(
        str(path.relative_to(site))
        for path in site.rglob("*.html")
        if path.name != "404.html" and "assets" not in path.parts
    )


def test_strict_build_has_the_reference_and_the_chart(site: Path) -> None:
    """The reference pages are generated and the benchmark chart is published."""
    reference = (site / "reference" / "lanner.html").read_text(encoding="utf-8")
    assert 'id="lanner.WebSocket.receive_media"' in reference
    assert (site / "bench_ratios.png").stat().st_size > 0
    for name in ("media", "testing", "hookspecs", "media_cbor", "auth_mw"):
        assert (site / "reference" / f"{name}.html").exists(), name


def test_every_page_loads_cleanly_with_working_links(
    site: Path, base_url: str, tmp_path: Path
) -> None:
    """Each page: no console error, no failed request; every in-site link and anchor resolves."""
    pages = _pages(site)
    assert "index.html" in pages
    assert "reference/lanner.html" in pages
    ids_by_page: dict[str, set[str]] = {}
    links: list[tuple[str, str]] = []
    problems: list[str] = []
    with chromium() as browser:
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        seen = watch(page)
        for name in pages:
            page.goto(base_url + name, wait_until="networkidle")
            # From the built file, not the live page: the anchors are static, and
            # reading them from the file cannot race a page still settling under load.
            ids_by_page[name] = set(_ID.findall((site / name).read_text(encoding="utf-8")))
            hrefs: list[str] = page.eval_on_selector_all("a[href]", "els => els.map(a => a.href)")
            links.extend((name, href) for href in hrefs)
            problems.extend(f"{name}: {problem}" for problem in seen.problems())
            seen.console_errors.clear()
            seen.failed_requests.clear()
        page.goto(base_url + "index.html")
        page.screenshot(path=str(tmp_path / "home.png"), full_page=False)
        page.goto(base_url + "reference/lanner.html")
        page.screenshot(path=str(tmp_path / "reference.png"), full_page=False)
    for source, href in links:
        target, anchor = urldefrag(href)
        if not target.startswith(base_url):
            continue
        path = urlsplit(target).path.lstrip("/") or "index.html"
        if path.endswith("/"):
            path += "index.html"
        if not (site / path).is_file():
            problems.append(f"{source}: link to a missing page {href}")
        elif anchor and path in ids_by_page and anchor not in ids_by_page[path]:
            problems.append(f"{source}: link to a missing anchor {href}")
    assert problems == []
    assert (tmp_path / "home.png").stat().st_size > 0
    assert (tmp_path / "reference.png").stat().st_size > 0


def test_search_finds_receive_media(base_url: str) -> None:
    """Searching for ``receive_media`` lists the reference entry; typing a new query works too.

    The page is opened with ``?q=receive_media`` (Material's shareable search link),
    which runs the query once the search worker has indexed the site: a query typed
    before then is silently dropped, a race a busy machine loses. Once results show,
    the index is ready and a query typed into the box, as a reader does, must work.
    """
    with chromium() as browser:
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        seen = watch(page)
        page.goto(base_url + "index.html?q=receive_media")
        result = page.locator(".md-search-result__item:visible", has_text="receive_media").first
        result.wait_for(state="visible", timeout=2 * TIMEOUT_MS)
        href = result.locator("a").first.get_attribute("href") or ""
        assert "reference/lanner.html" in href

        box = page.locator(".md-search__input")
        box.fill("")
        box.press_sequentially("SSEvent")  # real key presses, as a reader types
        typed = page.locator(".md-search-result__item:visible", has_text="SSEvent").first
        typed.wait_for(state="visible", timeout=TIMEOUT_MS)
        assert seen.problems() == []
