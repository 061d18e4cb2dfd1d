"""The JSON API (/api/v1): every action the pages take. See docs/api.md."""

from __future__ import annotations

import io
import logging
import re
from dataclasses import asdict

import qrcode
import qrcode.image.svg
from flask import (
    Blueprint,
    Response,
    current_app,
    has_app_context,
    jsonify,
    render_template,
    request,
    session,
)

from server import auth
from server.errors import AuthError, HubError, InputError, QueueError
from server.hub import hub
from server.i18n import pick_language, translate
from server.ratelimit import RateLimit
from server.rules import PRIORITIES

logger = logging.getLogger(__name__)

bp = Blueprint("api", __name__, url_prefix="/api/v1")

_REQUEST_KEY = re.compile(r"[A-Za-z0-9_-]{8,64}")


# -- helpers -----------------------------------------------------------------


def request_language(*, from_body: bool = True) -> str:
    """Pick the language for this request's messages."""
    clinic = hub().config.clinic
    data = _json_or_none() if from_body else None
    body_lang = data.get("lang") if isinstance(data, dict) else None
    candidates = [body_lang, request.args.get("lang"), session.get("lang")]
    if auth.current_staff() is not None:
        # On staff forms "lang" is the patient's language, not the reader's.
        candidates = [request.args.get("lang"), session.get("lang")]
    return pick_language(
        [c for c in candidates if isinstance(c, str)],
        clinic.languages,
        clinic.default_language,
    )


def _json_or_none():
    """Parse the body as JSON, or give None for anything unparsable."""
    if not request.is_json:
        return None
    try:
        return request.get_json(silent=True)
    except RecursionError:  # absurdly deep nesting is not a request
        return None


def body() -> dict:
    """Return the request's JSON object or refuse it with a clear message."""
    data = _json_or_none()
    if not isinstance(data, dict):
        raise InputError("not_json", "body")
    return data


def text_field(data: dict, name: str, *, required: bool = True, max_len: int = 64):
    value = data.get(name)
    if value is None or value == "":
        if required:
            raise InputError("field_missing", name)
        return None
    if not isinstance(value, str) or not _encodable(value):
        raise InputError("field_not_text", name)
    if len(value) > max_len:
        raise InputError("field_too_long", name, max=max_len)
    return value


