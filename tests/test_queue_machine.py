"""Random clinic days against the real engine: every step predicted, every rule held.

A hypothesis state machine drives one Queue on a fresh SQLite file per example,
with a clock it moves (across the Tashkent midnight too). Before each action it
predicts, from the rows and its own record of breaks and streaks, whether the
engine must refuse and with which code; a refusal must change nothing, and a
change must write exactly one audit row per ticket it touched.

A few minutes pass before each action, and dentists and tickets are drawn
from everyone but more often from those an action suits (a busy dentist for
Done, a no-show for Reinstate): with uniform draws and a still clock, 30 steps
almost never reached a starving walk-in, a reinstatement or a day's end.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections import Counter
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from pathlib import Path
from zoneinfo import ZoneInfo

from hypothesis import event, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
)

from server import config as config_module
from server import rules
from server.db import database
from server.errors import QueueError
from server.models import Dentist, Ticket, TicketEvent
from tests.conftest import write_config
from tests.test_engine import Clock, open_queue

TASHKENT = ZoneInfo("Asia/Tashkent")
FOLDER = Path(tempfile.gettempdir()) / f"navbat-queue-machine-{os.getpid()}"
# 18:00 in Tashkent on a Friday: some examples live through the midnight.
START = datetime(2026, 12, 4, 13, 0, tzinfo=UTC)

SERVICES = ("checkup", "treatment", "extraction", "hygiene")
DENTISTS = [
    {"id": "karimova", "name": "K", "room": "1", "services": ["checkup", "treatment"]},
    {"id": "rahimov", "name": "R", "room": "2", "services": ["treatment", "hygiene"]},
    {"id": "yusupov", "name": "Y", "room": "3", "services": ["extraction", "checkup"]},
    {"id": "nazarova", "name": "N", "room": "4", "services": ["hygiene"]},
]
SERVES = {d["id"]: tuple(d["services"]) for d in DENTISTS}
ROOMS = {d["id"]: d["room"] for d in DENTISTS}
QUEUE = {
    "recall_limit": 2,
    "no_show_grace_minutes": 30,
    "max_wait_minutes": 20,
    "max_priority_streak": 2,
    "emergency_service": "extraction",
    "kiosk_priority": True,
}
MAX_WAIT = timedelta(minutes=QUEUE["max_wait_minutes"])
GRACE = timedelta(minutes=QUEUE["no_show_grace_minutes"])
STATES = {"waiting", "called", "serving", "done", "no_show", "cancelled", "expired"}
OPEN = ("waiting", "called", "serving")
CLOSED = {"done", "no_show", "cancelled", "expired"}
CURRENT = ("called", "serving")

services = st.sampled_from(SERVICES)
# Walk-ins are most of a clinic's day; emergencies are few.
priorities = st.sampled_from(["normal"] * 3 + ["priority", "appointment", "emergency"])


def call_order(ticket: dict) -> tuple:
    return (rules.RANK[ticket["priority"]], ticket["issued_at"], ticket["id"])


def as_waiting(ticket: dict) -> rules.Waiting:
    return rules.Waiting(
        ticket["id"],
        ticket["service"],
        ticket["priority"],
        ticket["issued_at"],
        ticket["dentist"],
    )


def favouring(data, suited: list, everyone: list):
    """Draw from everyone, three times as often from those an action suits."""
    return data.draw(st.sampled_from(sorted(suited) * 3 + sorted(everyone)))


class QueueMachine(RuleBasedStateMachine):
    def __init__(self):
        super().__init__()
        shutil.rmtree(FOLDER, ignore_errors=True)
        FOLDER.mkdir(parents=True)
        path = write_config(FOLDER, dentists=DENTISTS, queue=QUEUE)
        self.config = config_module.load(path)
        self.clock = Clock(START)
        self.queue = open_queue(self.config, FOLDER, self.clock)
        # One connection for the example; the engine's own contexts nest in it.
        self.connection = database.connection_context()
        self.connection.__enter__()
        self.cached_rows: dict[int, dict] | None = None
        self.paused = dict.fromkeys(SERVES, False)
        self.streak = dict.fromkeys(SERVES, 0)
        self.last_number: Counter = Counter()

    def teardown(self):
        self.connection.__exit__(None, None, None)
        database.close()
        shutil.rmtree(FOLDER, ignore_errors=True)

    # -- reading the truth ------------------------------------------------------

    def now(self) -> datetime:
        return self.clock().astimezone(UTC).replace(tzinfo=None)

    def today(self) -> str:
        return self.clock().astimezone(TASHKENT).date().isoformat()

    def rows(self) -> dict[int, dict]:
        """Return every ticket row, read again after each action of the engine."""
        if self.cached_rows is None:
            self.cached_rows = {t["id"]: t for t in Ticket.select().dicts()}
        return self.cached_rows

    def snapshot(self):
        self.cached_rows = None
        return (
            self.rows(),
            list(TicketEvent.select().order_by(TicketEvent.id).dicts()),
            list(Dentist.select().order_by(Dentist.id).dicts()),
        )

    def current(self, dentist: str) -> dict | None:
        mine = [
            t
            for t in self.rows().values()
            if t["dentist"] == dentist and t["state"] in CURRENT
        ]
        return mine[0] if mine else None

    def candidates(self, dentist: str) -> list[dict]:
        """Today's waiting tickets the dentist may be given, in call order."""
        return sorted(
            (
                t
                for t in self.rows().values()
                if t["state"] == "waiting"
                and t["day"] == self.today()
                and t["service"] in SERVES[dentist]
                and t["dentist"] in (None, dentist)
            ),
            key=call_order,
        )

    def has_tickets(self) -> bool:
        return bool(self.rows())

    def ticket(self, data, *states: str) -> dict:
        """Draw a ticket, favouring today's tickets in one of states."""
        rows = self.rows()
        suited = [
            i
            for i, t in rows.items()
            if t["state"] in states and t["day"] == self.today()
        ]
        return rows[favouring(data, suited, list(rows))]

    def dentist(self, data, *, busy: bool) -> str:
        """Draw a dentist, favouring those with (or without) a patient."""
        suited = [
            d
            for d in SERVES
            if (self.current(d) is not None) == busy and not self.paused[d]
        ]
        return favouring(data, suited, list(SERVES))

    # -- acting -------------------------------------------------------------

    def elapse(self, data) -> None:
        """Let a few minutes pass before an action, as they do in a clinic.

        Past the clinic's midnight the hub's housekeeping rolls the day over
        within seconds: sometimes before the next action, sometimes after it.
        """
        day = self.today()
        self.clock.tick(data.draw(st.integers(0, 20), label="minutes") * 60)
        if self.today() != day and data.draw(st.booleans(), label="housekeeping"):
            self.roll_day()

    def attempt(self, expected: str | None, action, *, may_repeat=()):
        """Run an action the machine predicted; check a refusal changed nothing.

        may_repeat: a ticket whose audit row may record an action that left it
        as it was (staff setting the class it already had).
        """
        name = action.__qualname__.split(".<locals>")[0].rsplit(".", 1)[-1]
        event(f"{name}: {expected or 'done'}")
        before = self.snapshot()
        try:
            result = action()
        except QueueError as err:
            self.cached_rows = None
            assert err.code == expected, f"refused {err.code} {err.params}"
            assert self.snapshot() == before
            return None
        self.cached_rows = None
        assert expected is None, f"expected a refusal {expected}, it went through"
        self.check_audit(before, may_repeat)
        return result

    def check_audit(self, before, may_repeat=()) -> None:
        """Every ticket that changed has exactly one new audit row, and no other."""
        old_rows, old_events, _ = before
        new_rows, new_events, _ = self.snapshot()
        assert new_events[: len(old_events)] == old_events  # the log only grows
        added = new_events[len(old_events) :]
        changed = {i for i, t in new_rows.items() if old_rows.get(i) != t}
        changed |= {e["ticket"] for e in added} & set(may_repeat)
        assert Counter(e["ticket"] for e in added) == Counter(changed)
        for row in added:
            old = old_rows.get(row["ticket"])
            assert row["from_state"] == (old["state"] if old else None)
            assert row["to_state"] == new_rows[row["ticket"]]["state"]
            assert row["at"] == self.now()

    # -- rules: the kiosk and reception ----------------------------------------

    @initialize(
        arrivals=st.lists(st.tuples(services, priorities), min_size=2, max_size=8)
    )
    def morning_line(self, arrivals):
        """Start with a few patients issued by reception, minutes apart."""
        for service, priority in arrivals:
            self.clock.tick(120)
            self.issue_ticket(service, priority, staff=True)

    @rule(data=st.data(), service=services, priority=priorities, staff=st.booleans())
    def issue(self, data, service, priority, staff):
        self.elapse(data)
        self.issue_ticket(service, priority, staff=staff)

    @rule(data=st.data(), service=services)
    def walk_in(self, data, service):
        self.elapse(data)
        self.issue_ticket(service, "normal", staff=False)

    def issue_ticket(self, service, priority, *, staff) -> None:
        expected = None
        if not staff and (
            priority == "appointment"
            or priority == "emergency"
            and service != QUEUE["emergency_service"]
        ):
            expected = "priority_not_at_kiosk"

        issued = self.attempt(
            expected,
            lambda: self.queue.issue(
                service,
                kiosk_id=None if staff else "lobby",
                lang="en",
                priority=priority,
                by_staff=staff,
            ),
        )
        if issued is None:
            return

        key = (self.today(), service)
        self.last_number[key] += 1
        prefix = self.config.service(service).prefix
        ticket = self.rows()[issued.ticket.id]
        assert issued.created
        assert ticket["label"] == f"{prefix}-{self.last_number[key]:03d}"
        assert (ticket["day"], ticket["state"]) == (self.today(), "waiting")
        assert (ticket["priority"], ticket["issued_at"]) == (priority, self.now())

    @precondition(has_tickets)
    @rule(data=st.data(), by_token=st.booleans())
    def cancel(self, data, by_token):
        self.elapse(data)
        row = self.ticket(data, "waiting", "called")
        expected = None if row["state"] in ("waiting", "called") else "cannot_cancel"

        if by_token:
            done = self.attempt(
                expected, lambda: self.queue.cancel_by_token(row["token"])
            )
        else:
            done = self.attempt(
                expected, lambda: self.queue.cancel(row["id"], actor="staff:1")
            )

        if done is not None:
            assert self.rows()[row["id"]]["state"] == "cancelled"

    @precondition(has_tickets)
    @rule(data=st.data())
    def reinstate(self, data):
        self.elapse(data)
        row = self.ticket(data, "no_show")
        if row["state"] != "no_show":
            expected = "cannot_reinstate"
        elif row["day"] != self.today() or self.now() - row["finished_at"] > GRACE:
            expected = "grace_over"
        else:
            expected = None

        done = self.attempt(
            expected, lambda: self.queue.reinstate(row["id"], actor="staff:1")
        )

        if done is not None:
            after = self.rows()[row["id"]]
            assert (after["state"], after["dentist"], after["room"]) == (
                "waiting",
                None,
                None,
            )
            assert after["issued_at"] == row["issued_at"]

    @precondition(has_tickets)
    @rule(data=st.data(), service=services)
    def transfer(self, data, service):
        self.elapse(data)
        row = self.ticket(data, *OPEN)
        dentist = data.draw(st.one_of(st.none(), st.sampled_from(list(SERVES))))
        if dentist is not None and service not in SERVES[dentist]:
            expected = "dentist_lacks_service"
        elif row["state"] not in OPEN or row["day"] != self.today():
            expected = "cannot_transfer"
        else:
            expected = None

        done = self.attempt(
            expected,
            lambda: self.queue.transfer(
                row["id"], service, dentist_id=dentist, actor="staff:1"
            ),
            may_repeat=[row["id"]],  # a waiting ticket sent where it already was
        )

        if done is not None:
            after = self.rows()[row["id"]]
            assert (after["state"], after["service"], after["dentist"]) == (
                "waiting",
                service,
                dentist,
            )
            assert (after["room"], after["recalls"], after["called_at"]) == (
                None,
                0,
                None,
            )
            for kept in ("issued_at", "label", "series", "number", "day", "priority"):
                assert after[kept] == row[kept], kept

    @precondition(has_tickets)
    @rule(data=st.data(), priority=priorities)
    def set_priority(self, data, priority):
        self.elapse(data)
        row = self.ticket(data, "waiting")
        expected = None if row["state"] == "waiting" else "not_waiting"

        self.attempt(
            expected,
            lambda: self.queue.set_priority(row["id"], priority, actor="staff:1"),
            may_repeat=[row["id"]],
        )

    # -- rules: the dentist's tablet ------------------------------------------------

    def not_ready(self, dentist: str) -> str | None:
        """Predict why the dentist may not call anyone now, if they may not."""
        if self.paused[dentist]:
            return "paused"
        if self.current(dentist) is not None:
            return "finish_current_first"
        return None

    @rule(data=st.data())
    def call_next(self, data):
        self.elapse(data)
        self.call_next_for(self.dentist(data, busy=False))

    @rule(data=st.data())
    def a_visit(self, data):
        """Call next and finish at once: enough calls to meet the fairness guard."""
        self.elapse(data)
        dentist = self.dentist(data, busy=False)
        if self.call_next_for(dentist):
            self.attempt(None, lambda: self.queue.finish(dentist))

    def call_next_for(self, dentist: str) -> bool:
        """Press Call next for the dentist; tell whether someone was called."""
        candidates = self.candidates(dentist)
        expected = self.not_ready(dentist) or (None if candidates else "nobody_waiting")

        called = self.attempt(expected, lambda: self.queue.call_next(dentist))
        if called is None:
            return False

        ticket, _ = called
        chosen = {t["id"]: t for t in candidates}.get(ticket.id)
        assert chosen is not None, (
            "a ticket outside the dentist's services or reservations"
        )
        self.check_fair_choice(dentist, chosen, candidates)
        # Priority calls in a row that overtook a waiting walk-in.
        if chosen["priority"] == "normal":
            self.streak[dentist] = 0
        elif any(t["priority"] == "normal" for t in candidates):
            self.streak[dentist] += 1
        self.check_called(dentist, ticket.id)
        return True

    def check_fair_choice(self, dentist, chosen, candidates) -> None:
        """The pick is the rules' pick: class, issue time and the fairness guard."""
        expected = rules.pick(
            list(map(as_waiting, candidates)),
            self.now(),
            self.queue.fairness,
            self.streak[dentist],
        )
        assert chosen["id"] == expected.id

        emergencies = [t for t in candidates if t["priority"] == "emergency"]
        normals = [t for t in candidates if t["priority"] == "normal"]
        if emergencies:
            assert chosen is emergencies[0]
            event("call_next: an emergency first")
            return
        overdue = [t for t in normals if self.now() - t["issued_at"] >= MAX_WAIT]
        overtaken = self.streak[dentist] >= QUEUE["max_priority_streak"]
        if overdue or (normals and overtaken):
            assert chosen is normals[0], "a starving walk-in was passed over"
            if chosen is not candidates[0]:
                event("call_next: a starving walk-in first")
        elif chosen is not candidates[0]:
            raise AssertionError("the first in call order was passed over")

    def check_called(self, dentist, ticket_id) -> None:
        row = self.rows()[ticket_id]
        assert (row["state"], row["dentist"], row["room"]) == (
            "called",
            dentist,
            ROOMS[dentist],
        )
        assert (row["called_at"], row["recalls"]) == (self.now(), 0)

    @precondition(has_tickets)
    @rule(data=st.data())
    def call_ticket(self, data):
        self.elapse(data)
        dentist = self.dentist(data, busy=False)
        row = self.ticket(data, "waiting")
        expected = self.not_ready(dentist)
        if expected is None and (
            row["state"] != "waiting" or row["day"] != self.today()
        ):
            expected = "not_waiting"
        if expected is None and (
            row["service"] not in SERVES[dentist]
            or row["dentist"] not in (None, dentist)
        ):
            expected = "not_your_service"

        called = self.attempt(
            expected, lambda: self.queue.call_ticket(dentist, row["id"])
        )

        if called is not None:
            self.check_called(dentist, row["id"])

    def current_must_be(self, dentist, allowed, code) -> str | None:
        current = self.current(dentist)
        if current is None:
            return "no_current_ticket"
        return None if current["state"] in allowed else code

    @rule(data=st.data())
    def recall(self, data):
        self.elapse(data)
        dentist = self.dentist(data, busy=True)
        current = self.current(dentist)
        expected = self.current_must_be(dentist, ("called",), "cannot_recalled")
        if expected is None and current["recalls"] >= QUEUE["recall_limit"]:
            expected = "recall_limit"

        done = self.attempt(expected, lambda: self.queue.recall(dentist))

        if done is not None:
            assert self.rows()[current["id"]]["recalls"] == current["recalls"] + 1

    @rule(data=st.data())
    def start(self, data):
        self.elapse(data)
        dentist = self.dentist(data, busy=True)
        expected = self.current_must_be(dentist, ("called",), "cannot_started")

        self.attempt(expected, lambda: self.queue.start(dentist))

    @rule(data=st.data())
    def finish(self, data):
        self.elapse(data)
        dentist = self.dentist(data, busy=True)
        expected = self.current_must_be(dentist, CURRENT, "cannot_done")

        self.attempt(expected, lambda: self.queue.finish(dentist))

    @rule(data=st.data())
    def no_show(self, data):
        self.elapse(data)
        dentist = self.dentist(data, busy=True)
        expected = self.current_must_be(dentist, ("called",), "cannot_no_show")

        self.attempt(expected, lambda: self.queue.no_show(dentist))

    @rule(data=st.data())
    def pause(self, data):
        self.elapse(data)
        dentist = self.dentist(data, busy=False)
        expected = "finish_before_pause" if self.current(dentist) else None

        if self.attempt(expected, lambda: self.queue.pause(dentist)) is not None:
            self.paused[dentist] = True

    @rule(data=st.data())
    def resume(self, data):
        self.elapse(data)
        dentist = favouring(data, [d for d in SERVES if self.paused[d]], list(SERVES))

        self.attempt(None, lambda: self.queue.resume(dentist))

        self.paused[dentist] = False

    # -- rules: time -------------------------------------------------------------

    @rule(
        minutes=st.integers(min_value=1, max_value=90),
        midnight=st.sampled_from([False, False, False, True]),
        housekeeping=st.booleans(),
    )
    def advance(self, minutes, midnight, housekeeping):
        """Let some minutes pass, or jump to just after the clinic's midnight.

        The hub's housekeeping rolls the day over within seconds; sometimes it
        runs at once, sometimes the machine acts in between.
        """
        if not midnight:
            self.clock.tick(minutes * 60)
            return
        local = self.clock().astimezone(TASHKENT)
        next_day = datetime.combine(
            local.date() + timedelta(days=1), datetime.min.time(), TASHKENT
        )
        self.clock.at = (next_day + timedelta(minutes=minutes % 6)).astimezone(UTC)
        if housekeeping:
            self.roll_day()

    @rule()
    def roll_day(self):
        stale = {
            i
            for i, t in self.rows().items()
            if t["day"] < self.today() and t["state"] in OPEN
        }

        events = self.attempt(None, self.queue.roll_day)

        assert {e.ticket.id for e in events} == stale
        assert {(e.action, e.actor) for e in events} <= {("expired", "system")}
        assert all(self.rows()[i]["state"] == "expired" for i in stale)
        if stale:  # a new day starts everyone fresh
            event("roll_day: expired some")
            self.paused = dict.fromkeys(SERVES, False)
            self.streak = dict.fromkeys(SERVES, 0)

    # -- invariants -----------------------------------------------------------------

    @invariant()
    def one_patient_per_dentist(self):
        rows = self.rows().values()
        busy = Counter(t["dentist"] for t in rows if t["state"] in CURRENT)
        assert all(count == 1 for count in busy.values()), busy
        for ticket in rows:
            if ticket["state"] in CURRENT:
                assert ticket["dentist"] in SERVES, ticket
                assert ticket["room"] == ROOMS[ticket["dentist"]], ticket
                assert ticket["called_at"] is not None, ticket

    @invariant()
    def numbers_never_repeat(self):
        rows = list(self.rows().values())
        keys = Counter((t["day"], t["series"], t["number"]) for t in rows)
        assert all(count == 1 for count in keys.values()), keys
        for ticket in rows:
            prefix = self.config.service(ticket["series"]).prefix
            assert ticket["label"] == f"{prefix}-{ticket['number']:03d}"
            issued = ticket["issued_at"].replace(tzinfo=UTC).astimezone(TASHKENT)
            assert ticket["day"] == issued.date().isoformat()

    @invariant()
    def every_ticket_in_one_known_state(self):
        for ticket in self.rows().values():
            state = ticket["state"]
            assert state in STATES, ticket
            assert ticket["service"] in SERVICES, ticket
            assert ticket["priority"] in rules.PRIORITIES, ticket
            assert 0 <= ticket["recalls"] <= QUEUE["recall_limit"], ticket
            assert (ticket["finished_at"] is not None) == (state in CLOSED), ticket
            if state == "waiting":
                assert (ticket["room"], ticket["called_at"]) == (None, None), ticket
                reserved = ticket["dentist"]
                assert reserved is None or ticket["service"] in SERVES[reserved]
            if state == "serving":
                assert ticket["started_at"] is not None, ticket

    @invariant()
    def paused_dentists_have_nobody(self):
        stored = {d.id: (d.paused, d.priority_streak) for d in Dentist.select()}
        for dentist in SERVES:
            assert stored[dentist] == (self.paused[dentist], self.streak[dentist])
            if self.paused[dentist]:
                assert self.current(dentist) is None, dentist

    @invariant()
    def the_log_tells_each_tickets_story(self):
        events = list(TicketEvent.select().order_by(TicketEvent.id).dicts())
        stories: dict[int, list[dict]] = {}
        for row in events:
            stories.setdefault(row["ticket"], []).append(row)
        rows = self.rows()
        assert set(stories) == set(rows)
        for ticket_id, story in stories.items():
            assert (story[0]["action"], story[0]["from_state"]) == ("issued", None)
            for earlier, later in pairwise(story):
                assert later["from_state"] == earlier["to_state"], story
            assert story[-1]["to_state"] == rows[ticket_id]["state"]


QueueMachine.TestCase.settings = settings(
    max_examples=60, stateful_step_count=30, deadline=None
)
TestQueueMachine = QueueMachine.TestCase
