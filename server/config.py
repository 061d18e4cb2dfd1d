"""Read and check config.toml into plain, frozen values.

This module imports nothing from Flask or eventlet: the entry point reads the
configuration first to learn which async mode to patch in.
"""

from __future__ import annotations

import ipaddress
import json
import math
import re
import tomllib
from dataclasses import dataclass, field
from importlib.resources import files
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_PATH = ROOT / "config.toml"
LANGUAGES = ("uz", "ru", "en")
ASYNC_MODES = ("eventlet", "threading")
PRINTER_TYPES = ("file", "network", "usb", "serial", "cups")


class ConfigError(Exception):
    """config.toml holds a key, type or reference the hub cannot use."""


WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True)
class Service:
    id: str
    prefix: str
    name: dict[str, str]
    minutes: int = 20  # a typical visit, until real durations are known
    opens: str = "08:00"
    closes: str = "18:00"
    days: tuple[str, ...] = WEEKDAYS[:6]


@dataclass(frozen=True)
class Room:
    id: str
    name: dict[str, str]


@dataclass(frozen=True)
class Dentist:
    id: str
    name: str
    room: str
    services: tuple[str, ...]


@dataclass(frozen=True)
class Kiosk:
    id: str
    name: str
    printer: str
    # Say on the start screen when the printer is down, instead of pretending.
    printer_notice: bool = True


@dataclass(frozen=True)
class Printer:
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


@dataclass(frozen=True)
class Clinic:
    name: str
    timezone: str
    languages: tuple[str, ...]
    default_language: str
    public_url: str = ""
    announcement: dict[str, str] = field(default_factory=dict)

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


@dataclass(frozen=True)
class ServerSettings:
    host: str = "0.0.0.0"
    port: int = 5000
    async_mode: str = "eventlet"
    database: str = "var/navbat.sqlite3"
    # A tablet untouched this long asks for its dentist's PIN again (0: never).
    tablet_lock_minutes: int = 10


@dataclass(frozen=True)
class PrintingSettings:
    retry_max_seconds: float = 60.0
    give_up_after_seconds: float = 900.0
    apostrophes: str = "ascii"  # or "image": Uzbek oʻ gʻ ʼ printed exactly


@dataclass(frozen=True)
class QueueSettings:
    recall_limit: int = 3
    no_show_grace_minutes: int = 30
    max_wait_minutes: int = 45
    max_priority_streak: int = 3
    stop_issuing_minutes_before_close: int = 15
    emergency_service: str = ""
    kiosk_priority: bool = True
    # Tickets one address may take in a minute without a staff sign-in (0: any).
    tickets_per_minute_per_address: int = 30


@dataclass(frozen=True)
class BookingSettings:
    public: bool = True  # the public booking page /book
    days_ahead: int = 30  # how far ahead patients may book themselves
    min_lead_minutes: int = 60  # patients book, move or cancel at least this early
    slot_step_minutes: int = 15
    checkin_early_minutes: int = 30
    checkin_late_minutes: int = 15
    # An emergency block opens to every patient this long before it starts.
    emergency_release_minutes: int = 120
    lookups_per_minute: int = 10  # booking-code and phone lookups per address
    bookings_per_hour: int = 5  # public bookings per address
    demo_schedule: bool = False  # seed working plans on first start (demo clinic)


@dataclass(frozen=True)
class Config:
    clinic: Clinic
    server: ServerSettings
    printing: PrintingSettings
    services: tuple[Service, ...]
    rooms: tuple[Room, ...]
    dentists: tuple[Dentist, ...]
    kiosks: tuple[Kiosk, ...]
    printers: tuple[Printer, ...]
    source: Path = DEFAULT_PATH
    queue: QueueSettings = field(default_factory=QueueSettings)
    booking: BookingSettings = field(default_factory=BookingSettings)

    def service(self, service_id: str) -> Service | None:
        return next((s for s in self.services if s.id == service_id), None)

    def room(self, room_id: str) -> Room | None:
        return next((r for r in self.rooms if r.id == room_id), None)

    def dentist(self, dentist_id: str) -> Dentist | None:
        return next((d for d in self.dentists if d.id == dentist_id), None)

    def kiosk(self, kiosk_id: str) -> Kiosk | None:
        return next((k for k in self.kiosks if k.id == kiosk_id), None)

    def printer(self, printer_id: str) -> Printer | None:
        return next((p for p in self.printers if p.id == printer_id), None)

    @property
    def database_path(self) -> Path:
        path = Path(self.server.database)
        return path if path.is_absolute() else self.source.parent / path