def _encodable(value: str) -> bool:
    """Tell whether text is real Unicode (JSON allows lone surrogates; we do not)."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def hub_error(err: HubError):
    """Turn a refusal into JSON with a sentence the person can act on.

    Registered app-wide, so every API blueprint's views just raise.
    """
    if not request.path.startswith("/api/"):
        lang = request_language(from_body=False)
        return error_message(lang, err), err.status, {"Content-Type": "text/plain"}
    lang = request_language()
    payload = {"code": err.code, "message": error_message(lang, err)}
    if isinstance(err, InputError):
        payload["field"] = err.field
    return jsonify(error=payload), err.status


def error_message(lang: str, err: HubError) -> str:
    """Fill in a refusal's message, naming an input field in the person's words."""
    params = dict(err.params)
    if params.get("priority") in PRIORITIES:  # a class's name in their words
        params["priority"] = translate(lang, f"priority.{params['priority']}")
    service = params.get("service")
    known = (
        hub().config.service(str(service)) if service and has_app_context() else None
    )
    if known is not None:  # a known service by its name, not its id
        params["service"] = known.name[lang]
    if isinstance(err, InputError):
        params["field"] = translate(lang, f"field.{err.field}")
    message = translate(lang, f"error.{err.code}", **params)
    # Some sentences open with the field's name ("the service must be text").
    if isinstance(err, InputError) and message.startswith(params["field"]):
        message = message[:1].upper() + message[1:]
    return message


def _plain_error(code: str, status: int):
    """Make an app-wide handler: JSON for API paths, a short page for the rest."""

    def handler(err):
        # The body may be the very problem (too large, unparsable): skip it.
        lang = request_language(from_body=False)
        message = translate(lang, f"error.{code}")
        if not request.path.startswith(f"{bp.url_prefix}/"):
            page = render_template("error.html", message=message, lang=lang)
            return page, status
        return jsonify(error={"code": code, "message": message}), status

    return handler


# Routing errors and crashes reach only app-wide handlers, not the blueprint's.
PLAIN_ERRORS = {
    404: "not_found",
    405: "wrong_method",
    413: "too_large",
    500: "internal",
}
for _status, _code in PLAIN_ERRORS.items():
    bp.app_errorhandler(_status)(_plain_error(_code, _status))


# -- the clinic and its queue -----------------------------------------------------


@bp.get("/clinic")
@auth.public
def clinic():
    """Describe the clinic: name, languages, services and rooms."""
    config = hub().config
    return jsonify(
        name=config.clinic.name,
        timezone=config.clinic.timezone,
        languages=list(config.clinic.languages),
        default_language=config.clinic.default_language,
        services=[
            {"id": s.id, "prefix": s.prefix, "name": s.name} for s in config.services
        ],
        rooms=[{"id": r.id, "name": r.name} for r in config.rooms],
    )


@bp.get("/queue")
@auth.public
def queue_snapshot():
    """Return what the waiting-room display shows."""
    from server.realtime import display_snapshot

    return jsonify(display_snapshot())


# -- tickets -----------------------------------------------------------------


def _ticket_limit() -> RateLimit | None:
    """Tickets per address a minute: a kiosk is busy, a flood is not a patient."""
    per_minute = hub().config.queue.tickets_per_minute_per_address
    if not per_minute:
        return None
    extensions = current_app.extensions
    if "navbat_ticket_limit" not in extensions:
        extensions["navbat_ticket_limit"] = RateLimit(per_minute, 60)
    return extensions["navbat_ticket_limit"]


def _address() -> str:
    return request.remote_addr or "unknown"


@bp.post("/tickets")
@auth.public
def issue_ticket():
    """Issue a ticket for a service from a kiosk (or from staff)."""
    data = body()
    service_id = text_field(data, "service")
    kiosk_id = text_field(data, "kiosk", required=False)
    request_key = text_field(data, "request_key", required=False)
    if request_key and not _REQUEST_KEY.fullmatch(request_key):
        raise InputError("bad_request_key", "request_key")
    the_hub = hub()
    if kiosk_id and the_hub.config.kiosk(kiosk_id) is None:
        raise InputError("unknown_kiosk", "kiosk", kiosk=kiosk_id)
    printer = the_hub.spool.printer_for_kiosk(kiosk_id)
    priority = text_field(data, "priority", required=False) or "normal"
    by_staff = auth.signed_in_staff() is not None
    limit = None if by_staff else _ticket_limit()
    if limit and not limit.allowed(_address()):
        logger.warning("tickets limited: address=%s", _address())
        raise QueueError("too_many_tickets", 429)

    issued = the_hub.queue.issue(
        service_id,
        kiosk_id=kiosk_id,
        lang=request_language(),
        request_key=request_key,
        printer=printer,
        priority=priority,
        by_staff=by_staff,
    )
    if issued.created and limit:
        limit.hit(_address())
    if issued.created:
        the_hub.spool.wake()
        the_hub.publish(issued.events)

    ticket = issued.ticket
    return jsonify(
        ticket=dict(ticket.public(), token=ticket.token),
        ahead=issued.ahead,
        wait=the_hub.queue.wait_band(ticket),
        url=the_hub.ticket_url(ticket.token),
        qr=f"/api/v1/tickets/{ticket.token}/qr.svg",
        printer=the_hub.spool.state(printer),
        created=issued.created,
    ), (201 if issued.created else 200)


@bp.get("/tickets/<token>")
@auth.public
def ticket_status(token: str):
    """Return one ticket's state and position, for its phone page."""
    ticket, ahead = hub().queue.ticket_status(token)
    wait = hub().queue.wait_band(ticket)
    return jsonify(ticket=dict(ticket.public(), ahead=ahead, wait=wait))


@bp.post("/tickets/<token>/cancel")
@auth.public
def cancel_own_ticket(token: str):
    """Let the patient leave the queue from their phone (the token is the key)."""
    body()  # a JSON POST: a plain form on another site cannot send it
    ticket, events = hub().queue.cancel_by_token(token)
    hub().publish(events)
    return jsonify(ticket=ticket.public())


@bp.get("/services")
@auth.public
def services():
    """Tell the kiosk which services take tickets now, and the wait for each."""
    lang = request_language()
    states = []
    for state in hub().queue.service_states():
        entry = asdict(state)
        entry["message"] = (
            ""
            if state.open
            else translate(
                lang,
                f"error.service_{state.reason}",
                opens=state.opens,
                closes=state.closes,
            )
        )
        states.append(entry)
    kiosk_id = request.args.get("kiosk", "")
    printer = hub().spool.printer_for_kiosk(kiosk_id) if kiosk_id else None
    return jsonify(services=states, printer=hub().spool.state(printer))


