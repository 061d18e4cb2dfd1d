"""Reception and admin: staff sign in, today's queue and printers, staff users.

Each part of the desk is a module adding its pages to this one blueprint;
MENU lists them with the roles that may open them.
"""

from __future__ import annotations

from flask import abort, current_app, redirect, render_template, request, url_for

from server import auth
from server.auth import ADMIN, DENTIST, RECEPTIONIST
from server.hub import hub, page_language, surface_blueprint
from server.i18n import strings

bp = surface_blueprint("reception", __name__, "/reception")

# (endpoint, label key, roles). Parts not built yet are left out of the menu.
MENU = (
    ("reception.page", "staff.menu_today", (ADMIN, RECEPTIONIST)),
    ("reception.patients", "staff.menu_patients", (ADMIN, RECEPTIONIST, DENTIST)),
    ("reception.schedule", "staff.menu_schedule", (ADMIN, RECEPTIONIST, DENTIST)),
    ("reception.users", "staff.menu_users", (ADMIN,)),
)


def menu_for(role: str) -> list[dict]:
    """Return the menu entries this role may open, marking the current page."""
    return [
        {
            "url": url_for(endpoint),
            "label": label,
            "current": request.endpoint == endpoint,
        }
        for endpoint, label, roles in MENU
        if role in roles and endpoint in current_app.view_functions
    ]


@bp.app_context_processor
def desk_helpers():
    return {
        "desk_menu": lambda: menu_for(auth.staff_role()),
        "desk_user": auth.current_staff,
    }


def page_data(lang: str, *prefixes: str, **extra) -> dict:
    """Give a desk page's script its language, CSRF token and words."""
    return {
        "lang": lang,
        "timezone": hub().config.clinic.timezone,
        "csrf": auth.csrf_token(),
        "strings": strings(lang, "common.", "staff.", *prefixes),
        **extra,
    }


@bp.get("/")
def page():
    """Show the sign-in form, or the day's queue and printers once signed in."""
    config = hub().config
    lang = page_language()
    role = auth.staff_role()
    if role is None:
        return render_template("reception/sign_in.html", page_data=page_data(lang))
    if role not in (ADMIN, RECEPTIONIST):
        entries = menu_for(role)
        if entries:
            return redirect(entries[0]["url"])
        abort(403)
    return render_template(
        "reception/today.html",
        page_data=page_data(
            lang,
            "reception.",
            "state.",
            "priority.",
            "patients.",
            services={s.id: s.name[lang] for s in config.services},
            rooms={r.id: r.name[lang] for r in config.rooms},
        ),
    )


@bp.get("/users")
@auth.roles_required(ADMIN)
def users():
    """Let the admin manage staff accounts and the dentists' tablet PINs."""
    lang = page_language()
    dentists = {d.id: d.name for d in hub().config.dentists}
    return render_template(
        "reception/users.html",
        page_data=page_data(
            lang,
            dentists=dentists,
            roles=[RECEPTIONIST, DENTIST, ADMIN],
            me=auth.signed_in_staff(),
        ),
        dentists=dentists,
    )


# The desk's other parts add their pages to bp.
from reception import patients as _patients  # noqa: E402, F401
from reception import schedule as _schedule  # noqa: E402, F401
