"""The print spool: paper for committed tickets, retried until it comes out.

A print job row is written in the same transaction as its ticket, so a crash
loses no paper. A worker sends due jobs to their printers, backs off while a
printer is down, and tells the staff pages each printer's state.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from peewee import fn

from printers import (
    PrinterConfig,
    PrinterUnavailable,
    TicketPrint,
    printer_test_page,
    query_status,
    render_escpos,
    render_png,
    save_preview,
    send,
    ticket_layout,
)
from server.config import Config, Printer
from server.db import reading, writing
from server.engine import Queue, TicketView
from server.i18n import translate
from server.models import PrintJob, Ticket, utcnow

logger = logging.getLogger(__name__)

IDLE_WAKE_SECONDS = 5.0
STATUS_CHECK_SECONDS = 20.0
# What a printer's own status report means for staff; the pages word each
# problem from the catalogs (reception.problem_<code>).
STATUS_PROBLEMS = {"paper_out", "paper_low", "offline"}
FIRST_RETRY_SECONDS = 2.0


@dataclass
class PrinterState:
    """What the staff pages show about one printer."""

    id: str
    state: str = "unknown"  # unknown, online, offline, paper_out, paper_low
    # A catalog code for staff (paper_out, paper_low, offline, send_failed) and
    # the technical detail behind it, as the transport reported it.
    problem: str = ""
    last_error: str = ""
    jobs_waiting: int = 0
    jobs_failed: int = 0


class Spool:
    """Send print jobs to their printers off the request path, with retries."""

    def __init__(self, config: Config, queue: Queue, ticket_url, on_change=None):
        self.config = config
        self.queue = queue
        self.ticket_url = ticket_url
        self.on_change = on_change or (lambda state: None)
        self._states = {p.id: PrinterState(p.id) for p in config.printers}
        self._wake = threading.Event()
        self._stopping = False

    # -- state -------------------------------------------------------------

    def printer_for_kiosk(self, kiosk_id: str | None) -> str | None:
        kiosk = self.config.kiosk(kiosk_id) if kiosk_id else None
        if kiosk is None or not kiosk.printer:
            return None
        return kiosk.printer

    def state(self, printer_id: str | None) -> str:
        if printer_id is None:
            return "none"
        return self._states[printer_id].state

    def states(self) -> list[dict]:
        """Return every printer's state with its waiting and failed job counts."""
        return [self._counted(printer_id) for printer_id in self._states]

    def _counted(self, printer_id: str) -> dict:
        """Return one printer's state with its job counts read fresh."""
        printer_state = self._states[printer_id]
        with reading():
            # Printed jobs are most of the table: count only the rest.
            counts = dict(
                PrintJob.select(PrintJob.state, fn.COUNT(PrintJob.id))
                .where(
                    (PrintJob.printer == printer_id)
                    & PrintJob.state.in_(("queued", "printing", "failed"))
                )
                .group_by(PrintJob.state)
                .tuples()
            )
        printer_state.jobs_waiting = counts.get("queued", 0) + counts.get("printing", 0)
        printer_state.jobs_failed = counts.get("failed", 0)
        return asdict(printer_state)

    def paper_state(self, ticket_id: int) -> str:
        """Tell whether a ticket's paper came out: none, printing, printed, failed.

        A job waiting to retry counts as failed: the printer let it down once
        and the patient should not wait at the kiosk for it.
        """
        with reading():
            job = (
                PrintJob.select()
                .where(PrintJob.ticket == ticket_id)
                .order_by(PrintJob.id.desc())
                .first()
            )
        if job is None:
            return "none"
        if job.state == "printed":
            return "printed"
        if job.state == "failed" or job.attempts > 0 and job.state == "queued":
            return "failed"
        return "printing"

    def _set_state(
        self, printer_id: str, state: str, error: str = "", problem: str = ""
    ) -> None:
        current = self._states[printer_id]
        changed = (current.state, current.problem, current.last_error) != (
            state,
            problem,
            error,
        )
        current.state, current.problem, current.last_error = state, problem, error
        if not changed:
            return
        if state == "offline":
            logger.warning("printer %s is down: %s", printer_id, error)
        elif state == "online":
            logger.info("printer %s is printing", printer_id)
        self.on_change(self._counted(printer_id))

    # -- jobs --------------------------------------------------------------

    def wake(self) -> None:
        """Tell the worker a new job is waiting."""
        self._wake.set()

    def recover(self) -> None:
        """After a restart, hold jobs that were mid-send instead of reprinting."""
        with writing():
            interrupted = (
                PrintJob.update(
                    state="failed",
                    last_error="interrupted by a restart; reprint if no paper came out",
                )
                .where(PrintJob.state == "printing")
                .execute()
            )
        if interrupted:
            logger.warning("%d print job(s) were interrupted by a restart", interrupted)

    def reprint(self, ticket_id: int, printer_id: str) -> None:
        """Queue paper for a ticket again, at a staff member's request."""
        with writing():
            PrintJob.create(ticket=ticket_id, printer=printer_id)
        self.wake()

    def process_due(self) -> int:
        """Send every job that is due now, each once; return how many were tried."""
        # A job that fails is due again after its back-off; without the
        # exclusion a back-off shorter than a send would keep this loop going
        # until the printer came back or every job was given up.
        tried: set[int] = set()
        while (job := self._claim_due_job(exclude=tried)) is not None:
            tried.add(job.id)
            self._print(job)
        return len(tried)

    def run_forever(self) -> None:
        """Process jobs until stop(); the hub runs this as a background task."""
        logger.info("print spool started")
        last_check = 0.0
        while not self._stopping:
            try:
                self.process_due()
                if time.monotonic() - last_check >= STATUS_CHECK_SECONDS:
                    self.check_printers()
                    last_check = time.monotonic()
            except Exception:
                logger.exception("print spool failed; retrying shortly")
            self._wake.wait(self._seconds_until_next_job())
            self._wake.clear()

    def check_printers(self) -> None:
        """Ask each printer that can answer how it is (paper out, offline)."""
        for printer in self.config.printers:
            if printer.type not in ("network", "file"):
                continue
            device = printer_device(printer, self.config.source.parent)
            status = query_status(device)
            if status == "unknown":
                continue  # silence: this printer does not report its status
            current = self._states[printer.id]
            if status == current.state == "offline":
                continue  # keep the failed send's own, more precise, reason
            problem = status if status in STATUS_PROBLEMS else ""
            self._set_state(printer.id, status, problem=problem)

    def stop(self) -> None:
        self._stopping = True
        self._wake.set()

    def _seconds_until_next_job(self) -> float:
        with reading():
            job = (
                PrintJob.select(PrintJob.next_attempt_at)
                .where(PrintJob.state == "queued")
                .order_by(PrintJob.next_attempt_at)
                .first()
            )
        if job is None:
            return IDLE_WAKE_SECONDS
        wait = (job.next_attempt_at - utcnow()).total_seconds()
        return min(max(wait, 0.05), IDLE_WAKE_SECONDS)

    def _claim_due_job(self, exclude: set[int]) -> PrintJob | None:
        due = (PrintJob.state == "queued") & (PrintJob.next_attempt_at <= utcnow())
        if exclude:
            due &= PrintJob.id.not_in(sorted(exclude))
        with writing():
            job = PrintJob.select().where(due).order_by(PrintJob.id).first()
            if job is None:
                return None
            job.state = "printing"
            job.attempts += 1
            job.save()
            return job

    def _print(self, job: PrintJob) -> None:
        printer = self.config.printer(job.printer)
        if printer is None:
            self._finish(
                job, "failed", f"printer {job.printer!r} is not in config.toml"
            )
            return
        try:
            with reading():
                ticket = Ticket.get_by_id(job.ticket_id)
            self._send(printer, ticket)
        except PrinterUnavailable as err:
            self._retry_later(job, str(err))
            problem = "paper_out" if err.paper_out else "send_failed"
            self._set_state(printer.id, "offline", str(err), problem)
            return
        except Exception as err:
            # A bad [[printers]] entry (say an unknown profile) or a bug: a retry
            # cannot help, and a job left "printing" would wait unseen for ever.
            logger.exception("print job %d failed on printer %s", job.id, printer.id)
            self._finish(job, "failed", str(err))
            self._set_state(printer.id, "offline", str(err), "send_failed")
            return
        self._finish(job, "printed")
        if self._states[printer.id].state != "paper_low":  # still true after a print
            self._set_state(printer.id, "online")

    def _send(self, printer: Printer, ticket: Ticket) -> None:
        layout = ticket_layout(self.ticket_print(ticket))
        device = printer_device(printer, self.config.source.parent)
        # A printer without paper still accepts the bytes: ask first, so a
        # ticket is kept for a retry instead of being "sent" into nothing.
        if printer.type == "network" and query_status(device) == "paper_out":
            raise PrinterUnavailable(
                "the printer reports it is out of paper",
                printer_id=printer.id,
                paper_out=True,
            )
        self._deliver(printer, device, layout, name=f"{ticket.day}_{ticket.label}")

    def _deliver(
        self, printer: Printer, device: PrinterConfig, layout, *, name
    ) -> None:
        """Render a layout for the printer and send it; file printers keep a PNG."""
        apostrophes = self.config.printing.apostrophes
        data = render_escpos(
            layout,
            width_mm=printer.width_mm,
            profile=printer.profile,
            apostrophes=apostrophes,
        )
        send(device, data, name=name)
        if printer.type == "file":
            png = render_png(layout, width_mm=printer.width_mm, apostrophes=apostrophes)
            save_preview(device, png, name=name)

    def print_test_page(self, printer_id: str) -> str:
        """Print a test page now; return the printer's state afterwards.

        Raises PrinterUnavailable with the reason when the page did not go out.
        """
        printer = self.config.printer(printer_id)
        device = printer_device(printer, self.config.source.parent)
        when = datetime.now(self.config.clinic.zone).strftime("%d.%m.%Y %H:%M")
        layout = printer_test_page(
            self.config.clinic.name, printer.id, when, self.ticket_url("test")
        )
        self._deliver(printer, device, layout, name=f"test-page-{printer.id}")
        return query_status(device)

    def ticket_print(self, ticket: Ticket) -> TicketPrint:
        """Describe a ticket's paper in the language the patient chose."""
        lang = ticket.lang
        service = self.config.service(ticket.service)
        issued = ticket.issued_at.replace(tzinfo=UTC).astimezone(
            self.config.clinic.zone
        )
        view = TicketView.of(ticket)
        ahead = self.queue.ahead(view)
        band = self.queue.wait_band(view)
        wait = translate(lang, "ticket.wait", low=band[0], high=band[1]) if band else ""
        return TicketPrint(
            clinic_name=self.config.clinic.name,
            number=ticket.label,
            service=service.name[lang] if service else ticket.service,
            issued_at=issued.strftime("%d.%m.%Y %H:%M"),
            ahead=translate(lang, "ticket.ahead", count=ahead),
            qr_url=self.ticket_url(ticket.token),
            qr_hint=translate(lang, "ticket.qr_hint"),
            wait=wait,
        )

    def _finish(self, job: PrintJob, state: str, error: str = "") -> None:
        with writing():
            PrintJob.update(
                state=state,
                last_error=error,
                printed_at=utcnow() if state == "printed" else None,
            ).where(PrintJob.id == job.id).execute()

    def _retry_later(self, job: PrintJob, error: str) -> None:
        """Back off exponentially; give up once the printer was down too long."""
        now = time.time()
        failing_since = job.failing_since or now
        give_up = now - failing_since >= self.config.printing.give_up_after_seconds
        delay = min(
            FIRST_RETRY_SECONDS * 2 ** (job.attempts - 1),
            self.config.printing.retry_max_seconds,
        )
        with writing():
            PrintJob.update(
                state="failed" if give_up else "queued",
                last_error=error,
                failing_since=failing_since,
                next_attempt_at=utcnow() + timedelta(seconds=delay),
            ).where(PrintJob.id == job.id).execute()
        if give_up:
            logger.warning(
                "print job %d given up after %d attempts", job.id, job.attempts
            )


def printer_device(printer: Printer, base: Path) -> PrinterConfig:
    """Turn a [[printers]] entry into the printers package's device settings."""
    # The two share their fields; only a file printer's folder is resolved
    # against config.toml's own folder.
    settings = asdict(printer)
    if printer.type == "file" and not Path(printer.path).is_absolute():
        settings["path"] = str(base / printer.path)
    return PrinterConfig(**settings)