@bp.get("/tickets/<token>/paper")
@auth.public
def ticket_paper(token: str):
    """Tell the kiosk whether the ticket's paper came out of the printer."""
    ticket, _ahead = hub().queue.ticket_status(token)
    return jsonify(paper=hub().spool.paper_state(ticket.id))


@bp.get("/tickets/<token>/qr.svg")
@auth.public
def ticket_qr(token: str):
    """Draw the QR code of a ticket's phone page."""
    hub().queue.ticket_status(token)
    image = qrcode.make(
        hub().ticket_url(token),
        image_factory=qrcode.image.svg.SvgPathImage,
        border=2,
        error_correction=qrcode.constants.ERROR_CORRECT_M,
    )
    buffer = io.BytesIO()
    image.save(buffer)
    return Response(buffer.getvalue(), mimetype="image/svg+xml")


@bp.get("/tickets/<int:ticket_id>/history")
@auth.desk_required
def ticket_history(ticket_id: int):
    """Return a ticket's audit log (staff only)."""
    return jsonify(events=hub().queue.history(ticket_id))


@bp.post("/tickets/<int:ticket_id>/reprint")
@auth.staff_required
def reprint(ticket_id: int):
    """Queue a ticket's paper again on its kiosk's printer."""
    ticket = hub().queue.ticket(ticket_id)
    tablet = auth.signed_in_dentist() if auth.current_staff() is None else None
    if tablet and ticket.dentist != tablet:
        raise AuthError("forbidden_role", 403)  # a tablet reprints its own patient's
    printer = hub().spool.printer_for_kiosk(ticket.kiosk) or hub().config.printers[0].id
    hub().spool.reprint(ticket.id, printer)
    return jsonify(ok=True, printer=printer), 202


# -- the dentist's tablet ------------------------------------------------------------


@bp.post("/dentist/login")
@auth.public
def dentist_login():
    """Sign a dentist in on a tablet with their PIN."""
    data = body()
    dentist_id = text_field(data, "dentist")
    pin = text_field(data, "pin", max_len=12)
    epoch = auth.check_pin(dentist_id, pin)
    auth.start_session(dentist=dentist_id, epoch=epoch)
    auth.tablet_touched()
    logger.info("dentist %s signed in on a tablet", dentist_id)
    return jsonify(ok=True, csrf=auth.csrf_token())


@bp.post("/dentist/logout")
@auth.public
def dentist_logout():
    """Sign the dentist out; their session cookies stop working everywhere."""
    dentist_id = auth.signed_in_dentist()
    if dentist_id:
        auth.end_dentist_sessions(dentist_id)
    session.pop("dentist", None)
    return jsonify(ok=True)


@bp.get("/dentist/state")
@auth.dentist_required
def dentist_state():
    """Return the signed-in dentist's room, current patient and waiting list."""
    the_hub = hub()
    config = the_hub.config
    dentist = config.dentist(auth.signed_in_dentist())
    queue = the_hub.queue
    current = queue.current(dentist.id)
    waiting = queue.waiting(dentist.services, dentist=dentist.id)
    return jsonify(
        dentist={"id": dentist.id, "name": dentist.name, "room": dentist.room},
        services=list(dentist.services),
        paused=queue.is_paused(dentist.id),
        recall_limit=config.queue.recall_limit,
        current=current.staff() if current else None,
        waiting=[t.staff() for t in waiting],
        # Where the tablet's Transfer button may send a patient.
        transfer_to={
            "services": [s.id for s in config.services],
            "dentists": [
                {"id": d.id, "name": d.name, "services": list(d.services)}
                for d in config.dentists
                if d.id != dentist.id
            ],
        },
    )


_ACTIONS = {
    "call-next": "call_next",
    "recall": "recall",
    "start": "start",
    "done": "finish",
    "no-show": "no_show",
}


@bp.post("/dentist/<action>")
@auth.dentist_required
def dentist_action(action: str):
    """Run one of the tablet's buttons for the signed-in dentist."""
    method = _ACTIONS.get(action)
    if method is None:
        raise HubError("unknown_action", 404, action=action)
    the_hub = hub()
    ticket, events = getattr(the_hub.queue, method)(auth.signed_in_dentist())
    the_hub.publish(events)
    return jsonify(ticket=ticket.public())


