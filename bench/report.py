"""Percentiles, the figures latest.json promises, the table and the targets."""

from __future__ import annotations

import math

TARGETS = {
    "call_display_p99_ms": ("<=", 20.0),
    "issue_p99_ms": ("<=", 25.0),
    "max_issue_rate_per_s": (">=", 300.0),
    "peak_rss_mb": ("<=", 200.0),
}
HISTORY_SLACK = 0.10
"""With history, p99s may be at most this much above the empty database's."""


def percentile(values: list[float], fraction: float) -> float | None:
    """Return the nearest-rank percentile of values (None when there are none)."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[rank - 1]


def spread(values: list[float]) -> dict:
    """Return count, p50, p95, p99 and max of values, rounded to 0.01."""
    figures = {"count": len(values)}
    for name, fraction in (("p50", 0.5), ("p95", 0.95), ("p99", 0.99)):
        figures[name] = _round(percentile(values, fraction))
    figures["max"] = _round(max(values)) if values else None
    return figures


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def headline(mode: dict) -> dict:
    """Pick the flat figures latest.json promises from one mode's full results."""
    figures = {}
    for key, path in HEADLINE.items():
        figures[key] = _pick(mode, path)
    history = mode.get("history")
    figures["history_tickets"] = history["tickets"] if history else 0
    if history:
        for key, path in WITH_HISTORY.items():
            figures[key] = _pick(history, path)
        figures["history_stopped_early"] = history.get("error")
    figures["stopped_early"] = mode.get("error")
    return figures


def _pick(result: dict, path: str):
    value = result
    for step in path.split("."):
        if not isinstance(value, dict) or step not in value:
            return None
        value = value[step]
    return value


HEADLINE = {
    "call_display_p50_ms": "steady.call_display.p50",
    "call_display_p95_ms": "steady.call_display.p95",
    "call_display_p99_ms": "steady.call_display.p99",
    "call_display_max_ms": "steady.call_display.max",
    "call_phone_p50_ms": "steady.call_phone.p50",
    "call_phone_p95_ms": "steady.call_phone.p95",
    "call_phone_p99_ms": "steady.call_phone.p99",
    "call_phone_max_ms": "steady.call_phone.max",
    "call_own_phone_p99_ms": "steady.call_own_phone.p99",
    "call_http_p50_ms": "steady.call_http.p50",
    "call_http_p99_ms": "steady.call_http.p99",
    "issue_p50_ms": "steady.issue.p50",
    "issue_p99_ms": "steady.issue.p99",
    "issue_max_ms": "steady.issue.max",
    "max_issue_rate_per_s": "sweep.max_rate_per_s",
    "quiet_issue_p50_ms": "quiet.issue.p50",
    "quiet_call_display_p50_ms": "quiet.call_display.p50",
    "quiet_call_display_max_ms": "quiet.call_display.max",
    "calls_per_s": "steady.calls_per_s",
    "issued_per_s": "steady.issued_per_s",
    "hub_cpu_s": "hub.cpu_s",
    "hub_cpu_steady_pct": "steady.hub_cpu_pct",
    "peak_rss_mb": "hub.peak_rss_mb",
}
WITH_HISTORY = {
    "quiet_issue_p50_ms_with_history": "quiet.issue.p50",
    "quiet_call_display_p50_ms_with_history": "quiet.call_display.p50",
    "call_display_p50_ms_with_history": "steady.call_display.p50",
    "call_display_p99_ms_with_history": "steady.call_display.p99",
    "call_phone_p99_ms_with_history": "steady.call_phone.p99",
    "issue_p50_ms_with_history": "steady.issue.p50",
    "issue_p99_ms_with_history": "steady.issue.p99",
    "peak_rss_mb_with_history": "hub.peak_rss_mb",
}


def verdicts(figures: dict) -> dict[str, str]:
    """Say, per target of issue #3, "met", "missed" or "not measured"."""
    result = {}
    for key, (op, limit) in TARGETS.items():
        value = figures.get(key)
        # A hub that stopped early, or answered no call in the whole steady
        # part, missed the target rather than left it unmeasured.
        if value is None and (
            figures.get("stopped_early") or figures.get("calls_per_s") == 0
        ):
            result[key] = "missed"
        else:
            result[key] = _verdict(value, op, limit)
    for key in ("call_display_p99_ms", "issue_p99_ms"):
        with_history = figures.get(f"{key}_with_history")
        base = figures.get(key)
        if with_history is None and figures.get("history_stopped_early"):
            # The hub could not even take the load: that is a miss, not a gap.
            result[f"{key}_with_history"] = "missed"
        elif with_history is None or base is None:
            result[f"{key}_with_history"] = "not measured"
        else:
            result[f"{key}_with_history"] = _verdict(
                with_history, "<=", base * (1 + HISTORY_SLACK)
            )
    return result


