"""Just enough HTTP/1.1, WebSocket and Socket.IO to load the hub from asyncio.

A page's Socket.IO client speaks Engine.IO 4 over a WebSocket once connected;
these clients do the same from the first byte (no polling phase), so hundreds
of them fit in one process. Every frame is stamped with CLOCK_MONOTONIC
(`time.monotonic_ns`, shared by all processes on Linux) the moment its bytes
arrive, before any decoding, so the bench's own work adds as little as it can
to the latencies it reports. Everything here talks to 127.0.0.1 only.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field

LOOPBACK = ("127.0.0.1", "::1", "localhost")

_OP_CONTINUATION, _OP_TEXT, _OP_CLOSE, _OP_PING, _OP_PONG = 0, 1, 8, 9, 10


def require_loopback(host: str) -> None:
    """Refuse any address that is not this machine's loopback interface."""
    if host not in LOOPBACK:
        raise ValueError(f"the bench talks to loopback only, not to {host!r}")


# -- Socket.IO over a WebSocket ---------------------------------------------------


class SocketIOClient(asyncio.Protocol):
    """One Socket.IO client, as a TV, phone page or tablet connects to the hub.

    on_event(client, name, data, arrived_ns) runs for every event; data is the
    decoded JSON unless the client is told to skip decoding (then it is None).
    """

    def __init__(
        self,
        auth: dict,
        on_event: Callable[[SocketIOClient, str, object, int], None],
        *,
        cookie: str | None = None,
        tag: object = None,
    ) -> None:
        self.auth = auth
        self.on_event = on_event
        self.cookie = cookie
        self.tag = tag
        self.decode = True
        self.frames = 0
        self.transport: asyncio.Transport | None = None
        self.connected: asyncio.Future | None = None
        self.closed = False
        self._buffer = bytearray()
        self._arrivals: list[tuple[bytes, int]] = []
        self._fragments: list[bytes] = []
        self._upgraded = False
        self._key = base64.b64encode(os.urandom(16)).decode()

    async def connect(self, host: str, port: int, timeout: float = 30.0) -> None:
        """Open the WebSocket and join the default namespace with self.auth."""
        require_loopback(host)
        loop = asyncio.get_running_loop()
        self.connected = loop.create_future()
        self._host = f"{host}:{port}"
        await loop.create_connection(lambda: self, host, port)
        await asyncio.wait_for(self.connected, timeout)

    def close(self) -> None:
        if self.transport and not self.transport.is_closing():
            self.transport.close()

    # -- asyncio.Protocol ----------------------------------------------------

    def connection_made(self, transport: asyncio.Transport) -> None:
        self.transport = transport
        lines = [
            "GET /socket.io/?EIO=4&transport=websocket HTTP/1.1",
            f"Host: {self._host}",
            "Upgrade: websocket",
            "Connection: Upgrade",
            f"Sec-WebSocket-Key: {self._key}",
            "Sec-WebSocket-Version: 13",
        ]
        if self.cookie:
            lines.append(f"Cookie: {self.cookie}")
        transport.write(("\r\n".join(lines) + "\r\n\r\n").encode())

    def data_received(self, data: bytes) -> None:
        # Stamp now, read later: the event loop hands over every socket that
        # is ready before it runs what call_soon queued, so decoding one TV's
        # frame does not delay the next TV's stamp (a call reaches 110 of
        # them within a few milliseconds).
        self._arrivals.append((data, time.monotonic_ns()))
        if len(self._arrivals) == 1:
            asyncio.get_running_loop().call_soon(self._read_arrivals)

    def _read_arrivals(self) -> None:
        arrivals, self._arrivals = self._arrivals, []
        for data, arrived in arrivals:
            self._buffer += data
            if not self._upgraded and not self._read_upgrade():
                continue
            self._read_frames(arrived)

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if self.connected and not self.connected.done():
            self.connected.set_exception(ConnectionError(f"closed: {exc}"))

    # -- reading ---------------------------------------------------------------

    def _read_upgrade(self) -> bool:
        end = self._buffer.find(b"\r\n\r\n")
        if end < 0:
            return False
        status = bytes(self._buffer[: self._buffer.find(b"\r\n")])
        if b" 101 " not in status:
            self._fail(
                f"the hub refused the WebSocket: {status.decode(errors='replace')}"
            )
            return False
        del self._buffer[: end + 4]
        self._upgraded = True
        return True

    def _read_frames(self, arrived: int) -> None:
        buffer = self._buffer
        pos = 0
        while len(buffer) - pos >= 2:
            first, second = buffer[pos], buffer[pos + 1]
            length, head = second & 0x7F, 2
            if length == 126:
                if len(buffer) - pos < 4:
                    break
                length, head = int.from_bytes(buffer[pos + 2 : pos + 4], "big"), 4
            elif length == 127:
                if len(buffer) - pos < 10:
                    break
                length, head = int.from_bytes(buffer[pos + 2 : pos + 10], "big"), 10
            if len(buffer) - pos < head + length:
                break
            payload = bytes(buffer[pos + head : pos + head + length])
            pos += head + length
            self._frame(first & 0x80, first & 0x0F, payload, arrived)
        del buffer[:pos]

    def _frame(self, final: int, opcode: int, payload: bytes, arrived: int) -> None:
        if opcode == _OP_PING:
            self._send_frame(_OP_PONG, payload)
            return
        if opcode == _OP_CLOSE:
            self.close()
            return
        if opcode not in (_OP_TEXT, _OP_CONTINUATION):
            return
        self._fragments.append(payload)
        if not final:
            return
        text = b"".join(self._fragments).decode()
        self._fragments.clear()
        self.frames += 1
        self._engineio(text, arrived)

    def _engineio(self, text: str, arrived: int) -> None:
        kind = text[:1]
        if kind == "0":
            self.send_text("40" + json.dumps(self.auth))
        elif kind == "2":
            self.send_text("3" + text[1:])
        elif kind == "4":
            self._socketio(text[1:], arrived)
        elif kind == "1":
            self.close()

    def _socketio(self, packet: str, arrived: int) -> None:
        kind = packet[:1]
        if kind == "0" and not self.connected.done():
            self.connected.set_result(True)
        elif kind == "4":
            self._fail(f"the hub refused the connection: {packet[1:]}")
        elif kind == "2":
            body = packet[1:].lstrip("0123456789")
            name_end = body.find('"', 2)
            name = body[2:name_end]
            data = json.loads(body)[1] if self.decode else None
            self.on_event(self, name, data, arrived)
        elif kind == "1":
            self.close()

    def _fail(self, message: str) -> None:
        if self.connected and not self.connected.done():
            self.connected.set_exception(ConnectionError(message))
        self.close()

    # -- writing ---------------------------------------------------------------

    def send_text(self, text: str) -> None:
        self._send_frame(_OP_TEXT, text.encode())

    def _send_frame(self, opcode: int, payload: bytes) -> None:
        if self.transport is None or self.transport.is_closing():
            return
        size = len(payload)
        if size < 126:
            header = bytes((0x80 | opcode, 0x80 | size))
        elif size < 65536:
            header = bytes((0x80 | opcode, 0x80 | 126)) + size.to_bytes(2, "big")
        else:
            header = bytes((0x80 | opcode, 0x80 | 127)) + size.to_bytes(8, "big")
        mask = os.urandom(4)
        repeated = (mask * (size // 4 + 1))[:size]
        masked = (
            int.from_bytes(payload, "big") ^ int.from_bytes(repeated, "big")
        ).to_bytes(size, "big")
        self.transport.write(header + mask + masked)


# -- HTTP/1.1 with keep-alive --------------------------------------------------------


@dataclass
class Response:
    status: int
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)

    def json(self) -> dict:
        return json.loads(self.body)


class HttpClient:
    """Keep-alive connections to the hub, up to a browser's six at once.

    One client per device (a kiosk, a tablet), carrying its session cookie
    and CSRF token the way a browser would.
    """

    def __init__(self, host: str, port: int, *, limit: int = 6) -> None:
        require_loopback(host)
        self.host, self.port = host, port
        self.cookie: str | None = None
        self.csrf: str | None = None
        self._idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []
        self._slots = asyncio.Semaphore(limit)

    async def post(self, path: str, body: dict | None = None) -> Response:
        return await self.request("POST", path, body if body is not None else {})

    async def get(self, path: str) -> Response:
        return await self.request("GET", path)

    async def request(
        self, method: str, path: str, body: dict | None = None
    ) -> Response:
        """Send one request on an idle connection (or a new one); read the answer."""
        payload = json.dumps(body).encode() if body is not None else b""
        head = [f"{method} {path} HTTP/1.1", f"Host: {self.host}:{self.port}"]
        if body is not None:
            head += [
                "Content-Type: application/json",
                f"Content-Length: {len(payload)}",
            ]
        if self.cookie:
            head.append(f"Cookie: {self.cookie}")
        if self.csrf:
            head.append(f"X-CSRF-Token: {self.csrf}")
        request = ("\r\n".join(head) + "\r\n\r\n").encode() + payload

        async with self._slots:
            reused = bool(self._idle)
            reader, writer = self._idle.pop() if reused else await self._open()
            try:
                response, keep = await _exchange(reader, writer, request)
            except (ConnectionError, asyncio.IncompleteReadError):
                writer.close()
                if not reused:
                    raise
                # The hub closed an idle keep-alive connection: try once afresh.
                reader, writer = await self._open()
                response, keep = await _exchange(reader, writer, request)
            except BaseException:
                # Cancelled or timed out halfway: the connection's state is unknown.
                writer.close()
                raise
            if keep:
                self._idle.append((reader, writer))
            else:
                writer.close()

        cookie = response.headers.get("set-cookie")
        if cookie:
            self.cookie = cookie.split(";", 1)[0]
        return response

    async def _open(self):
        return await asyncio.open_connection(self.host, self.port)

    def close(self) -> None:
        for _, writer in self._idle:
            writer.close()
        self._idle.clear()


async def _exchange(reader, writer, request: bytes) -> tuple[Response, bool]:
    writer.write(request)
    return await _read_response(reader)


async def _read_response(reader: asyncio.StreamReader) -> tuple[Response, bool]:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    version, status = lines[0].split(" ", 2)[:2]
    headers = {}
    for line in lines[1:]:
        if ":" in line:
            name, value = line.split(":", 1)
            headers[name.strip().lower()] = value.strip()

    if "content-length" in headers:
        body = await reader.readexactly(int(headers["content-length"]))
    elif headers.get("transfer-encoding", "").lower() == "chunked":
        body = await _read_chunked(reader)
    else:
        body = await reader.read()
        return Response(int(status), body, headers), False

    keep = headers.get("connection", "").lower() != "close" and version == "HTTP/1.1"
    return Response(int(status), body, headers), keep


async def _read_chunked(reader: asyncio.StreamReader) -> bytes:
    parts = []
    while True:
        size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
        if size == 0:
            await reader.readuntil(b"\r\n")
            return b"".join(parts)
        parts.append(await reader.readexactly(size))
        await reader.readexactly(2)