@bp.post("/dentist/call/<int:ticket_id>")
@auth.dentist_required
def dentist_call_ticket(ticket_id: int):
    """Call one patient the dentist chose from their waiting list."""
    the_hub = hub()
    ticket, events = the_hub.queue.call_ticket(auth.signed_in_dentist(), ticket_id)
    the_hub.publish(events)
    return jsonify(ticket=ticket.public())


@bp.post("/dentist/transfer")
@auth.dentist_required
def dentist_transfer():
    """Send the dentist's current patient to another service or dentist."""
    data = body()
    the_hub = hub()
    dentist_id = auth.signed_in_dentist()
    current = the_hub.queue.current(dentist_id)
    if current is None:
        raise HubError("no_current_ticket")
    ticket, events = the_hub.queue.transfer(
        current.id,
        text_field(data, "service"),
        dentist_id=text_field(data, "dentist", required=False),
        actor=f"dentist:{dentist_id}",
    )
    the_hub.publish(events)
    return jsonify(ticket=ticket.public())


@bp.post("/dentist/awake")
@auth.dentist_required
def dentist_awake():
    """Keep the tablet unlocked: the dentist touched it without acting."""
    return "", 204


@bp.post("/dentist/pause")
@auth.dentist_required
def dentist_pause():
    """Start a break: no tickets are offered, the display shows the room closed."""
    hub().publish(hub().queue.pause(auth.signed_in_dentist()))
    return jsonify(paused=True)


@bp.post("/dentist/resume")
@auth.dentist_required
def dentist_resume():
    hub().publish(hub().queue.resume(auth.signed_in_dentist()))
    return jsonify(paused=False)


# -- staff ----------------------------------------------------------------------------


@bp.post("/staff/login")
@auth.public
def staff_login():
    data = body()
    user = auth.check_password(
        text_field(data, "username"), text_field(data, "password", max_len=128)
    )
    auth.sign_in_staff(user)
    logger.info("staff user %s (%s) signed in", user.username, user.role)
    return jsonify(ok=True, csrf=auth.csrf_token(), role=user.role)


@bp.post("/staff/logout")
@auth.public
def staff_logout():
    user_id = auth.signed_in_staff()
    if user_id:
        auth.end_staff_sessions(user_id)
    auth.sign_out()
    return jsonify(ok=True)


def _staff_actor() -> str:
    """Name who acted for the audit log: a staff user, or a dentist's tablet."""
    user_id = auth.signed_in_staff()
    return f"staff:{user_id}" if user_id else f"dentist:{auth.signed_in_dentist()}"


@bp.post("/tickets/<int:ticket_id>/cancel")
@auth.desk_required
def staff_cancel(ticket_id: int):
    """Close a ticket whose patient left."""
    ticket, events = hub().queue.cancel(ticket_id, actor=_staff_actor())
    hub().publish(events)
    return jsonify(ticket=ticket.staff())


@bp.post("/tickets/<int:ticket_id>/reinstate")
@auth.desk_required
def staff_reinstate(ticket_id: int):
    """Put a no-show back in line: the patient turned up after all."""
    ticket, events = hub().queue.reinstate(ticket_id, actor=_staff_actor())
    hub().publish(events)
    return jsonify(ticket=ticket.staff())


@bp.post("/tickets/<int:ticket_id>/priority")
@auth.desk_required
def staff_priority(ticket_id: int):
    """Change a waiting ticket's priority class (for example to emergency)."""
    priority = text_field(body(), "priority")
    ticket, events = hub().queue.set_priority(ticket_id, priority, actor=_staff_actor())
    hub().publish(events)
    return jsonify(ticket=ticket.staff())


@bp.post("/tickets/<int:ticket_id>/transfer")
@auth.desk_required
def staff_transfer(ticket_id: int):
    """Move a ticket to another service or dentist; it keeps its place in time."""
    data = body()
    ticket, events = hub().queue.transfer(
        ticket_id,
        text_field(data, "service"),
        dentist_id=text_field(data, "dentist", required=False),
        actor=_staff_actor(),
    )
    hub().publish(events)
    return jsonify(ticket=ticket.staff())


@bp.get("/printers")
@auth.desk_required
def printers():
    """Return each printer's state and waiting jobs (staff only)."""
    return jsonify(printers=hub().spool.states())


@bp.get("/today")
@auth.desk_required
def today():
    """List today's tickets, newest first (staff only)."""
    return jsonify(tickets=[t.staff() for t in hub().queue.today_tickets()])
