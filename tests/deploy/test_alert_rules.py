"""The alert rules (deploy/prometheus/alerts.yml), proved with `promtool test rules`.

deploy/prometheus/alerts_test.yml feeds the rules series (a full registration outage with the
targets down and with them gone, 5xx, latency, broker-side lag of a dead consumer group, a
healthy system) and says which alerts fire when. Here it runs, every rule is held to having a
runbook section in docs/operations.md, and deliberately broken copies of the rules are shown to
fail the same tests, so a rule that stops catching its outage cannot pass unnoticed.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).parents[2]
PROMETHEUS = ROOT / "deploy" / "prometheus"
RULES = PROMETHEUS / "alerts.yml"
RULE_TESTS = PROMETHEUS / "alerts_test.yml"
OPERATIONS = ROOT / "docs" / "operations.md"


def promtool() -> str:
    found = shutil.which("promtool") or ROOT / ".cache" / "bin" / "promtool"
    if not Path(found).is_file():
        pytest.fail(
            "promtool is not installed: run `make promtool` (takes it from Debian's prometheus "
            "package into .cache/bin), or `apt-get install prometheus`"
        )
    return str(found)


def run_rule_tests(folder: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [promtool(), "test", "rules", str(folder / RULE_TESTS.name)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def rules(document: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    document = document or yaml.safe_load(RULES.read_text())
    return [rule for group in document["groups"] for rule in group["rules"]]


def test_the_rules_pass_their_promtool_tests() -> None:
    result = run_rule_tests(PROMETHEUS)

    assert result.returncode == 0, result.stdout + result.stderr


def test_the_healthy_case_checks_that_every_alert_stays_silent() -> None:
    tests = yaml.safe_load(RULE_TESTS.read_text())["tests"]
    (healthy,) = [t for t in tests if t["name"] == "healthy"]

    silent = {c["alertname"] for c in healthy["alert_rule_test"] if c["exp_alerts"] == []}

    assert silent == {rule["alert"] for rule in rules()}


def test_every_alert_fires_in_some_test() -> None:
    tests = yaml.safe_load(RULE_TESTS.read_text())["tests"]
    fired = {c["alertname"] for t in tests for c in t["alert_rule_test"] if c["exp_alerts"]}

    assert fired == {rule["alert"] for rule in rules()}


def anchors(markdown: str) -> set[str]:
    """GitHub's anchors for the headings of a Markdown file."""
    found = set()
    for line in markdown.splitlines():
        heading = re.match(r"#+\s+(.*)", line)
        if heading:
            text = re.sub(r"[^\w\- ]", "", heading.group(1).strip().lower())
            found.add(text.replace(" ", "-"))
    return found


def test_every_rule_links_a_runbook_section_that_exists() -> None:
    sections = anchors(OPERATIONS.read_text())
    for rule in rules():
        url = rule["annotations"]["runbook_url"]
        page, _, anchor = url.partition("#")
        assert page == "docs/operations.md", rule["alert"]
        assert anchor in sections, f"{rule['alert']}: no section #{anchor} in {page}"
        assert rule["labels"]["severity"] in {"warning", "critical"}


def test_database_gauges_are_never_summed_across_replicas() -> None:
    # Every replica reads the same table: a sum counts the outbox once per replica.
    summed = re.compile(
        r"\bsum\b(?:\s*(?:by|without)\s*\([^)]*\))?\s*\((?:\s*[a-z_]+\()*"
        r"\s*tilmeld_(?:outbox_|notification_states)"
    )
    for rule in rules():
        assert not summed.search(rule["expr"]), f"{rule['alert']} sums a database gauge"
    assert summed.search("sum by (job) (deriv(tilmeld_outbox_backlog[5m]))")


# Broken rules fail the tests ------------------------------------------------------------------


def rule_named(document: dict[str, Any], name: str) -> dict[str, Any]:
    (rule,) = [r for r in rules(document) if r.get("alert") == name]
    return rule


def drop_absent(rule: dict[str, Any]) -> None:
    """Keep only the first line of the expression: the `up == 0`/`< 1` part, no `absent`."""
    rule["expr"] = rule["expr"].strip().splitlines()[0]


BREAKAGES: dict[str, Callable[[dict[str, Any]], None]] = {
    "ServiceDown without absent": lambda d: drop_absent(rule_named(d, "ServiceDown")),
    "ServiceDown on any one target": lambda d: rule_named(d, "ServiceDown").update(
        expr='min by (job) (up{job=~"registration|notification|reporting"}) == 2'
    ),
    "NoRelayLeader without absent": lambda d: drop_absent(rule_named(d, "NoRelayLeader")),
    "NoRelayLeader waiting too long": lambda d: rule_named(d, "NoRelayLeader").update(
        {"for": "10m"}
    ),
    "5xx threshold too high": lambda d: rule_named(d, "HighErrorRate").update(
        expr=rule_named(d, "HighErrorRate")["expr"].replace("0.05", "0.5")
    ),
    "lag from the consumers' own gauge": lambda d: rule_named(d, "ConsumerLagHigh").update(
        expr="sum by (service) (tilmeld_consumer_lag) > 1000"
    ),
    "stalls judged per group, not per partition": lambda d: rule_named(d, "ConsumerStalled").update(
        expr='sum by (consumergroup) (kafka_consumergroup_lag{consumergroup=~"tilmeld-.+"}) > 0 '
        "and sum by (consumergroup) (delta(kafka_consumergroup_current_offset[15m])) == 0"
    ),
    "backlog summed across relays": lambda d: rule_named(d, "OutboxBacklogGrowing").update(
        expr=rule_named(d, "OutboxBacklogGrowing")["expr"].replace("max(", "sum(")
    ),
    "an alert firing when healthy": lambda d: rule_named(d, "TargetDown").update(
        expr=rule_named(d, "TargetDown")["expr"].replace("== 0", ">= 0")
    ),
}


@pytest.mark.parametrize("breakage", BREAKAGES)
def test_a_broken_rule_fails_the_rule_tests(breakage: str, tmp_path: Path) -> None:
    document = yaml.safe_load(RULES.read_text())
    BREAKAGES[breakage](document)
    (tmp_path / RULES.name).write_text(yaml.safe_dump(document, sort_keys=False))
    shutil.copy(RULE_TESTS, tmp_path / RULE_TESTS.name)

    result = run_rule_tests(tmp_path)

    assert result.returncode != 0, f"the rule tests pass with {breakage}"
    assert "FAILED" in result.stdout + result.stderr
