"""The example Prometheus alert rules in contrib/ parse, and name only metrics jobctl serves."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from jobctl.daemon.metrics import daemon_exposition
from jobctl.scheduler.stats import SchedulerStats
from jobctl.store import open_store

CONTRIB = Path(__file__).resolve().parents[1] / "contrib" / "prometheus"


def _served_names(sqlite_url: str) -> set[str]:
    """Every sample name the exposition of a (new, empty) store can carry, from its TYPE lines."""
    store = open_store(sqlite_url)
    try:
        text = daemon_exposition(store, SchedulerStats(), lambda: True).render().decode()
    finally:
        store.close()
    names: set[str] = set()
    for name, kind in re.findall(r"^# TYPE (\S+) (\S+)$", text, flags=re.M):
        names.add(name)
        if kind == "histogram":
            names |= {f"{name}_bucket", f"{name}_sum", f"{name}_count"}
    return names


def test_alert_rules_parse_and_use_only_served_metrics(sqlite_url: str) -> None:
    document = yaml.safe_load((CONTRIB / "jobctl-alerts.yml").read_text())
    rules = [rule for group in document["groups"] for rule in group["rules"]]
    assert {rule["alert"] for rule in rules} == {"JobctlJobFailed", "JobctlJobNoRecentSuccess", "JobctlNoLeader"}
    served = _served_names(sqlite_url)
    assert "jobctl_job_runs_total" in served and "jobctl_scheduler_lateness_seconds_bucket" in served
    for rule in rules:
        used = set(re.findall(r"\bjobctl_[a-z_]+", rule["expr"]))
        assert used, rule["alert"]
        assert used <= served, (rule["alert"], used - served)
        assert rule["annotations"]["summary"] and rule["labels"]["severity"] in ("warning", "critical")


def test_scrape_config_keeps_the_job_label() -> None:
    document = yaml.safe_load((CONTRIB / "scrape-config.yml").read_text())
    [job] = document["scrape_configs"]
    assert job["honor_labels"] is True
    assert "credentials_file" in job["authorization"]