def load(path: Path | str | None = None, overrides: dict | None = None) -> Config:
    """Read config.toml, apply overrides (tests), and check every key."""
    path = Path(path) if path else DEFAULT_PATH
    try:
        # utf-8-sig: Windows editors often start the file with a byte-order mark.
        raw = tomllib.loads(path.read_text(encoding="utf-8-sig"))
    except FileNotFoundError:
        raise ConfigError(
            f"{path}: file not found; copy config.toml from the repo"
        ) from None
    except IsADirectoryError:
        raise ConfigError(
            f"{path}: is a folder; give the path of config.toml"
        ) from None
    except PermissionError:
        raise ConfigError(f"{path}: cannot be read (permission denied)") from None
    except UnicodeDecodeError:
        raise ConfigError(
            f"{path.name}: is not UTF-8 text; save it as UTF-8 in your editor"
        ) from None
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(f"{path.name}: not valid TOML: {err}") from None
    if overrides:
        raw = _merge(raw, overrides)
    return _Checker(path).config(raw)


def _merge(base: dict, extra: dict) -> dict:
    merged = dict(base)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,31}$")
_PREFIX = re.compile(r"^[A-Z]{1,3}$")
_CLOCK = re.compile(r"([01][0-9]|2[0-3]):[0-5][0-9]|24:00")
_TYPE_NAMES = {
    str: "text",
    int: "a whole number",
    float: "a number",
    bool: "true or false",
}


