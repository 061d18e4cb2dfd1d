"""Who may do what: dentists' tablet PINs, staff passwords, CSRF tokens."""

from __future__ import annotations

import functools
import hmac
import logging
import secrets
from datetime import timedelta

from flask import abort, request, session
from werkzeug.security import check_password_hash, generate_password_hash

from server.config import Config
from server.db import reading, writing
from server.errors import AuthError
from server.models import Dentist, StaffUser, utcnow

logger = logging.getLogger(__name__)

PIN_LENGTH = 6
PIN_ATTEMPTS = 5
PIN_LOCK = timedelta(minutes=5)
PASSWORD_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"


def new_pin() -> str:
    return "".join(secrets.choice("0123456789") for _ in range(PIN_LENGTH))


def new_password() -> str:
    groups = (
        "".join(secrets.choice(PASSWORD_ALPHABET) for _ in range(4)) for _ in range(3)
    )
    return "-".join(groups)


def bootstrap_credentials(config: Config) -> list[tuple[str, str, str]]:
    """Create missing first credentials; return (who, login, secret) to show once."""
    created = []
    with writing():
        if not StaffUser.select().where(StaffUser.role == "admin").exists():
            password = new_password()
            StaffUser.create(
                username="admin",
                password_hash=generate_password_hash(password),
                role="admin",
            )
            created.append(("staff", "admin", password))
        for dentist in config.dentists:
            row = Dentist.get_or_none(Dentist.id == dentist.id)
            if row is not None and not row.pin_hash:
                pin = new_pin()
                row.pin_hash = generate_password_hash(pin)
                row.save()
                created.append(("dentist", dentist.id, pin))
    return created


def set_pin(dentist_id: str, pin: str) -> None:
    with writing():
        Dentist.update(
            pin_hash=generate_password_hash(pin), failed_pins=0, locked_until=None
        ).where(Dentist.id == dentist_id).execute()


def set_password(username: str, password: str, role: str = "admin") -> None:
    with writing():
        StaffUser.insert(
            username=username, password_hash=generate_password_hash(password), role=role
        ).on_conflict(
            conflict_target=[StaffUser.username],
            update={StaffUser.password_hash: generate_password_hash(password)},
        ).execute()


def check_pin(dentist_id: str, pin: str) -> None:
    """Accept a dentist's PIN or raise; lock the tablet login after misses."""
    with writing():
        row = Dentist.get_or_none((Dentist.id == dentist_id) & (Dentist.active == True))  # noqa: E712
        if row is None or not row.pin_hash:
            raise AuthError("unknown_dentist", 404, dentist=dentist_id)
        now = utcnow()
        if row.locked_until and row.locked_until > now:
            minutes = max(1, round((row.locked_until - now).total_seconds() / 60))
            raise AuthError("pin_locked", 429, minutes=minutes)
        if check_password_hash(row.pin_hash, pin):
            row.failed_pins, row.locked_until = 0, None
            row.save()
            return
        row.failed_pins += 1
        if row.failed_pins >= PIN_ATTEMPTS:
            row.failed_pins, row.locked_until = 0, now + PIN_LOCK
            logger.warning(
                "tablet login for dentist %s locked after wrong PINs", dentist_id
            )
        row.save()
    raise AuthError("wrong_pin", 401)


def check_password(username: str, password: str) -> StaffUser:
    with reading():
        user = StaffUser.get_or_none(
            (StaffUser.username == username) & (StaffUser.active == True)  # noqa: E712
        )
    # Hash even for an unknown user so timing does not reveal who exists.
    stored = user.password_hash if user else generate_password_hash("-")
    if not check_password_hash(stored, password) or user is None:
        raise AuthError("wrong_password", 401)
    return user


# -- sessions ----------------------------------------------------------------


def csrf_token() -> str:
    """Return this session's CSRF token, creating it on first use."""
    if "csrf" not in session:
        session["csrf"] = secrets.token_urlsafe(24)
    return session["csrf"]


def check_csrf() -> None:
    """Refuse a state change whose token does not match the session's."""
    sent = request.headers.get("X-CSRF-Token") or request.form.get("csrf_token", "")
    if not sent or not hmac.compare_digest(sent, session.get("csrf", "")):
        raise AuthError("csrf", 403)


def start_session(**values: object) -> None:
    """Replace the session on sign-in (no fixation), keeping the language."""
    lang = session.get("lang")
    session.clear()
    session.permanent = True
    session.update(values)
    if lang:
        session["lang"] = lang


def signed_in_dentist() -> str | None:
    """Return the tablet's dentist, if still one of the clinic's dentists."""
    from server.hub import hub

    dentist_id = session.get("dentist")
    if dentist_id and hub().config.dentist(dentist_id) is None:
        session.pop("dentist", None)
        return None
    return dentist_id


def signed_in_staff() -> int | None:
    return session.get("user_id")


def dentist_required(view):
    """Let only a signed-in dentist through, with a valid CSRF token."""

    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        if not signed_in_dentist():
            raise AuthError("sign_in_dentist", 401)
        if request.method != "GET":
            check_csrf()
        return view(*args, **kwargs)

    return wrapper


def staff_required(view):
    """Let only a signed-in staff member (or a dentist) through."""

    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        if not (signed_in_staff() or signed_in_dentist()):
            if request.path.startswith("/api/"):
                raise AuthError("sign_in_staff", 401)
            abort(401)
        if request.method != "GET":
            check_csrf()
        return view(*args, **kwargs)

    return wrapper
