"""Who may do what: dentists' tablet PINs, staff passwords and roles, CSRF tokens.

Two kinds of sign-in share the session cookie. Staff (admin, receptionist,
dentist) sign in with a password through Flask-Login and act by their role; a
dentist's tablet signs in with a short PIN and may only do the tablet's work.
"""

from __future__ import annotations

import functools
import hmac
import logging
import secrets
import sys
import threading
import time
from datetime import timedelta

from flask import abort, g, redirect, request, session, url_for
from flask_login import LoginManager, current_user, login_user, logout_user
from werkzeug.security import check_password_hash, generate_password_hash

from server.config import Config
from server.db import Prepared, reading, writing
from server.errors import AuthError
from server.models import Dentist, StaffUser, utcnow

logger = logging.getLogger(__name__)

PIN_LENGTH = 6
PIN_ATTEMPTS = 5
PIN_LOCK = timedelta(minutes=5)
PASSWORD_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"

ADMIN = "admin"
RECEPTIONIST = "receptionist"
DENTIST = "dentist"
ROLES = (ADMIN, RECEPTIONIST, DENTIST)
# Who runs the front desk: the day's queue, printers, tickets.
DESK = (ADMIN, RECEPTIONIST)

login_manager = LoginManager()
login_manager.session_protection = "basic"


@login_manager.user_loader
def _load_user(user_id: str) -> StaffUser | None:
    """Find the signed-in staff user, unless their sign-in has been ended since."""
    key, _, epoch = user_id.partition(":")
    if not key.isdigit() or not epoch.isdigit():
        return None
    with reading():
        return StaffUser.get_or_none(
            (StaffUser.id == int(key))
            & (StaffUser.session_epoch == int(epoch))
            & StaffUser.active
        )


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
    """Give a dentist a new PIN, unlock it, and sign out their tablets."""
    with writing():
        Dentist.update(
            pin_hash=generate_password_hash(pin),
            failed_pins=0,
            locked_until=None,
            session_epoch=Dentist.session_epoch + 1,
        ).where(Dentist.id == dentist_id).execute()


def create_user(
    username: str,
    password: str,
    role: str,
    full_name: str = "",
    dentist: str | None = None,
) -> StaffUser:
    """Add a staff user who signs in with a password."""
    with writing():
        return StaffUser.create(
            username=username,
            password_hash=generate_password_hash(password),
            role=role,
            full_name=full_name,
            dentist=dentist,
        )


def reset_password(username: str, password: str) -> bool:
    """Give an existing staff user a new password and end their sessions."""
    with writing():
        changed = (
            StaffUser.update(
                password_hash=generate_password_hash(password),
                session_epoch=StaffUser.session_epoch + 1,
            )
            .where(StaffUser.username == username)
            .execute()
        )
    return changed == 1


def staff_usernames() -> list[str]:
    with reading():
        return [u.username for u in StaffUser.select().order_by(StaffUser.username)]


def check_pin(dentist_id: str, pin: str) -> int:
    """Accept a dentist's PIN and return its session epoch; lock after misses."""
    with reading():
        row = Dentist.get_or_none((Dentist.id == dentist_id) & Dentist.active)
    if row is None or not row.pin_hash:
        raise AuthError("unknown_dentist", 404, dentist=dentist_id)
    now = utcnow()
    if row.locked_until and row.locked_until > now:
        minutes = max(1, round((row.locked_until - now).total_seconds() / 60))
        raise AuthError("pin_locked", 429, minutes=minutes)

    # The slow hash check runs outside the write lock: tickets keep flowing.
    if _verify(row.pin_hash, pin):
        with writing():
            Dentist.update(failed_pins=0, locked_until=None).where(
                Dentist.id == dentist_id
            ).execute()
        return row.session_epoch

    with writing():
        Dentist.update(failed_pins=Dentist.failed_pins + 1).where(
            Dentist.id == dentist_id
        ).execute()
        if Dentist.get_by_id(dentist_id).failed_pins >= PIN_ATTEMPTS:
            Dentist.update(failed_pins=0, locked_until=now + PIN_LOCK).where(
                Dentist.id == dentist_id
            ).execute()
            logger.warning(
                "tablet sign-in of dentist %s locked: wrong PINs", dentist_id
            )
    raise AuthError("wrong_pin", 401)


def check_password(username: str, password: str) -> StaffUser:
    with reading():
        user = StaffUser.get_or_none(
            (StaffUser.username == username) & StaffUser.active
        )
    # Hash even for an unknown user so timing does not reveal who exists.
    stored = user.password_hash if user else _DUMMY_HASH
    if not _verify(stored, password) or user is None:
        raise AuthError("wrong_password", 401)
    return user


_DUMMY_HASH = generate_password_hash("not a password")
# A hash check takes ~0.1 s of CPU and 32 MB: two at a time at most.
_hashing = threading.BoundedSemaphore(2)


def _verify(stored: str, secret: str) -> bool:
    """Check a secret against its hash without stalling the whole hub.

    Under eventlet every greenlet waits while C code runs, so the check goes
    to eventlet's pool of real threads there.
    """
    with _hashing:
        if _eventlet_running():
            from eventlet import tpool

            return tpool.execute(check_password_hash, stored, secret)
        return check_password_hash(stored, secret)


