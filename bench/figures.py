"""The figures table, from the JSON the benchmarks wrote (artifacts/bench-*.json).

    .venv/bin/python -m bench.figures

Writes the table into docs/figures.md and a compact one into README.md, each between its
`<!-- figures:start -->` and `<!-- figures:end -->` markers, every row with its bar and whether
this run met it. A benchmark that did not run (its file missing) shows as "not measured".
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ARTIFACTS = Path("artifacts")
# api-pinned: the API benchmark again with its load generator on a core of its own (BENCH_PIN=1).
BENCHES = ("api", "api-pinned", "end-to-end", "notification", "reporting")
START, END = "<!-- figures:start -->", "<!-- figures:end -->"
RSS_BAR_MB = 150


@dataclass(frozen=True)
class Row:
    what: str
    figure: str
    bar: str
    met: bool | None  # None: no bar, or not measured
    command: str


def load(folder: Path) -> dict[str, dict[str, Any]]:
    runs = {}
    for name in BENCHES:
        path = folder / f"bench-{name}.json"
        if path.exists():
            runs[name] = json.loads(path.read_text())
    return runs


def pick(data: dict[str, Any] | None, *keys: str) -> Any:
    """The first of `keys` present in `data` (benchmarks have named a figure differently)."""
    for key in keys:
        if data and data.get(key) is not None:
            return data[key]
    return None


def number(value: float | None, unit: str = "", digits: int = 0) -> str:
    if value is None:
        return "not measured"
    return f"{value:,.{digits}f}{unit}"


def at_most(value: float | None, bar: float) -> bool | None:
    return None if value is None else value <= bar


def at_least(value: float | None, bar: float) -> bool | None:
    return None if value is None else value >= bar


def open_loop_p99(api: dict[str, Any] | None, rate: int) -> float | None:
    """The p99 of the open loop at `rate` offered per second, if that rate ran."""
    row = next(
        (row for row in pick(api, "open_loop") or [] if row.get("offered_per_s") == rate), None
    )
    return row.get("p99_ms") if row else None


def api_rows(api: dict[str, Any] | None) -> list[Row]:
    command = "`make bench-api`"
    raw = pick(api, "raw_registration_shaped_tps")
    saturation = pick(api, "api_saturation_registrations_per_s")
    share = pick(api, "api_share_of_raw_transactions")
    floor = pick(api, "http_floor_per_s")
    floor_share = pick(api, "http_floor_share_of_raw_transactions")
    p99_250 = open_loop_p99(api, 250)
    replicas = pick(api, "api_replicas") or 1
    alone = pick(api, "api_saturation_one_replica_per_s")
    alone_share = pick(api, "api_one_replica_share_of_raw_transactions")
    rows = [
        Row("raw registration-shaped transaction", number(raw, " TPS"), "", None, command),
        Row(
            "registration API at saturation"
            + (f", {replicas} replicas (one process per core)" if replicas > 1 else ""),
            f"{number(saturation, '/s')} = {number(share, ' x raw', 3)}"
            if saturation is not None
            else "not measured",
            ">= 0.30 x raw",
            at_least(share, 0.30),
            command,
        ),
    ]
    if alone is not None and replicas > 1:
        rows.append(
            Row(
                "registration API at saturation, one process",
                f"{number(alone, '/s')} = {number(alone_share, ' x raw', 3)}",
                "",
                None,
                command,
            )
        )
    return [
        *rows,
        Row(
            "HTTP floor: the same service answering its liveness check (no database)",
            f"{number(floor, '/s')} = {number(floor_share, ' x raw', 3)}"
            if floor is not None
            else "not measured",
            "",
            None,
            command,
        ),
        Row(
            "open loop at 250/s, p99 POST",
            number(p99_250, " ms", 1),
            "<= 20 ms",
            at_most(p99_250, 20),
            command,
        ),
    ]


def pinned_api_rows(api: dict[str, Any] | None) -> list[Row]:
    """The API's saturation with the stack on CPU 0 and the load generator on CPU 1: the figure
    beside a bar two shared cores do not reach. The bars are for the stack on both cores, so
    these rows have none: with one core the stack saturates far sooner."""
    if api is None:
        return []
    command = "`make bench-api-pinned`"
    raw = pick(api, "raw_registration_shaped_tps")
    saturation = pick(api, "api_saturation_registrations_per_s")
    share = pick(api, "api_share_of_raw_transactions")
    p99_250 = open_loop_p99(api, 250)
    return [
        Row(
            "registration API at saturation, load generator pinned to its own core",
            f"{number(saturation, '/s')} = {number(share, ' x raw', 3)} (raw {number(raw, ' TPS')})"
            if saturation is not None
            else "not measured",
            "",
            None,
            command,
        ),
        Row(
            "open loop at 250/s, p99 POST, load generator pinned to its own core",
            number(p99_250, " ms", 1),
            "",
            None,
            command,
        ),
    ]


def end_to_end_rows(e2e: dict[str, Any] | None) -> list[Row]:
    command = "`make bench-end-to-end`"
    rate = pick(e2e, "offered_per_s") or 200
    seconds = pick(e2e, "seconds")
    load = f"{rate}/s" + (f" for {seconds:g} s" if seconds else "")
    report = pick(e2e, "post_to_report") or {}
    email = pick(e2e, "post_to_email") or {}
    drained = pick(e2e, "back_to_zero_after_load_s") or {}
    # The strictest lag of each stage: the outbox, and each consumer's committed offsets.
    stages = {
        "outbox": drained.get("outbox"),
        "notification": drained.get("notification_committed_lag"),
        "reporting": drained.get("reporting_committed_lag"),
    }
    stalled = [name for name, value in stages.items() if e2e and value is None]
    slowest = max((v for v in stages.values() if v is not None), default=None)
    lag_figure = (
        " / ".join(f"{name} {number(value, ' s', 2)}" for name, value in stages.items())
        if e2e
        else "not measured"
    )
    backlog = pick(e2e, "backlog")
    catch_up = (
        f"notification {number(pick(e2e, 'notification_catch_up_emails_per_s'), ' emails/s')}, "
        f"reporting {number(pick(e2e, 'reporting_catch_up_per_s'), ' facts/s')}"
    )
    return [
        Row(
            f"end to end at {load}: POST -> report",
            f"p50 {number(report.get('p50_ms'), ' ms')}, p99 {number(report.get('p99_ms'), ' ms')}",
            "p99 <= 250 ms",
            at_most(report.get("p99_ms"), 250),
            command,
        ),
        Row(
            f"end to end at {load}: POST -> email accepted by SMTP",
            f"p50 {number(email.get('p50_ms'), ' ms')}, p99 {number(email.get('p99_ms'), ' ms')}",
            "p99 <= 1 s",
            at_most(email.get("p99_ms"), 1000),
            command,
        ),
        Row(
            "lags back to 0 after the load stops: outbox / notification / reporting",
            lag_figure,
            "each <= 2 s",
            None if not e2e else (not stalled and at_most(slowest, 2.0)),
            command,
        ),
        Row(
            f"catch-up from a {backlog or 0:,}-registration backlog, all three services running",
            catch_up if backlog else "not measured",
            "",
            None,
            command,
        ),
    ]


def notification_rows(notification: dict[str, Any] | None) -> list[Row]:
    command = "`make bench-notification`"
    rate = pick(notification, "emails_per_s", "emails_per_second")
    raw = pick(notification, "raw_emails_per_s")
    emails = pick(notification, "emails")
    window = pick(notification, "crash_window_p99_ms_at_most", "crash_window_p99_ms")
    backlog = f" from a {emails:,}-email backlog" if emails else ""
    return [
        Row(
            f"notification catch-up{backlog}",
            number(rate, " emails/s")
            + (f" (raw send of prebuilt messages {number(raw, '/s')})" if raw else ""),
            ">= 1,000 emails/s",
            at_least(rate, 1000),
            command,
        ),
        Row(
            "crash window: SMTP acceptance -> `sent` committed",
            f"p99 <= {number(window, ' ms', 1)}" if window is not None else "not measured",
            "p99 <= 50 ms",
            at_most(window, 50),
            command,
        ),
    ]


def reporting_rows(reporting: dict[str, Any] | None) -> list[Row]:
    command = "`make bench-reporting`"
    rate = pick(reporting, "reporting_catch_up_events_per_s")
    share = pick(reporting, "catch_up_share_of_raw_consume")
    raw = pick(reporting, "raw_aiokafka_consume_events_per_s")
    return [
        Row(
            "reporting catch-up",
            f"{number(rate, ' events/s')} = {number(share, ' x raw consume', 3)}"
            f" ({number(raw, '/s')})"
            if rate is not None
            else "not measured",
            ">= 20,000 events/s and >= 0.10 x raw",
            None if rate is None else bool(rate >= 20_000 and (share or 0) >= 0.10),
            command,
        )
    ]


def footprint_rows(runs: dict[str, dict[str, Any]]) -> list[Row]:
    """Each service's highest peak RSS over every benchmark that ran it."""
    peaks: dict[str, tuple[float, str]] = {}

    def note(service: str, value: float | None, bench: str) -> None:
        if value is not None and value > peaks.get(service, (0.0, ""))[0]:
            peaks[service] = (value, bench)

    for service, value in (pick(runs.get("end-to-end"), "peak_rss_mb") or {}).items():
        note(service, value, "end-to-end")
    note("registration", pick(runs.get("api"), "registration_peak_rss_mb"), "api")
    note("notification", pick(runs.get("notification"), "notification_peak_rss_mb"), "notification")
    note("reporting", pick(runs.get("reporting"), "reporting_peak_rss_mb"), "reporting")
    extra = set(peaks) - {"registration", "notification", "reporting"}  # a relay process
    return [
        Row(
            f"{service} peak RSS (VmHWM)",
            number(peaks[service][0] if service in peaks else None, " MB", 1),
            f"< {RSS_BAR_MB} MB",
            None if service not in peaks else peaks[service][0] < RSS_BAR_MB,
            f"`make bench-{peaks[service][1]}`" if service in peaks else "`make bench`",
        )
        for service in ("registration", "notification", "reporting", *sorted(extra))
    ]


