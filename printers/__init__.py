"""Ticket paper: a device-neutral layout, ESC/POS bytes, PNG previews, printers."""

import logging
import os
import stat
import tempfile
from pathlib import Path


def _escpos_cache_dir() -> str:
    """Return a folder only this user can write, for python-escpos's cache."""
    folder = Path(tempfile.gettempdir()) / f"navbat-escpos-{os.getuid()}"
    folder.mkdir(mode=0o700, exist_ok=True)

    # python-escpos unpickles a file from this folder: one that someone else
    # could have planted there must not be trusted.
    info = folder.lstat()
    shared = info.st_mode & (stat.S_IWGRP | stat.S_IWOTH)
    if stat.S_ISLNK(info.st_mode) or info.st_uid != os.getuid() or shared:
        return tempfile.mkdtemp(prefix="navbat-escpos-")
    return str(folder)


# python-escpos reads this at import time; without it each process writes a
# fresh 70 KB capabilities pickle into a new temporary folder (3.1 still makes
# one empty folder per process either way). Its import also calls
# logging.basicConfig(), which would turn the app's own set-up into a silent
# no-op: undo that.
if "ESCPOS_CAPABILITIES_PICKLE_DIR" not in os.environ:
    os.environ["ESCPOS_CAPABILITIES_PICKLE_DIR"] = _escpos_cache_dir()
_handlers = list(logging.getLogger().handlers)
import escpos.capabilities  # noqa: E402, F401

for _handler in list(logging.getLogger().handlers):
    if _handler not in _handlers:
        logging.getLogger().removeHandler(_handler)

from printers.escpos_render import render_escpos  # noqa: E402
from printers.layout import (  # noqa: E402
    Cut,
    Element,
    Feed,
    Qr,
    Rule,
    Text,
    TicketPrint,
    printer_test_page,
    ticket_layout,
)
from printers.preview import render_png  # noqa: E402
from printers.text import for_paper, wrap  # noqa: E402
from printers.transport import (  # noqa: E402
    PrinterConfig,
    PrinterUnavailable,
    query_status,
    save_preview,
    send,
)

__all__ = [
    "Cut",
    "Element",
    "Feed",
    "PrinterConfig",
    "PrinterUnavailable",
    "Qr",
    "Rule",
    "Text",
    "TicketPrint",
    "for_paper",
    "printer_test_page",
    "query_status",
    "render_escpos",
    "render_png",
    "save_preview",
    "send",
    "ticket_layout",
    "wrap",
]
