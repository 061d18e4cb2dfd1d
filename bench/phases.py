"""One hub from start to stop: set it up, load it, measure it.

Used by hub_latency.py; every part's figures come back as plain dicts.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import resource
import shutil
import sys
import time
from collections import Counter
from pathlib import Path

from bench import hotspots, hubproc, report
from bench.hubproc import HOST, ROOT
from bench.load import DRAIN_SECONDS, REQUEST_TIMEOUT, Clinic, FakePrinters

logger = logging.getLogger("bench")

SETTLE_SECONDS = 0.5
"""Pause after each part so the last events reach every client."""


# -- the audience process ------------------------------------------------------------


class AudienceProcess:
    """bench/listeners.py in its own process, driven through its stdin."""

    def __init__(self) -> None:
        self.process: asyncio.subprocess.Process | None = None

    async def start(self, port: int, specs: list[dict]) -> None:
        self.process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bench.listeners",
            HOST,
            str(port),
            cwd=ROOT,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            limit=1 << 28,
        )
        answer = await self._say(json.dumps(specs))
        if answer.get("ready") != len(specs):
            raise RuntimeError(f"the audience did not connect: {answer}")

    async def _say(self, line: str) -> dict:
        self.process.stdin.write(line.encode() + b"\n")
        await self.process.stdin.drain()
        answer = await asyncio.wait_for(self.process.stdout.readline(), 120)
        if not answer:
            raise RuntimeError("the audience process exited; see its errors above")
        return json.loads(answer)

    async def command(self, word: str) -> dict:
        return await self._say(word)

    def cpu_s(self) -> float:
        return hubproc.sample_process(self.process.pid).cpu_s

    async def stop(self) -> dict:
        result = await self._say("stop")
        await self.close()
        return result

    async def close(self) -> None:
        if self.process and self.process.returncode is None:
            self.process.stdin.close()
            try:
                await asyncio.wait_for(self.process.wait(), 10)
            except TimeoutError:
                self.process.kill()
                await self.process.wait()


# -- one hub, start to stop ------------------------------------------------------------


class Meter:
    """CPU of the hub, the bench's processes and the whole machine over a part."""

    def __init__(self, hub: hubproc.Hub, audience: AudienceProcess) -> None:
        self.hub, self.audience = hub, audience

    def __enter__(self) -> Meter:
        self._start = self._read()
        return self

    def __exit__(self, *exc) -> None:
        end = self._read()
        self.wall_s, self.hub_cpu_s, self.bench_cpu_s, self.busy_s = (
            e - s for e, s in zip(end, self._start, strict=True)
        )

    def _read(self):
        usage = resource.getrusage(resource.RUSAGE_SELF)
        return (
            time.monotonic(),
            self.hub.sample().cpu_s,
            usage.ru_utime + usage.ru_stime + self.audience.cpu_s(),
            hubproc.machine_busy_s(),
        )

    def figures(self) -> dict:
        cores = os.cpu_count() or 1
        other = self.busy_s - self.hub_cpu_s - self.bench_cpu_s
        return {
            "seconds": round(self.wall_s, 2),
            "hub_cpu_s": round(self.hub_cpu_s, 2),
            "hub_cpu_pct": round(100 * self.hub_cpu_s / self.wall_s, 1),
            "bench_cpu_pct": round(100 * self.bench_cpu_s / self.wall_s, 1),
            "other_cpu_pct_of_machine": round(
                max(0.0, 100 * other / (self.wall_s * cores)), 1
            ),
        }


async def run_hub(args, mode: str, folder: Path, database: Path | None) -> dict:
    """Start one hub, load it, measure it, stop it; return what was measured."""
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    printers = await FakePrinters().start() if args.printers == "network" else None
    port = hubproc.free_port()
    config = hubproc.write_config(
        folder,
        port=port,
        async_mode=mode,
        dentists=args.dentists,
        kiosks=args.kiosks,
        printer_port=printers.port if printers else None,
    )
    stages = Stages(mode, "history" if database else "empty")
    if database:
        await asyncio.to_thread(shutil.copyfile, database, folder / "navbat.sqlite3")
        stages.done("copy the database")
    hub = hubproc.Hub(folder, config, port, mode)
    audience = AudienceProcess()
    clinic = Clinic(HOST, port, hubproc.kiosk_ids(args.kiosks), hubproc.service_ids())
    result = {"mode": mode, "database": stages.database, "stages_s": stages.seconds}
    try:
        await asyncio.to_thread(hub.start)
        stages.done("start the hub")
        specs = await set_up(args, hub, clinic, result)
        stages.done("sign in, issue the phones' tickets")
        await audience.start(port, specs)
        stages.done(f"connect {len(specs)} clients")
        seconds = args.history_seconds if database else args.seconds
        result["steady"] = await steady(args, hub, clinic, audience, seconds)
        stages.done("steady load")
        if not database and args.sweep_rates:
            await audience.command("skim")
            result["sweep"] = await sweep(args, hub, clinic, audience)
            stages.done("issue rate sweep")
        arrivals = await audience.stop()
        result["steady"].update(
            arrival_figures(result["steady"].pop("_calls"), arrivals)
        )
        quiet = arrival_figures(result["steady"].pop("_quiet_calls"), arrivals)
        result["quiet"].update({k: quiet[k] for k in ("call_display", "call_phone")})
        result["printed"] = printers.jobs if printers else None
    except (RuntimeError, OSError, TimeoutError) as err:
        # One hub that cannot keep up must not cost the figures of the others.
        stages.done("the part that failed")
        result["error"] = f"{type(err).__name__}: {err}"
        result.get("steady", {}).pop("_calls", None)
        result.get("steady", {}).pop("_quiet_calls", None)
        logger.error("%s, %s database: %s", mode, stages.database, result["error"])
    finally:
        if hub.process and hub.process.poll() is None:
            result["hub"] = _hub_figures(hub)
        clinic.close()
        await audience.close()
        hub.stop()
        if printers:
            await printers.stop()
    stages.done("stop")
    if database:
        (folder / "navbat.sqlite3").unlink(missing_ok=True)
    return result


