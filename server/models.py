"""Tables: credentials, staff, tickets and their log, print jobs, patients, schedule."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from peewee import (
    BooleanField,
    CharField,
    DateField,
    DateTimeField,
    FloatField,
    ForeignKeyField,
    IntegerField,
    Model,
    TextField,
)
from playhouse.migrate import SchemaMigrator, migrate

from server.db import database

logger = logging.getLogger(__name__)


def utcnow() -> datetime:
    """Return the current time in UTC, as stored in the database (naive)."""
    return datetime.now(UTC).replace(tzinfo=None)


class BaseModel(Model):
    class Meta:
        database = database


class Dentist(BaseModel):
    """A dentist known to the hub; who they are comes from config.toml."""

    id = CharField(primary_key=True, max_length=32)
    active = BooleanField(default=True)
    pin_hash = CharField(default="")
    failed_pins = IntegerField(default=0)
    locked_until = DateTimeField(null=True)
    # Bumped on sign-out and PIN reset: older session cookies stop working.
    session_epoch = IntegerField(default=0)
    paused = BooleanField(default=False)
    # Priority calls made in a row while a normal walk-in waited (fairness).
    priority_streak = IntegerField(default=0)


class StaffUser(BaseModel):
    """A person who signs in to the staff pages with a password."""

    username = CharField(unique=True, max_length=64)
    password_hash = CharField()
    role = CharField(max_length=16)  # admin, receptionist, dentist
    full_name = CharField(max_length=64, default="")
    # For the dentist role: which config.toml dentist this person is.
    dentist = CharField(max_length=32, null=True)
    # Deactivated accounts stay, so the history still names who did what.
    active = BooleanField(default=True)
    session_epoch = IntegerField(default=0)
    created_at = DateTimeField(default=utcnow)

    # Flask-Login reads these four.
    is_authenticated = True
    is_anonymous = False

    @property
    def is_active(self) -> bool:
        return self.active

    def get_id(self) -> str:
        # The epoch in the id makes a sign-out or reset end every old cookie.
        return f"{self.id}:{self.session_epoch}"


class Ticket(BaseModel):
    """A numbered place in one service's queue for one clinic day."""

    day = CharField(max_length=10)  # clinic day, YYYY-MM-DD in the clinic's zone
    service = CharField(max_length=32)  # where it waits now (transfers change it)
    series = CharField(max_length=32, default="")  # the service that numbered it
    number = IntegerField()
    priority = CharField(max_length=16, default="normal")
    label = CharField(max_length=16)  # "A-001"
    state = CharField(max_length=16, default="waiting", index=True)
    lang = CharField(max_length=2)
    kiosk = CharField(max_length=32, null=True)
    token = CharField(unique=True, max_length=32)
    request_key = CharField(unique=True, null=True, max_length=64)
    # Who called it; while waiting, the dentist it was transferred to, if any.
    dentist = ForeignKeyField(Dentist, null=True, backref="tickets")
    room = CharField(max_length=32, null=True)
    recalls = IntegerField(default=0)
    issued_at = DateTimeField()
    called_at = DateTimeField(null=True)
    started_at = DateTimeField(null=True)
    finished_at = DateTimeField(null=True)

    class Meta:
        indexes = (
            (("day", "series", "number"), True),
            (("state", "service", "issued_at"), False),
            (("service", "state", "finished_at"), False),
            # A dentist's current ticket, without reading all their history.
            (("dentist", "state"), False),
            # Waiting counts per service, read from the index alone.
            (("state", "day", "service"), False),
        )


class TicketEvent(BaseModel):
    """One line of the audit log: a ticket moved, who moved it, when."""

    ticket = ForeignKeyField(Ticket, backref="events", on_delete="CASCADE")
    action = CharField(max_length=16)
    from_state = CharField(max_length=16, null=True)
    to_state = CharField(max_length=16)
    actor = CharField(max_length=64)  # "kiosk:lobby", "dentist:karimova", "system"
    at = DateTimeField(default=utcnow)


