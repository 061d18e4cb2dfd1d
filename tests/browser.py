"""Launch Debian's Chromium through Playwright and keep every page on loopback.

Playwright drives the system's /usr/bin/chromium (never a downloaded build).
Each context records the address of every request and websocket its pages
open, and refuses (aborts) any that would leave 127.0.0.1, so a page that
reaches for the internet fails its test without a packet going out.
"""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from playwright.sync_api import (
    Browser,
    BrowserContext,
    Page,
    Playwright,
    Route,
    WebSocketRoute,
)

CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
    "--autoplay-policy=no-user-gesture-required",
]

LOOPBACK = "127.0.0.1"
# Schemes that never touch the network.
LOCAL_SCHEMES = {"data", "blob", "about"}
# Anything that is not http(s)/ws(s) to 127.0.0.1.
NOT_LOOPBACK = re.compile(r"^(?!(?:https?|wss?)://127\.0\.0\.1(?:[:/]|$))[a-z]+://")


def chromium_path() -> str | None:
    return shutil.which("chromium")


def launch(playwright: Playwright) -> Browser:
    path = chromium_path()
    if path is None:
        raise RuntimeError("Debian's Chromium is missing: apt-get install chromium")
    return playwright.chromium.launch(
        executable_path=path, headless=True, args=CHROMIUM_FLAGS
    )


def leaves_loopback(url: str) -> bool:
    """Whether a request to url would go anywhere but 127.0.0.1."""
    parts = urlsplit(url)
    if parts.scheme in LOCAL_SCHEMES:
        return False
    return parts.hostname != LOOPBACK


@dataclass
class Recorder:
    """Every address the pages of some contexts asked for."""

    urls: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)

    def watch(self, context: BrowserContext) -> BrowserContext:
        context.on("request", lambda request: self.urls.append(request.url))
        context.on("page", self._watch_page)
        context.route(NOT_LOOPBACK, self._refuse)
        context.route_web_socket(NOT_LOOPBACK, self._refuse_socket)
        return context

    def _watch_page(self, page: Page) -> None:
        page.on("websocket", lambda socket: self.urls.append(socket.url))

    def _refuse(self, route: Route) -> None:
        self.refused.append(route.request.url)
        route.abort("blockedbyclient")

    def _refuse_socket(self, socket: WebSocketRoute) -> None:
        self.refused.append(socket.url)
        socket.close()

    def outside(self) -> list[str]:
        """The recorded addresses that are not on 127.0.0.1."""
        outside = [url for url in self.urls if leaves_loopback(url)]
        return sorted(set(outside + self.refused))
