"""Staff accounts for the admin: users and roles, passwords, dentists' PINs."""

from __future__ import annotations

import logging
import re

from flask import Blueprint, jsonify

from server import auth
from server.api import body, text_field
from server.db import reading, writing
from server.errors import AuthError, InputError
from server.hub import hub
from server.models import Dentist, StaffUser, utcnow

logger = logging.getLogger(__name__)

bp = Blueprint("api_staff", __name__, url_prefix="/api/v1/staff")

USERNAME = re.compile(r"[a-z0-9][a-z0-9._-]{2,31}")


def user_view(user: StaffUser) -> dict:
    return {
        "id": user.id,
        "username": user.username,
        "full_name": user.full_name,
        "role": user.role,
        "dentist": user.dentist,
        "active": user.active,
        "created_at": user.created_at.isoformat() + "Z",
    }


@bp.get("/me")
@auth.roles_required(*auth.ROLES)
def me():
    """Tell a staff page who is signed in, to show the right menu."""
    return jsonify(user=user_view(auth.current_staff()))


@bp.get("/users")
@auth.roles_required(auth.ADMIN)
def users():
    with reading():
        rows = list(StaffUser.select().order_by(StaffUser.active.desc(), StaffUser.id))
    return jsonify(users=[user_view(u) for u in rows], roles=list(auth.ROLES))


@bp.post("/users")
@auth.roles_required(auth.ADMIN)
def create_user():
    """Add a staff user; their first password is shown once, to the admin."""
    data = body()
    username = _username(data)
    role, dentist = _role_and_dentist(data)
    full_name = _full_name(data)
    password = auth.new_password()

    with writing():
        if StaffUser.select().where(StaffUser.username == username).exists():
            raise InputError("username_taken", "username", username=username)
        _check_dentist_free(dentist)
        user = auth.create_user(username, password, role, full_name, dentist)
    logger.info("admin %s added staff user %s (%s)", _admin(), username, role)
    return jsonify(user=user_view(user), password=password), 201


@bp.post("/users/<int:user_id>")
@auth.roles_required(auth.ADMIN)
def update_user(user_id: int):
    """Change a user's name, role or dentist; a new role ends their sessions."""
    data = body()
    role, dentist = _role_and_dentist(data)
    full_name = _full_name(data)

    with writing():
        user = _user(user_id)
        if user.role == auth.ADMIN and role != auth.ADMIN:
            _keep_an_admin(user)
        _check_dentist_free(dentist, besides=user.id)
        changed_role = (user.role, user.dentist) != (role, dentist)
        user.full_name, user.role, user.dentist = full_name, role, dentist
        if changed_role:
            user.session_epoch += 1
        user.save()
    logger.info("admin %s changed staff user %s", _admin(), user.username)
    return jsonify(user=user_view(user))


@bp.post("/users/<int:user_id>/password")
@auth.roles_required(auth.ADMIN)
def reset_password(user_id: int):
    """Give a user a new password (shown once) and end their sessions."""
    password = auth.new_password()
    with reading():
        user = _user(user_id)
    auth.reset_password(user.username, password)
    logger.info("admin %s reset the password of %s", _admin(), user.username)
    return jsonify(password=password)


@bp.post("/users/<int:user_id>/<any(activate, deactivate):action>")
@auth.roles_required(auth.ADMIN)
def set_active(user_id: int, action: str):
    """Stop or restore an account; its history keeps naming it."""
    active = action == "activate"
    with writing():
        user = _user(user_id)
        if not active:
            if user.id == auth.signed_in_staff():
                raise AuthError("cannot_deactivate_self", 409)
            if user.role == auth.ADMIN:
                _keep_an_admin(user)
        elif user.dentist:
            _check_dentist_free(user.dentist, besides=user.id)
        user.active = active
        user.session_epoch += 1
        user.save()
    logger.info("admin %s: %s %s", _admin(), action, user.username)
    return jsonify(user=user_view(user))


@bp.get("/dentists")
@auth.roles_required(auth.ADMIN)
def dentists():
    """List the dentists' tablet sign-ins: who is locked out, who has a PIN."""
    config = hub().config
    now = utcnow()
    with reading():
        rows = {row.id: row for row in Dentist.select()}
    return jsonify(
        dentists=[
            {
                "id": d.id,
                "name": d.name,
                "has_pin": bool(rows[d.id].pin_hash) if d.id in rows else False,
                "locked": bool(
                    d.id in rows
                    and rows[d.id].locked_until
                    and rows[d.id].locked_until > now
                ),
            }
            for d in config.dentists
        ]
    )


@bp.post("/dentists/<dentist_id>/pin")
@auth.roles_required(auth.ADMIN)
def new_pin(dentist_id: str):
    """Give a dentist a new tablet PIN (shown once); unlock and sign out tablets."""
    if hub().config.dentist(dentist_id) is None:
        raise AuthError("unknown_dentist", 404, dentist=dentist_id)
    pin = auth.new_pin()
    auth.set_pin(dentist_id, pin)
    logger.info("admin %s gave dentist %s a new PIN", _admin(), dentist_id)
    return jsonify(pin=pin)


# -- checks ---------------------------------------------------------------------------


def _username(data: dict) -> str:
    username = text_field(data, "username", max_len=32).strip().lower()
    if not USERNAME.fullmatch(username):
        raise InputError("username_invalid", "username")
    return username


def _full_name(data: dict) -> str:
    full_name = " ".join(text_field(data, "full_name", max_len=64).split())
    if not full_name:
        raise InputError("field_missing", "full_name")
    return full_name


def _role_and_dentist(data: dict) -> tuple[str, str | None]:
    role = text_field(data, "role", max_len=16)
    if role not in auth.ROLES:
        raise InputError("unknown_role", "role", role=role)
    dentist = text_field(data, "dentist", required=role == auth.DENTIST)
    if role != auth.DENTIST:
        return role, None
    if hub().config.dentist(dentist) is None:
        raise InputError("unknown_dentist_field", "dentist", dentist=dentist)
    return role, dentist


def _check_dentist_free(dentist: str | None, besides: int | None = None) -> None:
    """One active account per dentist, so their cards are theirs alone."""
    if dentist is None:
        return
    taken = StaffUser.select().where(
        (StaffUser.dentist == dentist) & StaffUser.active & (StaffUser.id != besides)
    )
    if taken.exists():
        raise InputError("dentist_has_account", "dentist", dentist=dentist)


def _keep_an_admin(user: StaffUser) -> None:
    others = StaffUser.select().where(
        (StaffUser.role == auth.ADMIN) & StaffUser.active & (StaffUser.id != user.id)
    )
    if not others.exists():
        raise AuthError("last_admin", 409)


def _user(user_id: int) -> StaffUser:
    user = StaffUser.get_or_none(StaffUser.id == user_id)
    if user is None:
        raise AuthError("unknown_user", 404)
    return user


def _admin() -> str:
    return auth.current_staff().username