def _eventlet_running() -> bool:
    patcher = sys.modules.get("eventlet.patcher")
    return bool(patcher and patcher.is_monkey_patched("thread"))


# -- sessions ----------------------------------------------------------------


def csrf_token() -> str:
    """Return this session's CSRF token, creating it on first use."""
    if "csrf" not in session:
        session["csrf"] = secrets.token_urlsafe(24)
    return session["csrf"]


def check_csrf() -> None:
    """Refuse a state change whose token does not match the session's."""
    sent = request.headers.get("X-CSRF-Token", "")
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


def end_dentist_sessions(dentist_id: str) -> None:
    """Sign the dentist out on every tablet (their old cookies stop working)."""
    with writing():
        Dentist.update(session_epoch=Dentist.session_epoch + 1).where(
            Dentist.id == dentist_id
        ).execute()


def end_staff_sessions(user_id: int) -> None:
    with writing():
        StaffUser.update(session_epoch=StaffUser.session_epoch + 1).where(
            StaffUser.id == user_id
        ).execute()


# Every tablet request checks its sign-in: compiled once (see db.Prepared).
_ACTIVE_DENTIST = Prepared(
    lambda id_: Dentist.select().where((Dentist.id == id_) & Dentist.active), 1
)


def signed_in_dentist() -> str | None:
    """Return the tablet's dentist while their sign-in is valid and not idle."""
    from server.hub import hub

    dentist_id = session.get("dentist")
    if not dentist_id:
        return None
    if "navbat_dentist" not in g:
        with reading():
            rows = _ACTIVE_DENTIST.rows(Dentist, dentist_id)
        row = rows[0] if rows else None
        valid = (
            row is not None
            and row.session_epoch == session.get("epoch")
            and hub().config.dentist(dentist_id) is not None
            and not _tablet_idle(hub().config.server.tablet_lock_minutes)
        )
        g.navbat_dentist = dentist_id if valid else None
    return g.navbat_dentist


def _tablet_idle(lock_minutes: int) -> bool:
    return (
        bool(lock_minutes) and time.time() - session.get("seen", 0) > lock_minutes * 60
    )


def tablet_touched() -> None:
    """Note that the dentist used the tablet, which keeps it unlocked."""
    session["seen"] = int(time.time())


def locked_tablet_dentist() -> str | None:
    """Return the dentist of a tablet that locked itself while idle, if any."""
    if signed_in_dentist():
        return None
    return session.get("dentist")


def current_staff() -> StaffUser | None:
    """Return the signed-in staff user, or None (tablets are not staff)."""
    user = current_user
    return user if user and user.is_authenticated else None


def signed_in_staff() -> int | None:
    """Return the staff user's id while their sign-in is still valid."""
    user = current_staff()
    return user.id if user else None


def staff_role() -> str | None:
    user = current_staff()
    return user.role if user else None


def sign_in_staff(user: StaffUser) -> None:
    """Start a staff session for a user whose password was just checked."""
    start_session()
    login_user(user)


def sign_out() -> None:
    """End this browser's session, staff or tablet, keeping its language."""
    logout_user()
    start_session()
    session.permanent = False


def signed_in() -> bool:
    """Tell whether a dentist's tablet or a staff member is signed in."""
    return bool(signed_in_staff() or signed_in_dentist())


def dentist_required(view):
    """Let only a signed-in dentist through, with a valid CSRF token."""

    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        if not signed_in_dentist():
            raise AuthError("sign_in_dentist", 401)
        if request.method != "GET":
            check_csrf()
            tablet_touched()
        return view(*args, **kwargs)

    wrapper.navbat_roles = ((), True)
    return wrapper


def roles_required(*roles: str, tablet: bool = False):
    """Let through only staff with one of roles (and, if tablet, a dentist's tablet).

    Nobody signed in gets 401, anybody else 403; a change also needs the
    session's CSRF token. Pages get the same refusals as the API, as pages.
    """
    unknown = set(roles) - set(ROLES)
    if unknown:
        raise ValueError(f"unknown roles {sorted(unknown)}")

    def decorate(view):
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            role = staff_role()
            allowed = role in roles or (tablet and role is None and signed_in_dentist())
            if not allowed:
                _refuse(401 if role is None and not signed_in_dentist() else 403)
            if request.method != "GET":
                check_csrf()
            return view(*args, **kwargs)

        wrapper.navbat_roles = (roles, tablet)
        return wrapper

    return decorate


def _refuse(status: int) -> None:
    if not request.path.startswith("/api/"):
        if status == 401:  # a page: sign in first, then come back here
            abort(redirect(url_for("reception.page", next=request.full_path)))
        abort(status)
    if status == 401:
        raise AuthError("sign_in_staff", 401)
    raise AuthError("forbidden_role", 403)


def public(view):
    """Mark a view anyone on the clinic's network may use (kiosk, TV, phone)."""
    view.navbat_public = True
    return view


# The front desk's queue actions (cancel, priority, transfer, today's list).
desk_required = roles_required(*DESK)
# What the desk does and a dentist's tablet needs too: reprint its patient's paper.
staff_required = roles_required(*DESK, tablet=True)