def flame_graph_row(folder: Path) -> Row:
    graphs = sorted(path.name for path in folder.glob("flame-*.svg"))
    services = {"registration", "notification", "reporting"}
    covered = {service for service in services if any(service in name for name in graphs)}
    return Row(
        "py-spy flame graphs under load",
        ", ".join(f"`artifacts/{name}`" for name in graphs) or "none",
        "one per service",
        covered == services,
        "`make bench`",
    )


def rows(runs: dict[str, dict[str, Any]], folder: Path) -> list[Row]:
    return [
        *api_rows(runs.get("api")),
        *pinned_api_rows(runs.get("api-pinned")),
        *end_to_end_rows(runs.get("end-to-end")),
        *notification_rows(runs.get("notification")),
        *reporting_rows(runs.get("reporting")),
        *footprint_rows(runs),
        flame_graph_row(folder),
    ]


def verdict(met: bool | None) -> str:
    return {True: "met", False: "**not met**", None: "-"}[met]


def full_table(table: list[Row], runs: dict[str, dict[str, Any]], folder: Path) -> str:
    lines = [
        "| what | figure | bar | met | reproduce |",
        "|---|---|---|---|---|",
        *(
            f"| {r.what} | {r.figure} | {r.bar or '-'} | {verdict(r.met)} | {r.command} |"
            for r in table
        ),
    ]
    return "\n".join([*lines, "", conditions(runs, folder)])


