"""``jobctl export`` formats: the jobs file as TOML or JSON (the crontab: :mod:`jobctl.service.crontab_export`).

TOML and JSON hold ``{"jobs": [table, ...]}`` (tables from :mod:`jobctl.wire.job_tables`,
sorted by name), which ``jobctl apply`` reads back: export, apply on an empty store and export
again gives the same bytes.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any


def toml_text(tables: Sequence[dict[str, Any]]) -> str:
    from jobctl.cli.toml_out import dumps

    return dumps({"jobs": list(tables)})


def json_text(tables: Sequence[dict[str, Any]]) -> str:
    return json.dumps({"jobs": list(tables)}, indent=2, ensure_ascii=False) + "\n"
