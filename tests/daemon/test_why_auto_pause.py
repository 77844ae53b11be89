"""``jobctl jobs why`` on a job a real daemon paused after failures: the auto-pause's reason holds
its "last at" in UTC (``2026-12-07T17:58:04Z``), and ``why`` shows that instant as it shows its
other times, in the job's zone, on the change line and in the verdict."""

from __future__ import annotations

import json
import re
import time
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from tests.daemon.helpers import DaemonFactory, cli, wait_for

TOKYO = ZoneInfo("Asia/Tokyo")  # +09:00 all year: every instant moves, whatever the date


def test_why_shows_the_auto_pause_reasons_time_in_the_jobs_zone(daemons: DaemonFactory) -> None:
    daemons.start()
    created = cli(daemons, "jobs", "create", "flaky", "--cron", "* * * * * *", "--timezone", "Asia/Tokyo",
                  "--command", "exit 1", "--pause-after-failures", "1", "--json")  # fmt: skip
    assert created.returncode == 0, created.stderr

    def shown() -> dict[str, object]:
        return json.loads(cli(daemons, "jobs", "show", "flaky", "--json").stdout)  # type: ignore[no-any-return]

    job = wait_for(lambda: (found := shown())["isPaused"] and found, timeout=20, what="the auto-pause")
    reason = str(job["pausedReason"])
    [stored] = re.findall(r"last at (\S+Z)$", reason)
    time.sleep(1.5)  # a slot passes while the job is paused: the verdict is about that one
    why = cli(daemons, "jobs", "why", "flaky")
    assert (why.returncode, why.stderr) == (0, ""), why.stderr
    last = datetime.fromisoformat(stored.replace("Z", "+00:00")).astimezone(TOKYO)
    today = datetime.now(UTC).astimezone(TOKYO).date()
    local = f"{last:%H:%M:%S}" if last.date() == today else f"{last:%Y-%m-%d %H:%M:%S}"
    rewritten = reason.replace(stored, local)
    [change] = [line for line in why.stdout.splitlines() if " change " in line and "paused by jobctl" in line]
    assert f'paused by jobctl with reason "{rewritten}"' in change, why.stdout
    verdict = why.stdout.splitlines()[-1]
    assert verdict.startswith("verdict (") and f'with reason "{rewritten}"' in verdict, why.stdout
    assert stored not in why.stdout, why.stdout