def compact_table(table: list[Row], runs: dict[str, dict[str, Any]], folder: Path) -> str:
    lines = [
        "| what | figure | bar | met |",
        "|---|---|---|---|",
        *(f"| {r.what} | {r.figure} | {r.bar} | {verdict(r.met)} |" for r in table if r.bar),
    ]
    return "\n".join([*lines, "", conditions(runs, folder)])


def conditions(runs: dict[str, dict[str, Any]], folder: Path) -> str:
    """When the JSON was written and whether the load generator had a core of its own."""
    written = [(folder / f"bench-{name}.json").stat().st_mtime for name in runs]
    when = time.strftime("%Y-%m-%d", time.gmtime(max(written))) if written else "never"
    pinned = {name for name, data in runs.items() if data.get("pinned")}
    how = (
        f"the load generator pinned to its own core (`BENCH_PIN=1`) in {', '.join(sorted(pinned))}"
        if pinned
        else "the load generator sharing the machine's cores with what it measures"
    )
    missing = [name for name in BENCHES if name not in runs]
    return (
        f"Generated by `python -m bench.figures` from `artifacts/bench-*.json` ({when}), {how}"
        + (f"; not run: {', '.join(missing)}" if missing else "")
        + "."
    )


def replace_between_markers(path: Path, content: str) -> None:
    text = path.read_text()
    head, found, rest = text.partition(START)
    _, ended, tail = rest.partition(END)
    if not (found and ended):
        raise SystemExit(f"{path} has no {START} ... {END} markers")
    path.write_text(f"{head}{START}\n{content}\n{END}{tail}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--artifacts", type=Path, default=ARTIFACTS)
    parser.add_argument("--figures", type=Path, default=Path("docs/figures.md"))
    parser.add_argument("--readme", type=Path, default=Path("README.md"))
    args = parser.parse_args()
    runs = load(args.artifacts)
    table = rows(runs, args.artifacts)
    replace_between_markers(args.figures, full_table(table, runs, args.artifacts))
    replace_between_markers(args.readme, compact_table(table, runs, args.artifacts))
    print(full_table(table, runs, args.artifacts))


if __name__ == "__main__":
    main()