class PrintJob(BaseModel):
    """Paper for one ticket, kept until it is printed or given up on."""

    ticket = ForeignKeyField(Ticket, backref="print_jobs", on_delete="CASCADE")
    printer = CharField(max_length=32)
    state = CharField(max_length=16, default="queued", index=True)
    attempts = IntegerField(default=0)
    next_attempt_at = DateTimeField(default=utcnow)
    last_error = TextField(default="")
    created_at = DateTimeField(default=utcnow)
    printed_at = DateTimeField(null=True)
    # Seconds since the epoch of the first failure, to know when to give up.
    failing_since = FloatField(null=True)


class Patient(BaseModel):
    """A patient's card; its number is P- and the id, padded (P-000123)."""

    first_name = CharField(max_length=64)  # as typed, apostrophe forms included
    last_name = CharField(max_length=64)
    birth_date = DateField(null=True)
    phone = CharField(max_length=20, null=True, index=True)  # E.164
    email = CharField(max_length=254, default="")
    lang = CharField(max_length=2, default="uz")
    condition = TextField(default="")  # the dental condition, in staff's words
    notes = TextField(default="")
    category = CharField(max_length=16, default="new")  # new, returning
    flags = TextField(default="")  # risk flag codes, comma-separated
    sms_consent = BooleanField(default=False)
    email_consent = BooleanField(default=False)
    # Script-neutral keys ("karimov ali", "ali karimov") for search and duplicates.
    name_key = CharField(max_length=140, default="", index=True)
    name_key_reversed = CharField(max_length=140, default="", index=True)
    created_at = DateTimeField(default=utcnow)
    updated_at = DateTimeField(default=utcnow)
    # Deleted on request: identity wiped, anonymous history kept.
    deleted_at = DateTimeField(null=True)
    # Merged into another card: this row only redirects there.
    merged_into = ForeignKeyField(
        "self", null=True, backref="merged_cards", index=False
    )


class RiskFlag(BaseModel):
    """A risk flag the clinic added to the built-in ones, named in each language."""

    code = CharField(primary_key=True, max_length=32)
    name_uz = CharField(max_length=64)
    name_ru = CharField(max_length=64)
    name_en = CharField(max_length=64)
    created_at = DateTimeField(default=utcnow)


class Visit(BaseModel):
    """A ticket linked to a patient's card: the service given, the dentist's note."""

    patient = ForeignKeyField(Patient, backref="visits")
    ticket = ForeignKeyField(Ticket, unique=True, backref="visit")
    source = CharField(max_length=16)  # "staff" or "kiosk" (the patient's phone)
    note = TextField(default="")
    actor = CharField(max_length=64)
    at = DateTimeField(default=utcnow)


class Payment(BaseModel):
    """Money a patient paid: whole so'm, by cash, card or transfer."""

    patient = ForeignKeyField(Patient, backref="payments")
    amount = IntegerField()
    method = CharField(max_length=16)
    day = CharField(max_length=10, index=True)  # clinic day, for the takings
    note = CharField(max_length=200, default="")
    actor = CharField(max_length=64)
    at = DateTimeField(default=utcnow)


class Complaint(BaseModel):
    """A complaint the patient made, written down by reception or the dentist."""

    patient = ForeignKeyField(Patient, backref="complaints")
    text = TextField()
    actor = CharField(max_length=64)
    at = DateTimeField(default=utcnow)


class PatientAudit(BaseModel):
    """One line of a card's audit log: who viewed or changed it, when, what."""

    patient = ForeignKeyField(Patient, backref="audit")
    action = CharField(max_length=24)
    detail = CharField(max_length=200, default="")  # field names, never values
    actor = CharField(max_length=64)
    at = DateTimeField(default=utcnow)


class WorkPlan(BaseModel):
    """A dentist's working hours on one weekday, in one room, with breaks."""

    dentist = CharField(max_length=32)
    weekday = IntegerField()  # 0 = Monday, as datetime.weekday()
    starts = CharField(max_length=5)  # "09:00", clinic time
    ends = CharField(max_length=5)
    room = CharField(max_length=32)
    breaks = CharField(default="")  # "13:00-14:00,16:00-16:15"

    class Meta:
        indexes = ((("dentist", "weekday"), True),)


