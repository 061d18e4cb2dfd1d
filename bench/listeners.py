"""The audience, in a process of its own: TVs, kiosks, phone pages and tablets.

Started by hub_latency.py as `python -m bench.listeners HOST PORT`. It reads
the clients to connect as one JSON line on stdin, connects them, answers
`{"ready": ...}`, then obeys one command per line: `record` and `pause`
(keep call arrivals or not), `count` (how many calls the TVs saw so far),
`skim` and `decode` (count frames without decoding them, for the rate sweep,
or decode them again) and `stop`, which answers with every arrival it kept.
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections import Counter

from bench.wire import SocketIOClient

CONNECT_AT_ONCE = 20
READY_TIMEOUT = 60.0
"""Longest wait, in seconds, for every client's first snapshot."""


class Audience:
    """Every connected client and what arrived at each, stamped on arrival."""

    def __init__(self) -> None:
        self.recording = False
        self.clients: list[SocketIOClient] = []
        self.snapshots = 0
        self.frames = Counter()
        self.gaps = 0
        self.out_of_order = 0
        self.display_calls: list[tuple[int, str, int]] = []
        self.phone_own_calls: list[tuple[int, str, int]] = []
        self.phone_lines: list[tuple[int, str, int, int]] = []
        self.lines: dict[tuple[str, int], tuple[str, ...]] = {}
        self._last_seq: dict[tuple[int, str], int] = {}

    def on_event(self, client: SocketIOClient, name: str, data, arrived: int) -> None:
        index, kind = client.tag
        self.frames[kind] += 1
        if data is None:
            return
        if name == "snapshot":
            self._snapshot(index, kind, data)
            return

        seq = data["seq"]
        self._check_order(index, data["stream"], seq)
        if name == "line":
            key = (data["service"], seq)
            if key not in self.lines:
                self.lines[key] = tuple(data["waiting"])
        if not self.recording:
            return
        if name == "queue" and kind == "display" and data["action"] == "called":
            self.display_calls.append((index, data["ticket"]["label"], arrived))
        elif name == "ticket" and data["state"] == "called":
            self.phone_own_calls.append((index, data["label"], arrived))
        elif name == "line":
            self.phone_lines.append((index, data["service"], seq, arrived))

    def _snapshot(self, index: int, kind: str, data: dict) -> None:
        self.snapshots += 1
        # A phone and a dentist's tablet follow several streams, the rest one.
        seqs = data.get("seqs") or {data["stream"]: data["seq"]}
        for stream, seq in seqs.items():
            self._last_seq[(index, stream)] = seq
        if kind != "phone":
            return
        service = data["ticket"]["service"]
        self.lines.setdefault(
            (service, data["seqs"][f"service:{service}"]), tuple(data["waiting"])
        )

    def _check_order(self, index: int, stream: str, seq: int) -> None:
        """Count what would make a page ask for a fresh snapshot."""
        key = (index, stream)
        last = self._last_seq.get(key)
        if last is not None:
            if seq > last + 1:
                self.gaps += 1
            elif seq <= last:
                self.out_of_order += 1
        self._last_seq[key] = seq if last is None else max(last, seq)

    def phone_line_calls(self) -> list[tuple[int, str, int]]:
        """Turn line updates into (phone, called label, arrival) by what left it."""
        removed: dict[tuple[str, int], set[str]] = {}
        calls = []
        for index, service, seq, arrived in self.phone_lines:
            key = (service, seq)
            if key not in removed:
                before = self.lines.get((service, seq - 1))
                after = self.lines.get(key)
                removed[key] = (
                    set(before) - set(after) if before and after is not None else set()
                )
            calls.extend((index, label, arrived) for label in removed[key])
        return calls

    def result(self) -> dict:
        return {
            "display_calls": self.display_calls,
            "phone_own_calls": self.phone_own_calls,
            "phone_line_calls": self.phone_line_calls(),
            "frames": dict(self.frames),
            "gaps": self.gaps,
            "out_of_order": self.out_of_order,
            "closed": sum(client.closed for client in self.clients),
            "displays": sum(client.tag[1] == "display" for client in self.clients),
        }


async def connect_all(audience: Audience, host: str, port: int, specs: list[dict]):
    """Connect every client, a few at a time, and wait for all their snapshots."""
    limit = asyncio.Semaphore(CONNECT_AT_ONCE)

    async def connect(index: int, spec: dict) -> None:
        client = SocketIOClient(
            spec["auth"],
            audience.on_event,
            cookie=spec.get("cookie"),
            tag=(index, spec["kind"]),
        )
        audience.clients.append(client)
        async with limit:
            await client.connect(host, port)

    await asyncio.gather(*(connect(i, spec) for i, spec in enumerate(specs)))
    loop = asyncio.get_running_loop()
    deadline = loop.time() + READY_TIMEOUT
    while audience.snapshots < len(specs):
        if loop.time() > deadline:
            raise TimeoutError(
                f"only {audience.snapshots} of {len(specs)} clients got a snapshot"
            )
        await asyncio.sleep(0.05)


async def main(host: str, port: int) -> None:
    loop = asyncio.get_running_loop()
    stdin = asyncio.StreamReader(limit=1 << 26)
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(stdin), sys.stdin)

    specs = json.loads(await stdin.readline())
    audience = Audience()
    await connect_all(audience, host, port, specs)
    answer({"ready": len(audience.clients)})

    while line := (await stdin.readline()).decode().strip():
        if line == "record":
            audience.recording = True
        elif line == "pause":
            audience.recording = False
        elif line in ("skim", "decode"):
            for client in audience.clients:
                client.decode = line == "decode"
        elif line == "count":
            answer({"display_calls": len(audience.display_calls)})
            continue
        elif line == "stop":
            break
        answer({"ok": line})
    answer(audience.result())
    for client in audience.clients:
        client.close()


def answer(message: dict) -> None:
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], int(sys.argv[2])))
