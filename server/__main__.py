"""Command line: `python -m server run`, and the tools an operator needs."""

from __future__ import annotations

import argparse
import dataclasses
import fcntl
import gc
import logging
import socket
import sys
import warnings
from pathlib import Path

from server import config as config_module

logger = logging.getLogger("server")


def main(argv: list[str] | None = None) -> int:
    # eventlet warns at every import that it is in bug-fix-only mode: known,
    # and the reason threading mode exists; an operator need not see it.
    warnings.filterwarnings("ignore", message=r"\s*Eventlet is deprecated")
    args = _parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    # One line per request is noise for an operator; errors still show.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    try:
        config = config_module.load(args.config)
    except config_module.ConfigError as err:
        print(f"navbat: {err}", file=sys.stderr)
        return 2
    if args.command == "check-config":
        print(f"{config.source}: ok")
        return 0
    if args.command == "run" and config.server.async_mode == "eventlet":
        _patch_eventlet()
    return args.handler(config, args)


def _patch_eventlet() -> None:
    # Must run before Flask or anything that touches sockets and threads is
    # imported, or Flask's start-up fails.
    import eventlet

    eventlet.monkey_patch()


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m server", description="Navbat hub")
    parser.add_argument("--config", help="path to config.toml (default: the repo's)")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    commands = parser.add_subparsers(dest="command", required=True)

    run = commands.add_parser("run", help="start the hub")
    run.add_argument("--host", help="listen address (default: [server] host)")
    run.add_argument("--port", type=int, help="listen port (default: [server] port)")
    run.set_defaults(handler=_run)

    commands.add_parser("check-config", help="check config.toml and exit")

    pin = commands.add_parser("reset-pin", help="give a dentist a new tablet PIN")
    pin.add_argument("dentist", help="the dentist's id in config.toml")
    pin.set_defaults(handler=_reset_pin)

    test = commands.add_parser(
        "printer-test", help="print a test page on a kiosk's printer and report"
    )
    test.add_argument("kiosk", help="the kiosk's id in config.toml")
    test.set_defaults(handler=_printer_test)

    password = commands.add_parser(
        "reset-password", help="give a staff user a new password"
    )
    password.add_argument("username")
    password.set_defaults(handler=_reset_password)

    user = commands.add_parser(
        "add-user", help="add a staff user (admin, receptionist or dentist)"
    )
    user.add_argument("username")
    user.add_argument(
        "--role", required=True, choices=("admin", "receptionist", "dentist")
    )
    user.add_argument("--name", default="", help="the person's full name")
    user.add_argument("--dentist", help="for the dentist role: their id in config.toml")
    user.set_defaults(handler=_add_user)
    return parser


def _run(config, args) -> int:
    from server.app import create_app
    from server.auth import bootstrap_credentials
    from server.db import checkpoint_in_background
    from server.realtime import housekeeping, socketio

    host = args.host or config.server.host
    port = args.port or config.server.port
    # The printed addresses, QR codes and paper follow the flags too.
    config = dataclasses.replace(
        config, server=dataclasses.replace(config.server, host=host, port=port)
    )
    try:
        _claim_single_hub(config.database_path, host, port)
    except RuntimeError as err:
        print(f"navbat: {err}", file=sys.stderr)
        return 2

    app = create_app(config)
    hub = app.extensions["navbat"]
    checkpoint_in_background(config.database_path)

    _show_credentials(bootstrap_credentials(config))
    hub.spool.recover()
    socketio.start_background_task(hub.spool.run_forever)
    socketio.start_background_task(housekeeping, app)
    socketio.start_background_task(hub.broadcaster.flush_forever, app)
    _show_addresses(hub, config)
    logger.info(
        "hub starting on %s:%s (async mode %s, database %s)",
        host,
        port,
        config.server.async_mode,
        config.database_path,
    )
    # What is loaded by now lives as long as the hub: spare it from every full
    # garbage collection, which walked it in 40-60 ms, a pause of every screen.
    gc.freeze()
    socketio.run(
        app, host=host, port=port, log_output=False, allow_unsafe_werkzeug=True
    )
    return 0


_hub_lock = None  # held open for the life of the process


def _claim_single_hub(database: Path, host: str, port: int) -> None:
    """Refuse to start a second hub on the same database or port.

    Two hubs would split the screens between them (eventlet listens with
    SO_REUSEPORT, so the kernel shares the port silently) and the second
    would fail the first one's print jobs as "interrupted".
    """
    global _hub_lock
    database.parent.mkdir(parents=True, exist_ok=True)
    lock = (database.parent / f"{database.name}.lock").open("a+")
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        lock.close()
        raise RuntimeError(
            f"another hub is already running on {database}; stop it first "
            "(only one hub may serve a clinic's database)"
        ) from None
    _hub_lock = lock

    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as err:
            raise RuntimeError(
                f"cannot listen on {host}:{port} ({err.strerror}); another program "
                "uses that port: stop it or set [server] port in config.toml"
            ) from None