class Stages:
    """Log how long each part of a hub's run took, and keep the figures."""

    def __init__(self, mode: str, database: str) -> None:
        self.mode, self.database = mode, database
        self.seconds: dict[str, float] = {}
        self._last = time.monotonic()

    def done(self, stage: str) -> None:
        now = time.monotonic()
        self.seconds[stage] = round(now - self._last, 2)
        self._last = now
        logger.info(
            "%s, %s database: %s took %.1f s",
            self.mode,
            self.database,
            stage,
            self.seconds[stage],
        )


def _hub_figures(hub: hubproc.Hub) -> dict:
    sample = hub.sample()
    return {
        "cpu_s": round(sample.cpu_s, 2),
        "peak_rss_mb": round(sample.peak_rss_mb, 1),
    }


def arrival_figures(calls: dict[str, int], arrivals: dict) -> dict:
    """Match each screen's arrival to its call's send time; spread the delays."""

    def delays(kind: str) -> tuple[list[float], int]:
        matched = [
            (arrived - calls[label]) / 1e6
            for _, label, arrived in arrivals[kind]
            if label in calls
        ]
        return matched, len(matched)

    display, display_count = delays("display_calls")
    phone_line, _ = delays("phone_line_calls")
    own_phone, _ = delays("phone_own_calls")
    return {
        "call_display": report.spread(display),
        "call_phone": report.spread(phone_line + own_phone),
        "call_phone_line": report.spread(phone_line),
        "call_own_phone": report.spread(own_phone),
        "display_arrivals_expected": len(calls) * arrivals["displays"],
        "display_arrivals_seen": display_count,
        "frames_received": arrivals["frames"],
        "seq_gaps": arrivals["gaps"],
        "seq_out_of_order": arrivals["out_of_order"],
        "clients_closed": arrivals["closed"],
    }


async def set_up(args, hub: hubproc.Hub, clinic: Clinic, result: dict) -> list[dict]:
    """Sign the dentists in, issue the phones' tickets; list the clients.

    The first few tickets are issued one at a time, to time an issue alone.
    """
    await clinic.sign_in(hub.credentials(), hubproc.dentist_ids(args.dentists))
    alone = await clinic.quiet_issues(args.quiet_calls)
    result["quiet"] = {"issue": report.spread([i.latency_ms for i in alone])}
    tickets = await clinic.issue_many(args.phones - len(alone))
    tickets = alone + tickets
    refused = [t for t in tickets if t.status != 201]
    if refused:
        first = refused[0]
        answer = f"{first.status} {first.refusal}" if first.status else "no answer"
        raise RuntimeError(
            f"the hub did not issue {len(refused)} of the first {len(tickets)} "
            f"set-up tickets ({answer} within {REQUEST_TIMEOUT:g} s)"
        )
    specs = [{"kind": "display", "auth": {"audience": "display"}}] * args.displays
    specs += [{"kind": "kiosk", "auth": {"audience": "display"}}] * args.kiosks
    specs += [
        {"kind": "phone", "auth": {"audience": "ticket", "token": t.token}}
        for t in tickets
    ]
    specs += [
        {"kind": "tablet", "auth": {"audience": "staff"}, "cookie": c.cookie}
        for c in clinic.dentists.values()
    ]
    return specs


