"""The clinic's devices that act: kiosks issuing tickets and dentists' tablets.

Kiosks issue on a fixed schedule (open loop): each ticket's latency counts
from the moment it was due, so a hub that falls behind is charged for the
wait instead of being offered less work. Dentists call, start and finish in
a steady cycle. Every time is CLOCK_MONOTONIC in nanoseconds, comparable
with the audience process's arrival stamps.
"""

from __future__ import annotations

import asyncio
import re
import secrets
import time
from dataclasses import dataclass, field

from bench.wire import HttpClient, require_loopback

REQUEST_TIMEOUT = 10.0
_STATUS_QUERY = re.compile(rb"\x10\x04[\x01-\x04]")
_QUERY_SIZE = 3  # bytes of one DLE EOT n
_ONLINE = b"\x12"
"""The answer byte of a printer that is online with paper (fixed bits only)."""
QUIET_GAP = 0.2
"""Seconds between quiet issues, and between a quiet call and its finish."""
DRAIN_SECONDS = 3.0
"""Longest wait for answers after a part's last request was sent."""


@dataclass
class Issue:
    due_ns: int
    done_ns: int
    status: int
    label: str = ""
    token: str = ""
    service: str = ""
    refusal: str = ""

    @property
    def latency_ms(self) -> float:
        return (self.done_ns - self.due_ns) / 1e6


@dataclass
class Action:
    dentist: str
    action: str
    sent_ns: int
    done_ns: int
    status: int
    label: str = ""
    refusal: str = ""


