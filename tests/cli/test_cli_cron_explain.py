"""``jobctl cron explain``: fields, English, next instants (DST days, month ends), lint, errors.

Every schedule is computed from a fixed ``--from`` time, so the expected instants are exact.
The command must never open or create a store: it is run against a store URL that does not
exist (and one that cannot be reached) to prove it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.cli.helpers import OneStoreCli, check_error, check_ok


def explain_json(cli: OneStoreCli, *args: str) -> Any:
    return json.loads(check_ok(cli("cron", "explain", *args, "--json")).stdout)


def utcs(document: Any) -> list[str]:
    return [instant["utc"] for instant in document["next"]]


def test_json_shape_and_weekday_schedule(sqlite_only_cli: OneStoreCli) -> None:
    document = explain_json(sqlite_only_cli, "0 9 * * MON-FRI", "--timezone", "Europe/Berlin", "-n", "3",
                            "--from", "2026-03-27T00:00:00Z")  # fmt: skip
    assert document == {
        "expression": "0 9 * * MON-FRI",
        "fields": {"second": "0", "minute": "0", "hour": "9", "day": "*", "month": "*", "day_of_week": "mon-fri"},
        "description": "At 09:00, Monday through Friday",
        "timezone": "Europe/Berlin",
        "next": [
            {"local": "2026-03-27T09:00:00+01:00", "utc": "2026-03-27T08:00:00Z"},
            {"local": "2026-03-30T09:00:00+02:00", "utc": "2026-03-30T07:00:00Z"},
            {"local": "2026-03-31T09:00:00+02:00", "utc": "2026-03-31T07:00:00Z"},
        ],
        "warnings": [],
    }


def test_default_count_is_five_and_default_zone_is_the_configs(sqlite_only_cli: OneStoreCli) -> None:
    document = explain_json(sqlite_only_cli, "@daily", "--from", "2026-07-01T12:00")
    assert document["timezone"] == "Europe/Berlin"  # [scheduler] timezone of the fixture's config
    assert document["fields"] == {"second": "0", "minute": "0", "hour": "0", "day": "*", "month": "*",
                                  "day_of_week": "*"}  # fmt: skip
    assert utcs(document) == [f"2026-07-0{day}T22:00:00Z" for day in range(1, 6)]


def test_missing_time_on_the_spring_dst_day_runs_at_the_jump(sqlite_only_cli: OneStoreCli) -> None:
    document = explain_json(sqlite_only_cli, "30 2 * * *", "--timezone", "Europe/Berlin", "-n", "3",
                            "--from", "2026-03-27T12:00")  # fmt: skip
    assert document["next"] == [
        {"local": "2026-03-28T02:30:00+01:00", "utc": "2026-03-28T01:30:00Z"},
        {"local": "2026-03-29T03:00:00+02:00", "utc": "2026-03-29T01:00:00Z"},
        {"local": "2026-03-30T02:30:00+02:00", "utc": "2026-03-30T00:30:00Z"},
    ]
    gap, autumn = document["warnings"]  # the listed instant's note, then the year's other DST change
    assert gap["code"] == "dst_gap"
    assert "2026-03-29 02:30:00 does not exist in Europe/Berlin" in gap["message"]
    assert "first valid instant after it" in gap["message"]
    assert autumn["code"] == "dst_fold"
    assert "2026-10-25 02:30:00 happens twice in Europe/Berlin" in autumn["message"]


def test_doubled_time_on_the_autumn_dst_day_runs_once(sqlite_only_cli: OneStoreCli) -> None:
    document = explain_json(sqlite_only_cli, "0 * * * *", "--timezone", "Europe/Berlin", "-n", "3",
                            "--from", "2026-10-25T01:30")  # fmt: skip
    assert document["next"] == [
        {"local": "2026-10-25T02:00:00+02:00", "utc": "2026-10-25T00:00:00Z"},
        {"local": "2026-10-25T03:00:00+01:00", "utc": "2026-10-25T02:00:00Z"},  # no second 02:00 (01:00Z)
        {"local": "2026-10-25T04:00:00+01:00", "utc": "2026-10-25T03:00:00Z"},
    ]
    fold, spring = document["warnings"]  # the note of the listed 02:00, then next spring's gap
    assert spring["code"] == "dst_gap" and "2027-03-28 02:00:00 does not exist" in spring["message"]
    assert fold["code"] == "dst_fold"
    assert "2026-10-25 02:00:00 happens twice in Europe/Berlin" in fold["message"]
    assert "runs once" in fold["message"]


def test_times_a_gap_joins_into_one_run_are_all_named(sqlite_only_cli: OneStoreCli) -> None:
    document = explain_json(sqlite_only_cli, "15,45 2 * * *", "--timezone", "Europe/Berlin", "-n", "3",
                            "--from", "2027-03-27T12:00")  # fmt: skip
    assert document["next"] == [  # 02:15 and 02:45 are one run at the jump
        {"local": "2027-03-28T03:00:00+02:00", "utc": "2027-03-28T01:00:00Z"},
        {"local": "2027-03-29T02:15:00+02:00", "utc": "2027-03-29T00:15:00Z"},
        {"local": "2027-03-29T02:45:00+02:00", "utc": "2027-03-29T00:45:00Z"},
    ]
    assert document["warnings"][0] == {
        "code": "dst_gap",
        "message": "2027-03-28 02:15:00 and 02:45:00 do not exist in Europe/Berlin (the clocks jump forward): "
        "they run once together at 03:00:00 CEST, the first valid instant after them (2027-03-28T01:00:00Z): "
        "one run, not 2",
    }
    assert document["warnings"][2]["message"].startswith("2028-03-26 02:15:00 and 02:45:00 do not exist")
    both = check_ok(sqlite_only_cli("cron", "explain", "0 2,3 * * *", "--timezone", "Europe/Berlin", "-n", "2",
                                    "--from", "2027-03-27T12:00")).stdout.splitlines()  # fmt: skip
    index = next(i for i, line in enumerate(both) if "2027-03-28T01:00:00Z" in line)
    assert both[index + 1] == (
        "    note: 2027-03-28 02:00:00 does not exist in Europe/Berlin (the clocks jump forward): it runs at "
        "03:00:00 CEST, the first valid instant after it (2027-03-28T01:00:00Z), together with the schedule's "
        "own 03:00:00 run: one run, not 2"
    )
    assert "2027-03-29 02:00:00" in both[index + 2]  # no second run at 03:00 on the 28th


def test_times_a_fold_repeats_are_all_named_and_run_once_each(sqlite_only_cli: OneStoreCli) -> None:
    year = explain_json(sqlite_only_cli, "*/15 * * * *", "--timezone", "Europe/Berlin",
                        "--from", "2027-03-27T12:00")  # fmt: skip
    assert year["warnings"][1] == {
        "code": "dst_fold",
        "message": "2027-10-31 02:00:00, 02:15:00, 02:30:00 and 02:45:00 happen twice in Europe/Berlin (the clocks "
        "go back from 03:00 to 02:00): each runs once, at its first occurrence: 4 runs, not 8",
    }
    document = explain_json(sqlite_only_cli, "*/15 * * * *", "--timezone", "Europe/Berlin", "-n", "4",
                            "--from", "2027-10-31T02:20+02:00")  # fmt: skip
    assert utcs(document) == [  # 02:30 and 02:45 CEST, then 03:00 CET: no second 02:30 or 02:45
        "2027-10-31T00:30:00Z",
        "2027-10-31T00:45:00Z",
        "2027-10-31T02:00:00Z",
        "2027-10-31T02:15:00Z",
    ]
    note = (
        "2027-10-31 02:00:00, 02:15:00, 02:30:00 and 02:45:00 happen twice in Europe/Berlin (the clocks go back): "
        "each runs once, at its first occurrence (in CEST, 2027-10-31T00:00:00Z to 2027-10-31T00:45:00Z), "
        "not again in CET: 4 runs, not 8"
    )
    assert document["warnings"][0] == {"code": "dst_fold", "message": note}
    assert [w["code"] for w in document["warnings"]] == ["dst_fold", "dst_gap", "dst_fold"]  # 2028's follow
    human = check_ok(sqlite_only_cli("cron", "explain", "*/15 * * * *", "--timezone", "Europe/Berlin", "-n", "4",
                                     "--from", "2027-10-31T02:20+02:00")).stdout.splitlines()  # fmt: skip
    index = next(i for i, line in enumerate(human) if "2027-10-31T00:30:00Z" in line)
    assert human[index + 1] == f"    note: {note}"  # once, under the first listed run of the fold
    assert "2027-10-31T00:45:00Z" in human[index + 2] and "2027-10-31T02:00:00Z" in human[index + 3]
    assert sum("note:" in line for line in human) == 1


def test_human_output_puts_a_note_under_the_moved_instant(sqlite_only_cli: OneStoreCli) -> None:
    result = check_ok(sqlite_only_cli("cron", "explain", "30 2 * * *", "--timezone", "Europe/Berlin", "-n", "2",
                                      "--from", "2026-03-28T12:00"))  # fmt: skip
    lines = result.stdout.splitlines()
    assert "meaning      At 02:30" in lines
    assert "timezone     Europe/Berlin" in lines
    index = next(i for i, line in enumerate(lines) if "2026-03-29T01:00:00Z" in line)
    assert "Sun 2026-03-29 03:00:00 CEST" in lines[index]
    assert lines[index].endswith("in 14h")  # counted from --from (11:00Z)
    assert lines[index + 1].startswith("    note: 2026-03-29 02:30:00 does not exist")
    assert lines[index + 2].strip().startswith("Mon 2026-03-30 02:30:00 CEST")
    assert lines[index + 2].endswith("in 1d13h")


@pytest.mark.parametrize(
    "expression,start,expected",
    [
        (
            "0 0 31 * *",
            "2026-01-31T12:00:00Z",
            ["2026-03-31T00:00:00Z", "2026-05-31T00:00:00Z", "2026-07-31T00:00:00Z"],
        ),
        ("0 0 L * *", "2026-01-15T00:00:00Z", ["2026-01-31T00:00:00Z", "2026-02-28T00:00:00Z", "2026-03-31T00:00:00Z"]),
        (
            "0 0 29 2 *",
            "2026-01-01T00:00:00Z",
            ["2028-02-29T00:00:00Z", "2032-02-29T00:00:00Z", "2036-02-29T00:00:00Z"],
        ),
        (
            "0 0 12 * * *",
            "2026-12-31T12:00:00Z",
            ["2027-01-01T12:00:00Z", "2027-01-02T12:00:00Z", "2027-01-03T12:00:00Z"],
        ),
        (
            "*/20 * * * * *",
            "2026-12-31T23:59:30Z",
            ["2026-12-31T23:59:40Z", "2027-01-01T00:00:00Z", "2027-01-01T00:00:20Z"],
        ),
    ],
    ids=["day-31-skips-short-months", "last-day", "leap-day", "six-fields-noon", "six-fields-seconds-year-end"],
)
def test_month_ends_and_seconds_first(sqlite_only_cli: OneStoreCli, expression: str, start: str,
                                      expected: list[str]) -> None:  # fmt: skip
    document = explain_json(sqlite_only_cli, expression, "--timezone", "UTC", "-n", "3", "--from", start)
    assert utcs(document) == expected
    parts = expression.split()
    assert document["fields"]["second"] == (parts[0] if len(parts) == 6 else "0")


def test_six_fields_are_described_seconds_first(sqlite_only_cli: OneStoreCli) -> None:
    assert explain_json(sqlite_only_cli, "*/10 * * * * *")["description"] == "Every 10 seconds"
    assert explain_json(sqlite_only_cli, "0 0 9 * * 1-5")["description"] == "At 09:00, Monday through Friday"


def test_last_day_is_described_as_such(sqlite_only_cli: OneStoreCli) -> None:
    # the fields are kept lower-cased ("l"); the English still reads it as the last day
    assert explain_json(sqlite_only_cli, "0 0 L * *")["description"] == "At 00:00, on the last day of the month"
    assert explain_json(sqlite_only_cli, "0 0 * * 5l")["description"] == "At 00:00, on the last Friday of the month"


def test_both_day_fields_restricted_are_described_as_the_runs_listed(sqlite_only_cli: OneStoreCli) -> None:
    document = explain_json(sqlite_only_cli, "0 0 */1 * 1", "--timezone", "UTC", "-n", "3",
                            "--from", "2026-12-07T12:00:00Z")  # fmt: skip
    assert document["description"] == "At 00:00, on every day of the month, or on Monday"
    assert utcs(document) == ["2026-12-08T00:00:00Z", "2026-12-09T00:00:00Z", "2026-12-10T00:00:00Z"]
    human = check_ok(sqlite_only_cli("cron", "explain", "0 0 1,15 * 5", "--timezone", "UTC")).stdout
    assert "meaning      At 00:00, on day 1 and 15 of the month, or on Friday" in human.splitlines()


def test_a_weekday_start_with_a_step_is_described_as_the_days_it_runs(sqlite_only_cli: OneStoreCli) -> None:
    document = explain_json(sqlite_only_cli, "0 0 * * 5/2", "--timezone", "UTC", "-n", "4",
                            "--from", "2027-01-01")  # fmt: skip
    assert document["description"] == "At 00:00, only on Friday and Sunday"  # 5/2 is 5-7/2, as in cron
    assert utcs(document) == ["2027-01-03T00:00:00Z", "2027-01-08T00:00:00Z", "2027-01-10T00:00:00Z",
                              "2027-01-15T00:00:00Z"]  # fmt: skip


def test_a_start_with_a_step_that_restarts_unevenly_is_warned_about(sqlite_only_cli: OneStoreCli) -> None:
    """``N/S`` is cron's ``N-MAX/S``: its count restarts each hour (day, month) as ``*/S``'s does,
    so ``5/35`` runs at :05 and :40, 25 minutes after :40, and day ``1/10`` on the 31st and the 1st."""
    minutes = explain_json(sqlite_only_cli, "5/35 * * * *", "--timezone", "UTC")["warnings"]
    assert minutes == [
        {
            "code": "step",
            "message": "'5/35' in the minute field (cron's 5-59/35) runs at minute 5, 40, starting again each hour, "
            "so not every 35 minutes",
        }
    ]
    days = explain_json(sqlite_only_cli, "0 0 1/10 * *", "--timezone", "UTC")["warnings"]
    assert [warning["code"] for warning in days] == ["step"]
    assert "day 1, 11, 21, 31, starting again each month, so not every 10 days" in days[0]["message"]
    for fine in ("5/15 * * * *", "0 3/6 * * *", "0 0 * 1/3 *", "0/30 * * * *"):  # every S units, across the restart
        assert explain_json(sqlite_only_cli, fine, "--timezone", "UTC")["warnings"] == [], fine
    human = check_ok(sqlite_only_cli("cron", "explain", "50/15 * * * *", "--timezone", "UTC")).stdout
    assert "warning: '50/15' in the minute field (cron's 50-59/15) runs at minute 50, starting again" in human
    imported = sqlite_only_cli(
        "import", "crontab", "-", "--dry-run", "--json", input="CRON_TZ=UTC\n5/35 * * * * true\n"
    )
    assert [issue["code"] for issue in json.loads(imported.stdout)["issues"]] == ["step"]


def test_lint_warnings(sqlite_only_cli: OneStoreCli) -> None:
    document = explain_json(sqlite_only_cli, "*/35 9 1,15 * 5", "--timezone", "UTC", "-n", "2",
                            "--from", "2026-01-01T00:00:00Z")  # fmt: skip
    codes = [warning["code"] for warning in document["warnings"]]
    assert codes == ["step", "day_or_weekday"]
    step, either = document["warnings"]
    assert "'*/35' in the minute field" in step["message"] and "minute 0, 35" in step["message"]
    assert "either" in either["message"]
    assert utcs(document) == ["2026-01-01T09:00:00Z", "2026-01-01T09:35:00Z"]
    for fine in ("*/15 * * * *", "0 */6 * * *", "0 0 * * 1-5", "0 0 1 */3 *"):
        assert explain_json(sqlite_only_cli, fine, "--timezone", "UTC")["warnings"] == [], fine
    assert explain_json(sqlite_only_cli, "0 12 * * *", "--timezone", "Europe/Berlin")["warnings"] == []
    human = check_ok(sqlite_only_cli("cron", "explain", "0 */5 * * *")).stdout
    assert "warning: '*/5' in the hour field does not divide its range" in human


@pytest.mark.parametrize(
    "expression",
    ["0 9 * * 1-5 30", "61 * * * *", "* * * *", "0 0 30 2 *", "*/0 * * * *", "@reboot"],
    ids=["seconds-last", "out-of-range", "four-fields", "never-fires", "step-zero", "unknown-macro"],
)
def test_bad_expression_is_exit_2_with_the_message_of_jobs_create(sqlite_only_cli: OneStoreCli,
                                                                    expression: str) -> None:  # fmt: skip
    line = check_error(sqlite_only_cli("cron", "explain", expression), 2)
    create = sqlite_only_cli("jobs", "create", "x", "--cron", expression, "--command", "true")
    assert check_error(create, 2) == line
    assert line.startswith("jobctl: cron: ")


def test_bad_options_are_exit_2(sqlite_only_cli: OneStoreCli) -> None:
    check_error(sqlite_only_cli("cron", "explain", "* * * * *", "--timezone", "Mars/Olympus"), 2, "Mars/Olympus")
    check_error(sqlite_only_cli("cron", "explain", "* * * * *", "-n", "0"), 2, "count", "1 and 100")
    check_error(sqlite_only_cli("cron", "explain", "* * * * *", "-n", "101"), 2, "count")
    check_error(sqlite_only_cli("cron", "explain", "* * * * *", "--from", "tomorrow"), 2, "from", "tomorrow")


def test_needs_no_store(sqlite_only_cli: OneStoreCli, tmp_path: Path) -> None:
    missing = tmp_path / "nowhere" / "never.db"
    for url in (f"sqlite:///{missing}", "postgresql+psycopg://nobody@127.0.0.1:1/none"):
        result = sqlite_only_cli("cron", "explain", "0 9 * * *", env={"JOBCTL_DB": url})
        assert "At 09:00" in check_ok(result).stdout
    assert not missing.parent.exists()
    remote = sqlite_only_cli("cron", "explain", "0 9 * * *", env={"JOBCTL_API_URL": "http://127.0.0.1:1"})
    assert "At 09:00" in check_ok(remote).stdout
