"""``GET /executions/{id}/log`` of a run whose output retention removed, from a real daemon over
HTTP: the body keeps the contract's three keys, and the ``X-Jobctl-Output-Pruned`` header says
what the empty log alone cannot (a run that printed nothing reads the same); ``executions tail``
says it on stderr, exit 0, through the API as on the store."""

from __future__ import annotations

import httpx

from jobctl.models import RetentionPolicy
from jobctl.service.retention import prune_store
from jobctl.service.tokens import create_token
from jobctl.store import Store
from tests.daemon.helpers import DaemonFactory, cli
from tests.store.helpers import NOW, add_executions, add_job, days

API = "/api/v1/scheduler"
OUTPUT_PRUNED_HEADER = "X-Jobctl-Output-Pruned"
PRUNED_LINE = "jobctl: output pruned: older than [history] output_keep_days\n"


def test_the_log_of_a_pruned_run_says_so_in_a_header_and_tail_on_stderr(store: Store, daemons: DaemonFactory) -> None:
    job = add_job(store.db, "j")
    old, new = add_executions(store.db, job, days(5, 0.1), output="hello\n")
    [silent] = add_executions(store.db, job, days(0.2))  # printed nothing: its log is empty too
    report = prune_store(store, RetentionPolicy(keep_days=90, keep_per_job=1000, output_keep_days=1), now=NOW)
    assert report.removed["outputs"] == 1
    secret, _ = create_token(store, "reader", "viewer")
    daemon = daemons.start(api=True)
    base = f"http://127.0.0.1:{daemon.port}"

    with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {secret}"}, timeout=10) as client:
        answers = {run: client.get(f"{API}/executions/{run}/log") for run in (old, new, silent)}
        aliased = client.get(f"/api/setting/scheduler/executions/{old}/log")

    for answer in (*answers.values(), aliased):
        assert answer.status_code == 200 and set(answer.json()) == {"data", "nextOffset", "complete"}, answer.text
    assert answers[old].json() == {"data": "", "nextOffset": 0, "complete": True}
    assert answers[old].headers[OUTPUT_PRUNED_HEADER] == "true" == aliased.headers[OUTPUT_PRUNED_HEADER]
    assert answers[silent].json() == answers[old].json(), "the body alone cannot tell them apart"
    assert answers[silent].headers[OUTPUT_PRUNED_HEADER] == "false"
    assert answers[new].json()["data"] == "hello\n" and answers[new].headers[OUTPUT_PRUNED_HEADER] == "false"

    remote = ("--api", base)
    for mode in ((), remote):
        tailed = cli(daemons, *mode, "executions", "tail", old, token=secret)
        assert (tailed.returncode, tailed.stdout, tailed.stderr) == (0, "", PRUNED_LINE), (mode, tailed)
        kept = cli(daemons, *mode, "executions", "tail", new, token=secret)
        assert (kept.returncode, kept.stdout, kept.stderr) == (0, "hello\n", ""), (mode, kept)
