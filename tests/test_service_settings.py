"""What a reload changes in the settings the API's services take (real config files)."""

from __future__ import annotations

from pathlib import Path

from jobctl.config import load_config
from jobctl.models import RetentionPolicy
from jobctl.service.settings import ServiceSettings

STARTED = """
[scheduler]
timezone = "Europe/Berlin"
[daemon]
kill_grace_seconds = 5
path = "/usr/bin:/bin"
"""

EDITED = """
[scheduler]
timezone = "Asia/Tokyo"
[daemon]
kill_grace_seconds = 1
path = "/opt/bin"
[history]
keep_days = 7
[[concurrency_groups]]
name = "db"
limit = 2
[[notifiers]]
name = "hook"
type = "webhook"
url = "http://127.0.0.1:9/x"
"""


def test_a_reload_takes_notifiers_groups_and_history_and_keeps_what_applies_from_a_start(tmp_path: Path) -> None:
    """The zone, the kill grace and the run environment stay as the daemon's scheduler and
    runner keep them until the next start; the API must not answer by others."""
    path = tmp_path / "jobctl.toml"
    path.write_text(STARTED)
    started = ServiceSettings.of(load_config(str(path)))
    path.write_text(EDITED)
    edited = load_config(str(path))

    reloaded = started.reloaded(edited)

    assert [spec.name for spec in reloaded.notify.notifiers] == ["hook"]
    assert reloaded.concurrency_groups == frozenset({"db"})
    assert reloaded.retention == edited.retention != RetentionPolicy()
    assert (reloaded.default_timezone, reloaded.kill_grace_seconds, reloaded.notify_env["PATH"]) == (
        "Europe/Berlin",
        5,
        "/usr/bin:/bin",
    )
    assert started.notify.notifiers == (), "the settings in force are never changed in place"