@dataclass
class Clinic:
    """HTTP clients for the kiosks and the signed-in dentists."""

    host: str
    port: int
    kiosks: list[str]
    services: list[str]
    dentists: dict[str, HttpClient] = field(default_factory=dict)
    issues: list[Issue] = field(default_factory=list)
    actions: list[Action] = field(default_factory=list)

    def __post_init__(self) -> None:
        require_loopback(self.host)
        self._kiosk_clients = {k: HttpClient(self.host, self.port) for k in self.kiosks}
        self._issued = 0

    async def sign_in(self, pins: dict[str, str], dentist_ids: list[str]) -> None:
        """Sign each dentist in on their tablet, one after another.

        Tablets sign in over a morning, not at one instant; at once, twenty
        scrypt checks would also need 32 MB each in the hub (see README.md).
        """
        for dentist_id in dentist_ids:
            client = HttpClient(self.host, self.port)
            answer = await client.post(
                "/api/v1/dentist/login",
                {"dentist": dentist_id, "pin": pins[dentist_id]},
            )
            if answer.status != 200:
                raise RuntimeError(f"sign-in of {dentist_id} refused: {answer.body!r}")
            client.csrf = answer.json()["csrf"]
            self.dentists[dentist_id] = client

    # -- kiosks ---------------------------------------------------------------

    async def issue(self, due_ns: int | None = None) -> Issue:
        """Issue the next ticket from the next kiosk, services taken in turn."""
        number = self._issued
        self._issued += 1
        kiosk = self.kiosks[number % len(self.kiosks)]
        service = self.services[number % len(self.services)]
        due_ns = due_ns or time.monotonic_ns()
        try:
            answer = await asyncio.wait_for(
                self._kiosk_clients[kiosk].post(
                    "/api/v1/tickets",
                    {
                        "service": service,
                        "kiosk": kiosk,
                        "lang": "uz",
                        "request_key": secrets.token_urlsafe(12),
                    },
                ),
                REQUEST_TIMEOUT,
            )
        except (TimeoutError, OSError):
            return Issue(due_ns, time.monotonic_ns(), 0, service=service)
        done = time.monotonic_ns()
        if answer.status != 201:
            refusal = answer.body.decode(errors="replace")[:200]
            return Issue(due_ns, done, answer.status, service=service, refusal=refusal)
        ticket = answer.json()["ticket"]
        return Issue(due_ns, done, 201, ticket["label"], ticket["token"], service)

    async def issue_at_rate(self, rate: float, seconds: float) -> list[Issue]:
        """Issue `rate` tickets a second for `seconds`, each when it is due.

        Requests still unanswered DRAIN_SECONDS after the last was due are
        given up and count as refused, with the time waited so far.
        """
        interval = 1e9 / rate
        start = time.monotonic_ns()
        tasks = []
        for n in range(int(rate * seconds)):
            due = start + int(n * interval)
            delay = (due - time.monotonic_ns()) / 1e9
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append((due, asyncio.create_task(self.issue(due))))
        if tasks:
            await asyncio.wait([task for _, task in tasks], timeout=DRAIN_SECONDS)
        issued = []
        for due, task in tasks:
            if task.done():
                issued.append(task.result())
            else:
                task.cancel()
                issued.append(Issue(due, time.monotonic_ns(), 0))
        self.issues.extend(issued)
        return issued

    async def quiet_issues(self, count: int, budget: float = 5.0) -> list[Issue]:
        """Issue tickets one at a time, QUIET_GAP apart, on an otherwise idle hub.

        Stops early once budget seconds are spent: one slow answer says enough.
        """
        issued = []
        deadline = time.monotonic() + budget
        while len(issued) < count and time.monotonic() < deadline:
            issued.append(await self.issue())
            await asyncio.sleep(QUIET_GAP)
        return issued

    async def issue_many(self, count: int, at_once: int = 10) -> list[Issue]:
        """Issue count tickets as fast as the hub takes them (for the set-up).

        Stops at the first batch with a refusal, so a hub that cannot issue
        costs one request timeout, not one per ticket.
        """
        issued: list[Issue] = []
        while len(issued) < count:
            batch = min(at_once, count - len(issued))
            issued += await asyncio.gather(*(self.issue() for _ in range(batch)))
            if any(i.status != 201 for i in issued):
                break
        return issued

    async def until_idle(self, answer_ms: float = 50.0, timeout: float = 5.0) -> bool:
        """Wait until the hub answers GET /queue within answer_ms (or give up)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            asked = time.monotonic()
            try:
                await asyncio.wait_for(self.get_queue(), timeout)
                if (time.monotonic() - asked) * 1000 < answer_ms:
                    return True
            except (TimeoutError, OSError):
                pass
            await asyncio.sleep(0.2)
        return False

    async def get_queue(self) -> dict:
        """Return what the waiting-room display shows (GET /queue)."""
        client = next(iter(self._kiosk_clients.values()))
        return (await client.get("/api/v1/queue")).json()

    # -- dentists --------------------------------------------------------------

    async def quiet_calls(self, count: int) -> dict[str, int]:
        """Call and finish tickets one at a time on an otherwise idle hub.

        Returns {label: moment sent}: what one call costs with no queueing.
        """
        sent = {}
        ids = list(self.dentists)
        for n in range(count):
            dentist_id = ids[n % len(ids)]
            called = await self._act(dentist_id, "call-next")
            if called.status == 200:
                sent[called.label] = called.sent_ns
            await asyncio.sleep(QUIET_GAP)
            await self._act(dentist_id, "done")
            await asyncio.sleep(QUIET_GAP)
        return sent

    async def dentists_work(self, period: float, seconds: float) -> None:
        """Let every dentist call, start and finish one ticket each period.

        The dentists' cycles are spread evenly over the period so calls arrive
        at a steady rate rather than in bursts.
        """
        ids = list(self.dentists)
        start = time.monotonic()
        end = start + seconds
        work = [
            asyncio.create_task(
                self._dentist(d, start + period * n / len(ids), period, end)
            )
            for n, d in enumerate(ids)
        ]
        await asyncio.wait(work, timeout=seconds + DRAIN_SECONDS)
        for task in work:
            task.cancel()

    async def _dentist(self, dentist_id: str, first: float, period: float, end: float):
        cycle = first
        while cycle < end:
            await _sleep_until(cycle)
            called = await self._act(dentist_id, "call-next")
            if called.refusal == "finish_current_first":
                await self._act(dentist_id, "done")
            elif called.status == 200 and time.monotonic() < end:
                await _sleep_until(cycle + period * 0.3)
                await self._act(dentist_id, "start")
                await _sleep_until(cycle + period * 0.6)
                await self._act(dentist_id, "done")
            cycle += period

    async def _act(self, dentist_id: str, action: str) -> Action:
        client = self.dentists[dentist_id]
        sent = time.monotonic_ns()
        try:
            answer = await asyncio.wait_for(
                client.post(f"/api/v1/dentist/{action}"), REQUEST_TIMEOUT
            )
            body = answer.json()
        except (TimeoutError, OSError, ValueError):
            return self._record(dentist_id, action, sent, 0)
        if answer.status == 200:
            label = body["ticket"]["label"]
            return self._record(dentist_id, action, sent, 200, label=label)
        refusal = body.get("error", {}).get("code", "")
        return self._record(dentist_id, action, sent, answer.status, refusal=refusal)

    def _record(self, dentist_id, action, sent, status, **what) -> Action:
        result = Action(dentist_id, action, sent, time.monotonic_ns(), status, **what)
        self.actions.append(result)
        return result

    def close(self) -> None:
        for client in [*self._kiosk_clients.values(), *self.dentists.values()]:
            client.close()


async def _sleep_until(moment: float) -> None:
    delay = moment - time.monotonic()
    if delay > 0:
        await asyncio.sleep(delay)


class FakePrinters:
    """Network receipt printers on 127.0.0.1 that take each job and close.

    Like a healthy printer on port 9100: a real-time status query (DLE EOT n)
    is answered at once with "online, paper present"; a job is read until
    the hub ends its side, then ours is closed, so the hub's print spool sees
    every ticket printed.
    """

    def __init__(self) -> None:
        self.jobs = 0
        self.status_queries = 0
        self.bytes = 0
        self.port = 0
        self._server: asyncio.Server | None = None
        self._open: set[asyncio.StreamWriter] = set()

    async def start(self) -> FakePrinters:
        self._server = await asyncio.start_server(self._connection, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def _connection(self, reader, writer: asyncio.StreamWriter) -> None:
        job_bytes = 0
        self._open.add(writer)
        try:
            while data := await reader.read(65536):
                queries = len(_STATUS_QUERY.findall(data))
                job_bytes += len(data) - queries * _QUERY_SIZE
                if queries:
                    self.status_queries += queries
                    writer.write(_ONLINE * queries)
        except ConnectionError:
            pass
        finally:
            self._open.discard(writer)
            writer.close()
        if job_bytes:
            self.jobs += 1
            self.bytes += job_bytes

    async def stop(self) -> None:
        if self._server:
            self._server.close()
            for writer in list(self._open):
                writer.close()  # ends its reader, so its handler returns
            await self._server.wait_closed()
            await asyncio.sleep(0.1)
