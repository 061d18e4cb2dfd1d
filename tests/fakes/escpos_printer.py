"""A network receipt printer on 127.0.0.1 that records jobs and fails on request."""

import contextlib
import re
import select
import socket
import struct
import threading

MODES = ("ok", "refuse", "stall", "drop", "offline", "paper_out", "paper_low")

# Answers to DLE EOT n (n = 1 printer, 2 offline cause, 3 error, 4 paper).
_STATUS = {
    "ok": {1: 0x12, 2: 0x12, 3: 0x12, 4: 0x12},
    "offline": {1: 0x1A, 2: 0x16, 3: 0x12, 4: 0x12},
    "paper_out": {1: 0x1A, 2: 0x32, 3: 0x12, 4: 0x7E},
    "paper_low": {1: 0x12, 2: 0x12, 3: 0x12, 4: 0x1E},  # near-end sensor on
}
_QUERY = re.compile(rb"(?:\x10\x04[\x01-\x04])+")
_POLL = 0.05


class FakePrinter:
    """A raw TCP printer (port 9100 style) in a thread; see MODES.

    Connections that only ask for status (DLE EOT) count in `status_queries`,
    not in `jobs`.
    """

    def __init__(self, mode: str = "ok", *, drop_after: int = 16) -> None:
        self.jobs: list[bytes] = []
        self.status_queries = 0
        self.port = 0
        self.drop_after = drop_after
        self._check(mode)
        self._mode = mode
        self._cond = threading.Condition()
        self._listener: socket.socket | None = None
        self._stopping = False
        self._connections: set[socket.socket] = set()
        self._threads: list[threading.Thread] = []

    def __enter__(self) -> "FakePrinter":
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def start(self) -> "FakePrinter":
        """Listen on a random loopback port and serve in a background thread."""
        if self._mode != "refuse":
            self._listener = self._listen()
        else:
            probe = self._listen()
            probe.close()
        self._spawn(self._serve)
        return self

    def close(self) -> None:
        """Stop serving, break open connections and join every thread."""
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
            connections = list(self._connections)
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)
        for thread in self._threads:
            thread.join(timeout=5)

    @property
    def mode(self) -> str:
        """One of MODES; setting it returns once the listening socket matches."""
        return self._mode

    @mode.setter
    def mode(self, mode: str) -> None:
        self._check(mode)
        with self._cond:
            self._mode = mode
            self._cond.notify_all()
            listening = mode != "refuse"
            applied = self._cond.wait_for(
                lambda: (self._listener is not None) == listening, timeout=5
            )
        if not applied:
            raise RuntimeError(f"fake printer did not switch to {mode!r} in 5 s")

    def wait_for_jobs(self, count: int, timeout: float = 5.0) -> list[bytes]:
        """Wait until `count` jobs arrived and return all of them."""
        with self._cond:
            if not self._cond.wait_for(lambda: len(self.jobs) >= count, timeout):
                raise AssertionError(
                    f"fake printer got {len(self.jobs)} job(s), expected {count}"
                )
            return list(self.jobs)

    # -- serving -----------------------------------------------------------

    def _serve(self) -> None:
        while True:
            with self._cond:
                if self._stopping:
                    break
                self._match_listener_to_mode()
                listener = self._listener
            if listener is None:
                with self._cond:
                    self._cond.wait(_POLL)
                continue

            ready, _, _ = select.select([listener], [], [], _POLL)
            if ready:
                connection, _ = listener.accept()
                with self._cond:
                    self._connections.add(connection)
                    mode = self._mode
                self._spawn(self._handle, connection, mode)

        with self._cond:
            if self._listener is not None:
                self._listener.close()
                self._listener = None

    def _match_listener_to_mode(self) -> None:
        listening = self._mode != "refuse"
        if listening and self._listener is None:
            self._listener = self._listen()
            self._cond.notify_all()
        elif not listening and self._listener is not None:
            # Closing the listening socket makes the kernel refuse connections.
            self._listener.close()
            self._listener = None
            self._cond.notify_all()

    def _handle(self, connection: socket.socket, mode: str) -> None:
        try:
            if mode == "stall":
                self._stall()
            elif mode == "drop":
                self._drop(connection)
            else:
                self._print(connection)
        except OSError:
            pass
        finally:
            with self._cond:
                self._connections.discard(connection)
            connection.close()

    def _stall(self) -> None:
        """Keep the connection open and read nothing until the fake closes."""
        with self._cond:
            self._cond.wait_for(lambda: self._stopping)

    def _drop(self, connection: socket.socket) -> None:
        connection.settimeout(2)
        received = connection.recv(self.drop_after)
        self._record(received)
        # Linger on, zero seconds: close() sends RST instead of FIN.
        connection.setsockopt(
            socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)
        )

    def _print(self, connection: socket.socket) -> None:
        connection.settimeout(_POLL)
        received = bytearray()
        scanned = 0
        while not self._stopping:
            try:
                chunk = connection.recv(65536)
            except TimeoutError:
                continue
            if not chunk:
                break
            received += chunk
            scanned = self._answer_status(connection, received, scanned)
        self._record(bytes(received))

    def _answer_status(
        self, connection: socket.socket, data: bytearray, start: int
    ) -> int:
        """Answer each DLE EOT n in data after start; return where to look next."""
        while (found := data.find(b"\x10\x04", start)) != -1 and found + 2 < len(data):
            answers = _STATUS.get(self._mode, _STATUS["ok"])
            query = data[found + 2]
            if query in answers:
                connection.sendall(bytes([answers[query]]))
            start = found + 3
        if found == -1:
            return max(start, len(data) - 1)
        return found

    def _record(self, data: bytes) -> None:
        if not data:
            return
        with self._cond:
            if _QUERY.fullmatch(data):
                self.status_queries += 1
            else:
                self.jobs.append(data)
            self._cond.notify_all()

    # -- helpers -----------------------------------------------------------

    def _listen(self) -> socket.socket:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(16)
        self.port = listener.getsockname()[1]
        return listener

    def _spawn(self, target, *args) -> None:
        thread = threading.Thread(target=target, args=args, daemon=True)
        self._threads.append(thread)
        thread.start()

    @staticmethod
    def _check(mode: str) -> None:
        if mode not in MODES:
            raise ValueError(f"Unknown fake printer mode {mode!r}; use one of {MODES}.")
