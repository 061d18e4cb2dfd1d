"""Reception's schedule: day and week views, booking, and the working plans."""

from __future__ import annotations

from flask import render_template

from reception import bp, page_data
from server import auth
from server.auth import ADMIN, DENTIST, RECEPTIONIST
from server.config import WEEKDAYS
from server.hub import hub, page_language


@bp.get("/schedule")
@auth.roles_required(ADMIN, RECEPTIONIST, DENTIST)
def schedule():
    """Show the day or week per dentist; the desk books and edits plans here."""
    config = hub().config
    lang = page_language()
    can_edit = auth.staff_role() in auth.DESK
    staff = auth.current_staff()
    return render_template(
        "reception/schedule.html",
        can_edit=can_edit,
        weekdays=WEEKDAYS,
        page_data=page_data(
            lang,
            "schedule.",
            "booking.state_",
            "priority.",
            can_edit=can_edit,
            own_dentist=staff.dentist if staff else None,
            step=config.booking.slot_step_minutes,
            weekdays=list(WEEKDAYS),
            dentists=[
                {
                    "id": d.id,
                    "name": d.name,
                    "room": d.room,
                    "services": list(d.services),
                }
                for d in config.dentists
            ],
            services={
                s.id: {"name": s.name[lang], "minutes": s.minutes}
                for s in config.services
            },
            rooms={r.id: r.name[lang] for r in config.rooms},
        ),
    )
