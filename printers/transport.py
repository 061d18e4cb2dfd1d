"""Deliver ESC/POS bytes to a printer, and ask a printer how it is."""

import contextlib
import logging
import os
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from escpos.escpos import Escpos
from escpos.exceptions import Error as EscposError
from escpos.printer import Network, Serial, Usb

logger = logging.getLogger(__name__)

STATUS_TIMEOUT = 1.0
"""Longest wait, in seconds, for a printer's answer to a status query."""

# DLE EOT n, real-time status (ESC/POS): n=1 printer status, n=4 roll paper
# sensor. Every answer byte has bits 1 and 4 set and bits 0 and 7 clear.
_ASK_PRINTER = b"\x10\x04\x01"
_ASK_PAPER = b"\x10\x04\x04"
_ANSWER_MASK, _ANSWER_FIXED = 0x93, 0x12
_OFFLINE_BIT = 0x08
_PAPER_END_BITS = 0x60
_PAPER_NEAR_END_BITS = 0x0C


@dataclass(frozen=True)
class PrinterConfig:
    """How to reach one printer; `type` is file, network, usb or serial."""

    id: str
    type: str
    width_mm: int = 80
    profile: str = "default"
    path: str = ""
    host: str = ""
    port: int = 9100
    timeout: float = 3.0
    vendor_id: int = 0
    product_id: int = 0
    device: str = ""
    baudrate: int = 9600


class PrinterUnavailable(Exception):
    """A printer did not take a job; the message is the technical detail."""

    def __init__(
        self, message: str, *, printer_id: str, paper_out: bool = False
    ) -> None:
        super().__init__(message)
        self.printer_id = printer_id
        self.paper_out = paper_out


def send(cfg: PrinterConfig, data: bytes, *, name: str) -> None:
    """Deliver one print job's bytes to the printer, or raise PrinterUnavailable."""
    senders = {
        "file": _send_file,
        "network": _send_network,
        "usb": _send_usb,
        "serial": _send_serial,
        "cups": _send_cups,
    }
    sender = senders.get(cfg.type)
    if sender is None:
        raise PrinterUnavailable(
            f"The printer '{cfg.id}' has an unknown type {cfg.type!r}. Set its type "
            "in config.toml to file, network, usb, serial or cups.",
            printer_id=cfg.id,
        )

    sender(cfg, data, name)
    logger.debug("printer %s took job %s (%d bytes)", cfg.id, name, len(data))


def save_preview(cfg: PrinterConfig, png: bytes, *, name: str) -> None:
    """Save a job's PNG preview beside a file printer's bytes; others keep none."""
    if cfg.type == "file":
        _write_atomically(cfg, f"{name}.png", png, name)


def query_status(cfg: PrinterConfig) -> str:
    """Return 'online', 'offline', 'paper_out', 'paper_low' or 'unknown'."""
    if cfg.type == "file":
        return "online" if _folder_writable(cfg.path) else "offline"
    if cfg.type != "network" or not cfg.host:
        return "unknown"

    timeout = min(cfg.timeout, STATUS_TIMEOUT)
    try:
        connection = socket.create_connection((cfg.host, cfg.port), timeout=timeout)
    except OSError as err:
        logger.debug("printer %s status: cannot connect: %s", cfg.id, err)
        return "offline"

    with connection:
        printer = _ask(connection, _ASK_PRINTER)
        paper = _ask(connection, _ASK_PAPER) if printer is not None else None
    if printer is None:
        return "unknown"
    if paper is not None and paper & _PAPER_END_BITS == _PAPER_END_BITS:
        return "paper_out"
    if paper is not None and paper & _PAPER_NEAR_END_BITS == _PAPER_NEAR_END_BITS:
        return "paper_low"
    return "offline" if printer & _OFFLINE_BIT else "online"


def _ask(connection: socket.socket, command: bytes) -> int | None:
    """Send a DLE EOT query; return the answer byte, or None for silence."""
    try:
        connection.sendall(command)
        answer = connection.recv(1)
    except OSError:
        return None
    if len(answer) != 1 or answer[0] & _ANSWER_MASK != _ANSWER_FIXED:
        return None
    return answer[0]