class PlanException(BaseModel):
    """A day off, a vacation, or changed hours for a dentist on some dates."""

    dentist = CharField(max_length=32)
    first_day = CharField(max_length=10)  # YYYY-MM-DD, clinic days
    last_day = CharField(max_length=10)
    kind = CharField(max_length=8)  # "off" or "hours"
    starts = CharField(max_length=5, default="")  # for "hours"
    ends = CharField(max_length=5, default="")
    room = CharField(max_length=32, default="")  # "" keeps the weekly plan's room
    note = CharField(max_length=120, default="")


class Holiday(BaseModel):
    """A clinic day when nobody works and nobody can book."""

    day = CharField(max_length=10, unique=True)
    name = CharField(max_length=120, default="")


class EmergencyBlock(BaseModel):
    """Time kept free for urgent cases: on a weekday, or on one date."""

    dentist = CharField(max_length=32)
    weekday = IntegerField(null=True)
    day = CharField(max_length=10, null=True)
    starts = CharField(max_length=5)
    ends = CharField(max_length=5)


class Appointment(BaseModel):
    """A booked visit: a dentist, a room and a time for one service."""

    code = CharField(max_length=16, unique=True)
    dentist = CharField(max_length=32)
    room = CharField(max_length=32)
    service = CharField(max_length=32)
    day = CharField(max_length=10)  # clinic day of starts_at
    starts_at = DateTimeField()  # naive UTC, as every stored time
    ends_at = DateTimeField()
    patient_name = CharField(max_length=120)
    phone = CharField(max_length=20, index=True)  # E.164
    lang = CharField(max_length=2)
    urgent = BooleanField(default=False)
    # booked -> checked_in, or cancelled / missed
    state = CharField(max_length=16, default="booked")
    ticket = ForeignKeyField(Ticket, null=True, backref="appointments")
    booked_by = CharField(max_length=64)  # "staff:3", "patient"
    created_at = DateTimeField(default=utcnow)
    changed_at = DateTimeField(default=utcnow)

    class Meta:
        indexes = (
            (("day", "dentist", "state"), False),
            (("day", "room", "state"), False),
            (("state", "starts_at"), False),
        )


TABLES = (
    Dentist,
    StaffUser,
    Ticket,
    TicketEvent,
    PrintJob,
    Patient,
    RiskFlag,
    Visit,
    Payment,
    Complaint,
    PatientAudit,
    WorkPlan,
    PlanException,
    Holiday,
    EmergencyBlock,
    Appointment,
)


def create_tables() -> None:
    """Create missing tables, indexes and columns (safe at every start)."""
    with database.connection_context():
        _add_missing_columns()
        database.create_tables(TABLES, safe=True)


def _add_missing_columns() -> None:
    """Bring a database made by older code up to the current tables."""
    migrator = SchemaMigrator.from_database(database)
    for model in TABLES:
        table = model._meta.table_name
        if not database.table_exists(table):
            continue
        present = {column.name for column in database.get_columns(table)}
        missing = [
            field
            for field in model._meta.sorted_fields
            if field.column_name not in present
        ]
        if missing:
            # Adding a NOT NULL column rebuilds an SQLite table; rows that other
            # tables point at must not trip the foreign keys meanwhile.
            database.pragma("foreign_keys", 0)
            try:
                migrate(
                    *(migrator.add_column(table, f.column_name, f) for f in missing)
                )
            finally:
                database.pragma("foreign_keys", 1)
            logger.info("database: added %s to %s", [f.name for f in missing], table)
        if model is Ticket and "series" not in present:
            # Numbers used to be unique per current service; transfers need
            # them unique per numbering series instead.
            Ticket.update(series=Ticket.service).execute()
            database.execute_sql('DROP INDEX IF EXISTS "ticket_day_service_number"')