class _Checker:
    """Walk the raw TOML tables, naming the exact key in every complaint."""

    def __init__(self, path: Path):
        self.path = path

    def fail(self, key: str, problem: str) -> None:
        raise ConfigError(f"{self.path.name}: {key}: {problem}")

    def table(self, raw: Any, key: str, allowed: dict[str, Any]) -> dict[str, Any]:
        """Check one table's keys and types; return its values with defaults."""
        if not isinstance(raw, dict):
            self.fail(key, f"must be a table, got {raw!r}")
        for name in raw:
            if name not in allowed:
                known = ", ".join(sorted(allowed))
                self.fail(f"{key}.{name}", f"unknown key (known keys: {known})")
        values = {}
        for name, (kind, default) in allowed.items():
            value = raw.get(name, default)
            if value is _REQUIRED:
                self.fail(f"{key}.{name}", "is missing")
            values[name] = self.typed(value, kind, f"{key}.{name}")
        return values

    def typed(self, value: Any, kind: Any, key: str) -> Any:
        if kind == "names":
            return self.names(value, key)
        if kind == "optional_names":
            return self.names(value, key) if value != {} else {}
        if kind == "ids":
            if not isinstance(value, list) or not all(
                isinstance(v, str) for v in value
            ):
                self.fail(key, f"must be a list of ids, got {value!r}")
            return tuple(value)
        if kind is float and isinstance(value, int) and not isinstance(value, bool):
            return float(value)
        if kind is int and isinstance(value, bool):
            self.fail(key, f"must be {_TYPE_NAMES[int]}, got {value!r}")
        if not isinstance(value, kind):
            self.fail(key, f"must be {_TYPE_NAMES[kind]}, got {value!r}")
        if kind is float and not math.isfinite(value):
            self.fail(key, f"must be a finite number, got {value!r}")
        return value

    def names(self, value: Any, key: str) -> dict[str, str]:
        """Check a {uz, ru, en} table of translated names."""
        if not isinstance(value, dict):
            self.fail(
                key,
                f"must be a table {{ uz = ..., ru = ..., en = ... }}, got {value!r}",
            )
        for lang in value:
            if lang not in LANGUAGES:
                self.fail(
                    f"{key}.{lang}", f"unknown language (use {', '.join(LANGUAGES)})"
                )
        for lang in LANGUAGES:
            if not isinstance(value.get(lang), str) or not value[lang].strip():
                self.fail(f"{key}.{lang}", "is missing: every name needs uz, ru and en")
        return dict(value)

    def items(self, raw: dict, section: str, allowed: dict) -> list[dict]:
        """Check an array of tables whose entries have unique ids."""
        entries = raw.get(section, [])
        if not isinstance(entries, list) or not entries:
            self.fail(section, f"needs at least one [[{section}]] entry")
        seen = set()
        checked = []
        for index, entry in enumerate(entries):
            key = f"{section}[{index}]"
            values = self.table(entry, key, allowed)
            if not _ID.match(values["id"]):
                self.fail(
                    f"{key}.id",
                    f"{values['id']!r} is not a usable id (a-z, 0-9, - or _)",
                )
            if values["id"] in seen:
                self.fail(f"{key}.id", f"{values['id']!r} is used twice")
            seen.add(values["id"])
            checked.append(values)
        return checked

    def config(self, raw: dict) -> Config:
        top = {
            "clinic",
            "server",
            "printing",
            "queue",
            "booking",
            "services",
            "rooms",
            "dentists",
            "kiosks",
            "printers",
        }
        for name in raw:
            if name not in top:
                self.fail(name, f"unknown section (known: {', '.join(sorted(top))})")

        clinic = self.clinic(raw.get("clinic", {}))
        server = self.server(raw.get("server", {}))
        printing = PrintingSettings(
            **self.table(
                raw.get("printing", {}),
                "printing",
                {
                    "retry_max_seconds": (float, 60.0),
                    "give_up_after_seconds": (float, 900.0),
                    "apostrophes": (str, "ascii"),
                },
            )
        )
        for name in ("retry_max_seconds", "give_up_after_seconds"):
            if getattr(printing, name) <= 0:
                self.fail(f"printing.{name}", "must be more than 0 seconds")
        if printing.apostrophes not in ("ascii", "image"):
            self.fail(
                "printing.apostrophes",
                f"{printing.apostrophes!r} must be ascii (oʻ printed as o') or image",
            )
        services = [
            Service(**v)
            for v in self.items(
                raw,
                "services",
                {
                    "id": (str, _REQUIRED),
                    "prefix": (str, _REQUIRED),
                    "name": ("names", _REQUIRED),
                    "minutes": (int, 20),
                    "opens": (str, "08:00"),
                    "closes": (str, "18:00"),
                    "days": ("ids", list(WEEKDAYS[:6])),
                },
            )
        ]
        rooms = [
            Room(**v)
            for v in self.items(
                raw,
                "rooms",
                {
                    "id": (str, _REQUIRED),
                    "name": ("names", _REQUIRED),
                },
            )
        ]
        printers = [
            Printer(**v)
            for v in self.items(
                raw,
                "printers",
                {
                    "id": (str, _REQUIRED),
                    "type": (str, _REQUIRED),
                    "width_mm": (int, 80),
                    "profile": (str, "default"),
                    "path": (str, ""),
                    "host": (str, ""),
                    "port": (int, 9100),
                    "timeout": (float, 3.0),
                    "vendor_id": (int, 0),
                    "product_id": (int, 0),
                    "device": (str, ""),
                    "baudrate": (int, 9600),
                },
            )
        ]
        kiosks = [
            Kiosk(**v)
            for v in self.items(
                raw,
                "kiosks",
                {
                    "id": (str, _REQUIRED),
                    "name": (str, ""),
                    "printer": (str, ""),
                    "printer_notice": (bool, True),
                },
            )
        ]
        dentists = [
            Dentist(**v)
            for v in self.items(
                raw,
                "dentists",
                {
                    "id": (str, _REQUIRED),
                    "name": (str, _REQUIRED),
                    "room": (str, _REQUIRED),
                    "services": ("ids", _REQUIRED),
                },
            )
        ]

        queue = self.queue(raw.get("queue", {}), {s.id for s in services})
        booking = self.booking(raw.get("booking", {}))
        self.check_services(services)
        self.check_printers(printers)
        self.check_references(services, rooms, dentists, kiosks, printers)
        return Config(
            clinic,
            server,
            printing,
            tuple(services),
            tuple(rooms),
            tuple(dentists),
            tuple(kiosks),
            tuple(printers),
            self.path,
            queue,
            booking,
        )

    def queue(self, raw: Any, service_ids: set[str]) -> QueueSettings:
        values = self.table(
            raw,
            "queue",
            {
                "recall_limit": (int, 3),
                "no_show_grace_minutes": (int, 30),
                "max_wait_minutes": (int, 45),
                "max_priority_streak": (int, 3),
                "stop_issuing_minutes_before_close": (int, 15),
                "emergency_service": (str, ""),
                "kiosk_priority": (bool, True),
                "tickets_per_minute_per_address": (int, 30),
            },
        )
        for name in ("recall_limit", "max_wait_minutes", "max_priority_streak"):
            if values[name] < 1:
                self.fail(f"queue.{name}", f"{values[name]} must be 1 or more")
        for name in (
            "no_show_grace_minutes",
            "stop_issuing_minutes_before_close",
            "tickets_per_minute_per_address",
        ):
            if values[name] < 0:
                self.fail(f"queue.{name}", f"{values[name]} must be 0 or more")
        emergency = values["emergency_service"]
        if emergency and emergency not in service_ids:
            self.fail(
                "queue.emergency_service",
                f"service {emergency!r} is not in [[services]]",
            )
        return QueueSettings(**values)

    def booking(self, raw: Any) -> BookingSettings:
        defaults = BookingSettings()
        values = self.table(
            raw,
            "booking",
            {
                name: (type(getattr(defaults, name)), getattr(defaults, name))
                for name in BookingSettings.__dataclass_fields__
            },
        )
        limits = {
            "days_ahead": (1, 366),
            "min_lead_minutes": (0, 7 * 24 * 60),
            "checkin_early_minutes": (0, 240),
            "checkin_late_minutes": (0, 240),
            "emergency_release_minutes": (0, 7 * 24 * 60),
            "lookups_per_minute": (1, 1000),
            "bookings_per_hour": (1, 1000),
        }
        for name, (low, high) in limits.items():
            if not low <= values[name] <= high:
                self.fail(f"booking.{name}", f"{values[name]} must be {low} to {high}")
        step = values["slot_step_minutes"]
        if step not in (5, 10, 15, 20, 30, 60):
            self.fail(
                "booking.slot_step_minutes",
                f"{step} must be one of 5, 10, 15, 20, 30 or 60 minutes",
            )
        return BookingSettings(**values)

    def clinic(self, raw: Any) -> Clinic:
        values = self.table(
            raw,
            "clinic",
            {
                "name": (str, _REQUIRED),
                "timezone": (str, "Asia/Tashkent"),
                "languages": ("ids", list(LANGUAGES)),
                "default_language": (str, "uz"),
                "public_url": (str, ""),
                "announcement": ("optional_names", {}),
            },
        )
        try:
            ZoneInfo(values["timezone"])
        except (ZoneInfoNotFoundError, ValueError):
            self.fail(
                "clinic.timezone",
                f"{values['timezone']!r} is not a known time zone "
                "(for example Asia/Tashkent)",
            )
        for lang in values["languages"]:
            if lang not in LANGUAGES:
                self.fail(
                    "clinic.languages",
                    f"{lang!r} is not supported (use {', '.join(LANGUAGES)})",
                )
        if values["default_language"] not in values["languages"]:
            self.fail(
                "clinic.default_language",
                f"{values['default_language']!r} is not in clinic.languages",
            )
        url = values["public_url"]
        if url and not re.match(r"^https?://[^/\s]+", url):
            self.fail(
                "clinic.public_url", f"{url!r} must start with http:// or https://"
            )
        values["public_url"] = url.rstrip("/")
        values["languages"] = tuple(values["languages"])
        return Clinic(**values)

    def server(self, raw: Any) -> ServerSettings:
        values = self.table(
            raw,
            "server",
            {
                "host": (str, "0.0.0.0"),
                "port": (int, 5000),
                "async_mode": (str, "eventlet"),
                "database": (str, "var/navbat.sqlite3"),
                "tablet_lock_minutes": (int, 10),
            },
        )
        if not 0 <= values["tablet_lock_minutes"] <= 720:
            self.fail(
                "server.tablet_lock_minutes",
                f"{values['tablet_lock_minutes']} must be 0 (never) to 720 minutes",
            )
        if values["async_mode"] not in ASYNC_MODES:
            self.fail(
                "server.async_mode",
                f"{values['async_mode']!r} is not one of {', '.join(ASYNC_MODES)}",
            )
        if not 0 < values["port"] < 65536:
            self.fail("server.port", f"{values['port']} is not a TCP port (1-65535)")
        if not _is_address(values["host"]):
            self.fail(
                "server.host",
                f"{values['host']!r} is not an IP address to listen on "
                "(0.0.0.0 for every network, 127.0.0.1 for this machine only)",
            )
        return ServerSettings(**values)

    def check_services(self, services: list[Service]) -> None:
        prefixes = set()
        for index, service in enumerate(services):
            key = f"services[{index}].prefix"
            if not _PREFIX.match(service.prefix):
                self.fail(
                    key, f"{service.prefix!r} must be 1 to 3 capital Latin letters"
                )
            if service.prefix in prefixes:
                self.fail(key, f"{service.prefix!r} is used by two services")
            prefixes.add(service.prefix)
            self.check_hours(service, f"services[{index}]")

    def check_hours(self, service: Service, key: str) -> None:
        for name in ("opens", "closes"):
            if not _CLOCK.fullmatch(getattr(service, name)):
                self.fail(
                    f"{key}.{name}",
                    f"{getattr(service, name)!r} must be a time like 08:00 (24 h)",
                )
        if service.opens >= service.closes:
            self.fail(
                f"{key}.closes", f"{service.closes} must be after {service.opens}"
            )
        for day in service.days:
            if day not in WEEKDAYS:
                self.fail(f"{key}.days", f"{day!r} is not one of {', '.join(WEEKDAYS)}")
        if not 5 <= service.minutes <= 480:
            self.fail(f"{key}.minutes", f"{service.minutes} must be 5 to 480 minutes")

    def check_printers(self, printers: list[Printer]) -> None:
        profiles = escpos_profiles()
        for index, printer in enumerate(printers):
            key = f"printers[{index}]"
            if printer.profile not in profiles:
                self.fail(
                    f"{key}.profile",
                    f"{printer.profile!r} is not a python-escpos printer profile "
                    "(for example default, TM-T88V, TM-T20II, POS-5890)",
                )
            if printer.type not in PRINTER_TYPES:
                self.fail(
                    f"{key}.type",
                    f"{printer.type!r} is not one of {', '.join(PRINTER_TYPES)}",
                )
            if printer.width_mm not in (58, 80):
                self.fail(f"{key}.width_mm", f"{printer.width_mm} must be 58 or 80")
            needs = {"file": "path", "network": "host", "serial": "device"}
            needs = (needs | {"cups": "device"}).get(printer.type)
            if needs and not getattr(printer, needs):
                self.fail(f"{key}.{needs}", f"is needed for a {printer.type} printer")
            if printer.type == "usb" and not (printer.vendor_id and printer.product_id):
                self.fail(
                    f"{key}.vendor_id",
                    "vendor_id and product_id are needed for a usb printer",
                )
            if printer.timeout <= 0:
                self.fail(
                    f"{key}.timeout", f"{printer.timeout} must be more than 0 seconds"
                )

    def check_references(self, services, rooms, dentists, kiosks, printers) -> None:
        service_ids = {s.id for s in services}
        room_ids = {r.id for r in rooms}
        printer_ids = {p.id for p in printers}
        for index, dentist in enumerate(dentists):
            key = f"dentists[{index}]"
            if dentist.room not in room_ids:
                self.fail(f"{key}.room", f"room {dentist.room!r} is not in [[rooms]]")
            if not dentist.services:
                self.fail(f"{key}.services", "needs at least one service")
            for service_id in dentist.services:
                if service_id not in service_ids:
                    self.fail(
                        f"{key}.services",
                        f"service {service_id!r} is not in [[services]]",
                    )
        for index, kiosk in enumerate(kiosks):
            if kiosk.printer and kiosk.printer not in printer_ids:
                self.fail(
                    f"kiosks[{index}].printer",
                    f"printer {kiosk.printer!r} is not in [[printers]]",
                )


_REQUIRED = object()


def _is_address(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return host == "localhost"
    return True


def escpos_profiles() -> set[str]:
    """Read python-escpos's printer profile names without importing the library.

    Importing escpos configures logging and touches temp folders; this module
    runs before eventlet is patched in, so it only reads the data file.
    """
    data = files("escpos").joinpath("capabilities.json").read_text(encoding="utf-8")
    return set(json.loads(data)["profiles"])