def _send_network(cfg: PrinterConfig, data: bytes, name: str) -> None:
    where = f"[{cfg.host}]:{cfg.port}" if ":" in cfg.host else f"{cfg.host}:{cfg.port}"
    if not cfg.host:
        raise PrinterUnavailable(
            f"The network printer '{cfg.id}' has no address (host is empty). Set "
            "its host in config.toml.",
            printer_id=cfg.id,
        )

    deadline = time.monotonic() + cfg.timeout
    try:
        # Not Network.open(): it speaks IPv4 only and leaves the socket of a
        # failed connect unclosed.
        connection = socket.create_connection((cfg.host, cfg.port), cfg.timeout)
    except OSError as err:
        raise PrinterUnavailable(
            f"The printer '{cfg.id}' at {where} does not answer "
            f"({_reason(err, cfg.timeout)}). Check that it is switched on and "
            "plugged into the network.",
            printer_id=cfg.id,
        ) from err

    printer = Network(cfg.host, cfg.port, timeout=cfg.timeout)
    printer.device = connection
    try:
        connection.settimeout(_left(deadline))
        printer._raw(data)
        _await_end_of_job(connection, deadline)
    except TimeoutError as err:
        raise PrinterUnavailable(
            f"The printer '{cfg.id}' at {where} did not take the ticket within "
            f"{cfg.timeout:g} s. Check its paper and cover; if no ticket came out, "
            "print it again.",
            printer_id=cfg.id,
        ) from err
    except OSError as err:
        raise PrinterUnavailable(
            f"The printer '{cfg.id}' at {where} dropped the connection while "
            f"printing ({_reason(err, cfg.timeout)}). Check the network cable; if "
            "no ticket came out, print it again.",
            printer_id=cfg.id,
        ) from err
    finally:
        _close(printer)


def _await_end_of_job(connection: socket.socket, deadline: float) -> None:
    """Wait until the printer has read the whole job and closed its side."""
    # A printer that accepts but never reads lets a ticket sit in the socket
    # buffers: the write "succeeds" and nothing prints, and a reset after the
    # last write goes unseen. Like CUPS's socket backend (waiteof), end our
    # side and wait for the printer to end its own.
    # TODO: a printer that holds the connection past the timeout is sent the job again.
    connection.shutdown(socket.SHUT_WR)
    while True:
        connection.settimeout(_left(deadline))
        if not connection.recv(256):
            return


def _left(deadline: float) -> float:
    left = deadline - time.monotonic()
    if left <= 0:
        raise TimeoutError("the print job's time is up")
    return left


def _send_usb(cfg: PrinterConfig, data: bytes, name: str) -> None:
    where = f"USB {cfg.vendor_id:04x}:{cfg.product_id:04x}"
    if not Usb.is_usable():
        raise PrinterUnavailable(
            f"The USB printer '{cfg.id}' ({where}) cannot be used: USB support "
            "(pyusb) is not installed. Ask the administrator to install pyusb.",
            printer_id=cfg.id,
        )
    if not (cfg.vendor_id and cfg.product_id):
        raise PrinterUnavailable(
            f"The USB printer '{cfg.id}' has no vendor_id or product_id ({where}). "
            "Set both in config.toml (see `lsusb`).",
            printer_id=cfg.id,
        )

    # pyusb counts its timeout in milliseconds.
    timeout_ms = max(1, round(cfg.timeout * 1000))
    printer = Usb(cfg.vendor_id, cfg.product_id, timeout=timeout_ms)
    _send_device(cfg, printer, data, where)


def _send_serial(cfg: PrinterConfig, data: bytes, name: str) -> None:
    where = cfg.device or "(no device)"
    if not Serial.is_usable():
        raise PrinterUnavailable(
            f"The serial printer '{cfg.id}' on {where} cannot be used: serial "
            "support (pyserial) is not installed. Ask the administrator to "
            "install pyserial.",
            printer_id=cfg.id,
        )

    printer = Serial(devfile=cfg.device, baudrate=cfg.baudrate, timeout=cfg.timeout)
    _send_device(cfg, printer, data, where)


