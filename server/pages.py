"""Pages that belong to no surface: the start page and the served packages."""

from __future__ import annotations

from flask import Blueprint, abort, render_template, send_from_directory

from server.config import ROOT
from server.hub import hub

bp = Blueprint("pages", __name__)

NODE_MODULES = ROOT / "node_modules"

# Files from npm packages that pages load; served by the hub, never a CDN.
VENDOR_FILES = {
    "socket.io.min.js": NODE_MODULES / "socket.io-client/dist/socket.io.min.js",
}
FONT_DIR = NODE_MODULES / "@fontsource/noto-sans/files"


@bp.get("/")
def index():
    """List the clinic's surfaces with their addresses, for setting up devices."""
    the_hub = hub()
    return render_template(
        "index.html",
        kiosks=the_hub.config.kiosks,
        public_url=the_hub.public_url,
        public_booking=the_hub.config.booking.public,
    )


@bp.get("/vendor/<name>")
def vendor(name: str):
    path = VENDOR_FILES.get(name)
    if path is None or not path.exists():
        abort(404)
    return send_from_directory(path.parent, path.name)


@bp.get("/vendor/fonts/<name>")
def font(name: str):
    if not name.startswith("noto-sans-") or not name.endswith(".woff2"):
        abort(404)
    return send_from_directory(FONT_DIR, name)


@bp.get("/health")
def health():
    """Answer a monitoring probe: the hub runs and its database answers."""
    the_hub = hub()
    return {"ok": True, "waiting": sum(the_hub.queue.waiting_counts().values())}
