"""``GET /metrics`` of real daemons over HTTP: a leader (a token needed) and a standby serving it
publicly, both on one SQLite store, parsed with prometheus_client's parser and checked against
the store."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from jobctl.models import ExecutionStatus
from jobctl.service import Service
from jobctl.service.tokens import create_token, revoke_token
from jobctl.store import open_store
from tests.conftest import ADMIN, TEST_ZONE
from tests.daemon.helpers import DaemonFactory, DaemonProcess, shell_job, wait_for, write_config

Samples = dict[str, dict[tuple[tuple[str, str], ...], float]]


@dataclass
class Cluster:
    service: Service
    leader: DaemonProcess
    standby: DaemonProcess
    viewer_token: str
    revoked_token: str
    jobs: dict[str, str]

    def url(self, daemon: DaemonProcess) -> str:
        return f"http://127.0.0.1:{daemon.port}/metrics"


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    folder = tmp_path_factory.mktemp("metrics")
    url = f"sqlite:///{folder / 'jobctl.db'}"
    store = open_store(url)
    service = Service(store, ADMIN, default_timezone=TEST_ZONE)
    viewer, _ = create_token(store, "prometheus", "viewer")
    revoked, _ = create_token(store, "old", "viewer")
    revoke_token(store, "old")
    leading = DaemonFactory(url, write_config(folder / "leader.toml"), folder)
    public_config = write_config(folder / "standby.toml")
    public_config.write_text(public_config.read_text() + "[metrics]\npublic = true\n")
    standing_by = DaemonFactory(url, public_config, folder / "standby")
    (folder / "standby").mkdir()
    try:
        leader = leading.start(api=True)
        standby = standing_by.start(api=True)
        commands = {"ticks": "true", "breaks": "false"}
        jobs = {name: shell_job(service, name, command)["id"] for name, command in commands.items()}
        for job_id in jobs.values():
            wait_for(lambda job_id=job_id: _finished(service, job_id) >= 2, timeout=20, what="two finished runs")
            service.set_job_status(job_id, {"isPaused": True})
        wait_for(lambda: all(_active(service, job_id) == 0 for job_id in jobs.values()), timeout=20, what="runs end")
        yield Cluster(service, leader, standby, viewer, revoked, jobs)
    finally:
        leading.stop_all()
        standing_by.stop_all()
        store.close()


def _finished(service: Service, job_id: str) -> int:
    job = service.list_job_executions(job_id, per_page=1)
    return int(job["total"]) - _active(service, job_id)


def _active(service: Service, job_id: str) -> int:
    return sum(
        service.list_job_executions(job_id, status=status.value, per_page=1)["total"]
        for status in ExecutionStatus
        if status.is_active
    )


def _scrape(url: str, token: str | None = None) -> Samples:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    response = httpx.get(url, headers=headers, timeout=10)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    samples: Samples = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            samples.setdefault(sample.name, {})[tuple(sorted(sample.labels.items()))] = sample.value
    return samples


def _per_job(samples: Samples) -> Samples:
    return {name: series for name, series in samples.items() if name.startswith("jobctl_job_")}


def test_leader_serves_the_stores_figures_to_a_viewer(cluster: Cluster) -> None:
    samples = _scrape(cluster.url(cluster.leader), cluster.viewer_token)
    service = cluster.service
    for name, job_id in cluster.jobs.items():
        job = service.get_job(job_id)
        for status in ("success", "failed"):
            total = service.list_job_executions(job_id, status=status, per_page=1)["total"]
            assert samples["jobctl_job_runs_total"].get((("job", name), ("status", status)), 0) == total
        last_run = samples["jobctl_job_last_run_timestamp_seconds"]
        assert [dict(labels)["status"] for labels in last_run if dict(labels)["job"] == name] == [job["lastStatus"]]
        latest = service.list_job_executions(job_id, per_page=1)["executions"][0]
        assert samples["jobctl_job_last_duration_seconds"][(("job", name),)] == pytest.approx(latest["durationSeconds"])
        assert (("job", name),) not in samples.get("jobctl_job_next_run_timestamp_seconds", {}), "paused: no next"
    assert (("job", "breaks"),) not in samples["jobctl_job_last_success_timestamp_seconds"]
    assert samples["jobctl_job_last_success_timestamp_seconds"][(("job", "ticks"),)] > 0
    assert "jobctl_job_running" not in samples, "no run goes on"
    assert samples["jobctl_scheduler_leader"][()] == 1
    assert samples["jobctl_scheduler_live_instances"][()] == 2
    assert samples["jobctl_scheduler_lease_term"][()] >= 1
    assert samples["jobctl_scheduler_lateness_seconds_count"][()] >= 4, "every scheduled run was observed"
    assert samples["jobctl_scheduler_claim_batch_duration_seconds_count"][()] >= 2, "one batch may claim both jobs"
    assert samples["jobctl_store_round_trip_seconds"][()] > 0


def test_standby_serves_the_same_job_figures_without_a_token_when_public(cluster: Cluster) -> None:
    public = _scrape(cluster.url(cluster.standby))
    leader = _scrape(cluster.url(cluster.leader), cluster.viewer_token)
    assert _per_job(public) == _per_job(leader)
    assert public["jobctl_scheduler_leader"][()] == 0
    assert public["jobctl_scheduler_lateness_seconds_count"][()] == 0, "a standby starts no run"
    assert "[metrics] public = true" in cluster.standby.log()
    assert "[metrics] public" not in cluster.leader.log()


@pytest.mark.parametrize("token", [None, "not-a-token", "revoked"], ids=["missing", "unknown", "revoked"])
def test_leader_refuses_a_scrape_without_a_valid_token(cluster: Cluster, token: str | None) -> None:
    secret = cluster.revoked_token if token == "revoked" else token
    headers = {"Authorization": f"Bearer {secret}"} if secret else {}
    response = httpx.get(cluster.url(cluster.leader), headers=headers, timeout=10)
    assert response.status_code == 401
    assert "detail" in response.json() and "jobctl_" not in response.text


def test_config_refuses_a_public_flag_that_is_not_a_boolean(tmp_path: Path) -> None:
    from jobctl.config import load_config
    from jobctl.errors import UsageError

    path = tmp_path / "jobctl.toml"
    path.write_text('[metrics]\npublic = "yes"\n')
    with pytest.raises(UsageError, match=r"\[metrics\] public must be true or false, not \"yes\""):
        load_config(str(path))
    path.write_text("[metrics]\nopen = true\n")
    with pytest.raises(UsageError, match="unknown key 'open' in \\[metrics\\]"):
        load_config(str(path))