def _send_cups(cfg: PrinterConfig, data: bytes, name: str) -> None:
    """Hand the raw bytes to a CUPS queue with `lp -o raw` (CUPS spools them)."""
    where = f"CUPS queue {cfg.device or '(none)'}"
    command = ["lp", "-d", cfg.device, "-t", name, "-o", "raw"]
    try:
        result = subprocess.run(
            command, input=data, capture_output=True, timeout=cfg.timeout
        )
    except FileNotFoundError:
        raise PrinterUnavailable(
            f"The printer '{cfg.id}' ({where}) cannot be used: the `lp` command is "
            "missing. Install CUPS (apt-get install cups-client).",
            printer_id=cfg.id,
        ) from None
    except subprocess.TimeoutExpired:
        raise PrinterUnavailable(
            f"The printer '{cfg.id}' ({where}) did not take the job within "
            f"{cfg.timeout:g} s. Check that CUPS is running.",
            printer_id=cfg.id,
        ) from None
    if result.returncode != 0:
        reason = result.stderr.decode(errors="replace").strip() or "lp failed"
        raise PrinterUnavailable(
            f"The printer '{cfg.id}' ({where}) refused the job ({reason}). Check "
            "the queue's name with `lpstat -p`.",
            printer_id=cfg.id,
        )


def _send_device(cfg: PrinterConfig, printer: Escpos, data: bytes, where: str) -> None:
    try:
        printer.open()
        if cfg.type == "serial":
            # python-escpos sets only a read timeout; without this a printer
            # holding flow control blocks the write for ever.
            printer.device.write_timeout = cfg.timeout
        printer._raw(data)
    except (OSError, EscposError) as err:
        raise PrinterUnavailable(
            f"The printer '{cfg.id}' on {where} does not answer "
            f"({_reason(err, cfg.timeout)}). Check that it is switched on and its "
            "cable is plugged in.",
            printer_id=cfg.id,
        ) from err
    finally:
        _close(printer)


def _send_file(cfg: PrinterConfig, data: bytes, name: str) -> None:
    _write_atomically(cfg, f"{name}.bin", data, name)


def _write_atomically(cfg: PrinterConfig, filename: str, data: bytes, name: str):
    _check_job_name(name)
    if not cfg.path:
        raise PrinterUnavailable(
            f"The file printer '{cfg.id}' has no folder (path is empty). Set its "
            "path in config.toml.",
            printer_id=cfg.id,
        )

    folder = Path(cfg.path)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        descriptor, temporary = tempfile.mkstemp(
            dir=folder, prefix=f".{filename}.", suffix=".tmp"
        )
        try:
            with os.fdopen(descriptor, "wb") as out:
                out.write(data)
                out.flush()
                os.fsync(out.fileno())
            os.chmod(temporary, 0o644)
            os.replace(temporary, folder / filename)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
    except OSError as err:
        raise PrinterUnavailable(
            f"The file printer '{cfg.id}' could not save {filename} in {folder} "
            f"({err.strerror or err}). Check that this folder can be created and "
            "written to.",
            printer_id=cfg.id,
        ) from err


def _check_job_name(name: str) -> None:
    unsafe = not name or name.startswith(".") or any(c in name for c in "/\\\0")
    if unsafe:
        raise ValueError(
            f"Cannot use {name!r} as a print job name; pass a plain file name "
            "such as '2026-12-04_A-001'."
        )


def _folder_writable(path: str) -> bool:
    if not path:
        return False
    folder = Path(path).absolute()
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    return folder.is_dir() and os.access(folder, os.W_OK | os.X_OK)


def _reason(err: BaseException, timeout: float) -> str:
    if isinstance(err, ConnectionRefusedError):
        return "connection refused"
    if isinstance(err, TimeoutError):
        return f"no reply within {timeout:g} s"
    if isinstance(err, ConnectionResetError):
        return "connection reset"
    if isinstance(err, socket.gaierror):
        return "address not found"
    if isinstance(err, OSError) and err.strerror:
        return err.strerror.lower()
    return str(err) or type(err).__name__


def _close(printer: Escpos) -> None:
    # A half-dead connection may fail to close; the job's outcome is known.
    with contextlib.suppress(OSError, EscposError):
        printer.close()