async def steady(args, hub, clinic: Clinic, audience, seconds: float) -> dict:
    """Issue and call at steady rates; measure what reached every screen."""
    await audience.command("record")
    idle = await clinic.until_idle()
    quiet_calls = await clinic.quiet_calls(args.quiet_calls)
    period = args.dentists / args.call_rate
    profiler = None
    if args.profile:
        profiler = hotspots.record(
            hub.pid,
            args.warmup + seconds,
            hub.folder / "steady.pyspy",
            threads=hub.async_mode == "threading",
        )
    with Meter(hub, audience) as meter:
        started = time.monotonic_ns()
        await asyncio.gather(
            clinic.issue_at_rate(args.issue_rate, args.warmup + seconds),
            clinic.dentists_work(period, args.warmup + seconds),
        )
        ended = time.monotonic_ns()
        await until_displays_saw_every_call(clinic, audience, args.displays)
    await audience.command("pause")
    window = (started + int(args.warmup * 1e9), ended)

    calls = {
        a.label: a.sent_ns
        for a in clinic.actions
        if a.action == "call-next" and a.status == 200 and _within(a.sent_ns, window)
    }
    window_s = (window[1] - window[0]) / 1e9
    in_window = [i for i in clinic.issues if _within(i.due_ns, window)]
    figures = {
        "window_s": round(window_s, 2),
        "calls": len(calls),
        "calls_per_s": round(len(calls) / window_s, 1),
        "issued_per_s": round(sum(i.status == 201 for i in in_window) / window_s, 1),
        "issue": report.spread([i.latency_ms for i in in_window]),
        "issue_refused": refusals(in_window),
        "call_http": report.spread(
            [
                (a.done_ns - a.sent_ns) / 1e6
                for a in clinic.actions
                if a.action == "call-next" and a.label in calls
            ]
        ),
        "dentist_action_http": report.spread(
            [
                (a.done_ns - a.sent_ns) / 1e6
                for a in clinic.actions
                if _within(a.sent_ns, window)
            ]
        ),
        "nobody_waiting": sum(a.refusal == "nobody_waiting" for a in clinic.actions),
    }
    figures.update(meter.figures())
    if profiler:
        figures["profile"] = hotspots.finish(profiler, hub.folder / "steady.pyspy")
    figures["hub_idle_before"] = idle
    figures["_calls"] = calls
    figures["_quiet_calls"] = quiet_calls
    return figures


async def until_displays_saw_every_call(clinic: Clinic, audience, displays: int):
    """Wait (a little) for the TVs to show every call already answered."""
    expected = displays * sum(
        1 for a in clinic.actions if a.action == "call-next" and a.status == 200
    )
    deadline = time.monotonic() + DRAIN_SECONDS
    while time.monotonic() < deadline:
        await asyncio.sleep(0.1)
        if (await audience.command("count"))["display_calls"] >= expected:
            break
    await asyncio.sleep(SETTLE_SECONDS)


def refusals(issued: list) -> dict[str, int]:
    """Count unissued tickets by HTTP status (0: no answer in time)."""
    return dict(Counter(str(i.status) for i in issued if i.status != 201))


def _within(moment: int, window: tuple[int, int]) -> bool:
    return window[0] <= moment < window[1]


async def sweep(args, hub, clinic: Clinic, audience) -> dict:
    """Raise the issue rate step by step until p99 passes the limit."""
    steps = []
    best = None
    profiler = None
    if args.profile:
        budget = len(args.sweep_rates) * (args.sweep_step + SETTLE_SECONDS + 1)
        profiler = hotspots.record(
            hub.pid,
            budget,
            hub.folder / "sweep.pyspy",
            threads=hub.async_mode == "threading",
        )
    for rate in args.sweep_rates:
        # Each rate starts on a hub that has caught up with the last one.
        idle = await clinic.until_idle()
        with Meter(hub, audience) as meter:
            issued = await clinic.issue_at_rate(rate, args.sweep_step)
        latencies = [i.latency_ms for i in issued]
        refused = refusals(issued)
        p99 = report.percentile(latencies, 0.99)
        ok = not refused and p99 is not None and p99 < args.sweep_limit_ms
        queue = (await clinic.get_queue())["waiting"]
        steps.append(
            {
                "rate_per_s": rate,
                "issued": len(issued),
                "refused": refused,
                "p50_ms": round(report.percentile(latencies, 0.5), 2),
                "p99_ms": round(p99, 2),
                "hub_cpu_pct": meter.figures()["hub_cpu_pct"],
                "bench_cpu_pct": meter.figures()["bench_cpu_pct"],
                "other_cpu_pct_of_machine": meter.figures()["other_cpu_pct_of_machine"],
                "hub_cpu_ms_per_ticket": round(1000 * meter.hub_cpu_s / len(issued), 2),
                "waiting_after": sum(queue.values()),
                "hub_idle_before": idle,
                "kept_up": ok,
            }
        )
        logger.info("%s sweep: %s", hub.config_path.parent.name, steps[-1])
        await asyncio.sleep(SETTLE_SECONDS)
        if not ok:
            break
        best = rate
    # 0: not even the lowest rate tried kept p99 under the limit.
    result = {
        "max_rate_per_s": best or 0,
        "lowest_rate_tried": args.sweep_rates[0],
        "limit_ms": args.sweep_limit_ms,
        "steps": steps,
    }
    if profiler:
        result["profile"] = hotspots.finish(
            profiler, hub.folder / "sweep.pyspy", timeout=0
        )
    return result