def _show_credentials(created) -> None:
    if not created:
        return
    print("\nFirst sign-in details (shown once; write them down now):")
    for kind, login, secret in created:
        label = "staff user" if kind == "staff" else "dentist"
        what = "password" if kind == "staff" else "tablet PIN"
        print(f"  {label:10} {login:12} {what}: {secret}")
    print(
        "Lost one? make reset-pin DENTIST=<id>, make reset-password USER_NAME=<name>\n"
    )


def _show_addresses(hub, config) -> None:
    base = hub.public_url
    print("\nNavbat is running. Open these on the clinic's devices:")
    for kiosk in config.kiosks:
        print(f"  {'Kiosk ' + kiosk.id + ':':18}{base}/kiosk/{kiosk.id}")
    print(f"  {'Waiting-room TV:':18}{base}/display/")
    print(f"  {'Dentist tablet:':18}{base}/dentist/")
    print(f"  {'Staff sign-in:':18}{base}/reception/")
    if config.booking.public:
        print(f"  {'Booking page:':18}{base}/book/")
    print()


def _reset_pin(config, args) -> int:
    from server import auth
    from server.db import open_sqlite
    from server.models import create_tables

    if config.dentist(args.dentist) is None:
        known = ", ".join(d.id for d in config.dentists)
        print(
            f"navbat: no dentist {args.dentist!r} in config.toml (known: {known})",
            file=sys.stderr,
        )
        return 2
    open_sqlite(config.database_path)
    create_tables()
    from server.engine import sync_dentists

    sync_dentists(config)
    pin = auth.new_pin()
    auth.set_pin(args.dentist, pin)
    print(f"New tablet PIN for {args.dentist}: {pin}")
    return 0


def _reset_password(config, args) -> int:
    from server import auth
    from server.db import open_sqlite
    from server.models import create_tables

    open_sqlite(config.database_path)
    create_tables()
    password = auth.new_password()
    if not auth.reset_password(args.username, password):
        known = ", ".join(auth.staff_usernames()) or "none"
        print(
            f"navbat: there is no staff user {args.username!r} (known: {known})",
            file=sys.stderr,
        )
        return 2
    print(f"New password for {args.username}: {password}")
    return 0


def _add_user(config, args) -> int:
    from server import auth
    from server.api_staff import USERNAME
    from server.db import open_sqlite
    from server.models import create_tables

    username = args.username.strip().lower()
    problem = None
    if not USERNAME.fullmatch(username):
        problem = "a user name is 3 to 32 small Latin letters, digits, '.', '-', '_'"
    elif (args.role == "dentist") != bool(args.dentist):
        problem = "--dentist goes with --role dentist, and only with it"
    elif args.dentist and config.dentist(args.dentist) is None:
        known = ", ".join(d.id for d in config.dentists)
        problem = f"there is no dentist {args.dentist!r} (known: {known})"
    if problem:
        print(f"navbat: {problem}", file=sys.stderr)
        return 2

    open_sqlite(config.database_path)
    create_tables()
    if username in auth.staff_usernames():
        print(
            f"navbat: the user {username!r} exists; use reset-password", file=sys.stderr
        )
        return 2
    password = auth.new_password()
    auth.create_user(username, password, args.role, args.name, args.dentist)
    print(f"Added {args.role} {username}; password (shown only now): {password}")
    return 0


def _printer_test(config, args) -> int:
    from printers import PrinterUnavailable
    from server.app import create_app

    kiosk = config.kiosk(args.kiosk)
    if kiosk is None or not kiosk.printer:
        known = ", ".join(k.id for k in config.kiosks if k.printer) or "none"
        print(
            f"navbat: no kiosk {args.kiosk!r} with a printer in config.toml "
            f"(kiosks with printers: {known})",
            file=sys.stderr,
        )
        return 2
    spool = create_app(config).extensions["navbat"].spool
    try:
        state = spool.print_test_page(kiosk.printer)
    except PrinterUnavailable as err:
        print(f"Test page NOT printed: {err}", file=sys.stderr)
        return 1
    where = config.printer(kiosk.printer)
    print(f"Test page sent to {where.id} ({where.type}); the printer reports: {state}.")
    print("Check the paper: four language lines, a QR code that scans, a clean cut.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