def _verdict(value, op: str, limit: float) -> str:
    if value is None:
        return "not measured"
    ok = value <= limit if op == "<=" else value >= limit
    return "met" if ok else "missed"


ROWS = [
    ("one issue alone, p50 (ms)", "quiet_issue_p50_ms", None),
    ("one call alone -> display p50 (ms)", "quiet_call_display_p50_ms", None),
    ("one call alone -> display max (ms)", "quiet_call_display_max_ms", None),
    ("calls made (/s)", "calls_per_s", None),
    ("tickets issued (/s)", "issued_per_s", None),
    ("call -> display p50 (ms)", "call_display_p50_ms", None),
    ("call -> display p95 (ms)", "call_display_p95_ms", None),
    ("call -> display p99 (ms)", "call_display_p99_ms", "<= 20"),
    ("call -> display max (ms)", "call_display_max_ms", None),
    ("call -> phone p50 (ms)", "call_phone_p50_ms", None),
    ("call -> phone p95 (ms)", "call_phone_p95_ms", None),
    ("call -> phone p99 (ms)", "call_phone_p99_ms", None),
    ("call -> phone max (ms)", "call_phone_max_ms", None),
    ("call -> its own phone p99 (ms)", "call_own_phone_p99_ms", None),
    ("call HTTP answer p50 (ms)", "call_http_p50_ms", None),
    ("call HTTP answer p99 (ms)", "call_http_p99_ms", None),
    ("issue p50 (ms)", "issue_p50_ms", None),
    ("issue p99 (ms)", "issue_p99_ms", "<= 25"),
    ("issue max (ms)", "issue_max_ms", None),
    ("max issue rate, p99 < 100 ms (/s)", "max_issue_rate_per_s", ">= 300"),
    ("hub CPU, whole run (s)", "hub_cpu_s", None),
    ("hub CPU while steady (% of a core)", "hub_cpu_steady_pct", None),
    ("hub peak RSS (MB)", "peak_rss_mb", "<= 200"),
    ("history tickets", "history_tickets", None),
    ("  one issue alone, p50 (ms)", "quiet_issue_p50_ms_with_history", None),
    (
        "  one call alone -> display p50 (ms)",
        "quiet_call_display_p50_ms_with_history",
        None,
    ),
    ("  call -> display p50 (ms)", "call_display_p50_ms_with_history", None),
    ("  call -> display p99 (ms)", "call_display_p99_ms_with_history", "+10 %"),
    ("  call -> phone p99 (ms)", "call_phone_p99_ms_with_history", None),
    ("  issue p50 (ms)", "issue_p50_ms_with_history", None),
    ("  issue p99 (ms)", "issue_p99_ms_with_history", "+10 %"),
    ("  hub peak RSS (MB)", "peak_rss_mb_with_history", None),
]


def table(figures_by_mode: dict[str, dict], lowest_rate: float | None = None) -> str:
    """Lay the figures out with one column per async mode and the targets."""
    modes = list(figures_by_mode)
    width = max(len(label) for label, _, _ in ROWS) + 2
    lines = [f"{'':{width}}" + "".join(f"{m:>12}" for m in modes) + f"{'target':>10}"]
    for label, key, target in ROWS:
        values = [figures_by_mode[m].get(key) for m in modes]
        if key == "max_issue_rate_per_s" and lowest_rate:
            values = [f"< {lowest_rate:g}" if v == 0 else v for v in values]
        cells = "".join(_cell(v) for v in values)
        lines.append(f"{label:{width}}{cells}{target or '':>10}")
    return "\n".join(lines)


def _cell(value) -> str:
    if value is None:
        return f"{'-':>12}"
    if isinstance(value, str):
        return f"{value:>12}"
    if isinstance(value, float):
        return f"{value:>12.1f}" if value >= 100 else f"{value:>12.2f}"
    return f"{value:>12,}"
