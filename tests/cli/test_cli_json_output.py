"""``--json`` output is written by orjson and must be the bytes the standard library's
``json.dumps(indent=2, ensure_ascii=False)`` wrote before, falling back to it for what orjson refuses."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

import pytest

from jobctl.cli import output

SAMPLES: list[Any] = [
    {"jobs": [{"id": "a", "name": "zürich-ü-\u2028", "labels": {}, "env": {"K": "v\"\\\n\t"}, "codes": [],
               "nested": {"list": [1, 2.5, None, True, False, {"x": []}]}}], "total": 1, "nextCursor": None},
    [],
    {},
    "line\x00with control",
    {"big": 2**70},  # over 64 bits: orjson refuses it, the standard library writes it
]  # fmt: skip


IDS = ["listing", "empty-list", "empty-dict", "control", "big-int"]


@pytest.mark.parametrize("data", SAMPLES, ids=IDS)
def test_json_output_is_what_the_standard_library_writes(data: Any, capsys: pytest.CaptureFixture[str]) -> None:
    output.print_json(data)
    assert capsys.readouterr().out == json.dumps(data, indent=2, ensure_ascii=False) + "\n"


@pytest.mark.parametrize("encoding", ["utf-8", "latin-1"])
def test_json_output_to_a_pipe_is_the_same_bytes_and_keeps_its_place(encoding: str) -> None:
    """Into a pipe orjson's bytes go under the text layer, UTF-8 whatever the stream's encoding
    (JSON between programs is UTF-8); what was printed before stays before them."""
    data = {"name": "caf\u00e9", "n": [1, None]}
    script = f"import sys; from jobctl.cli import output; sys.stdout.write('before\\n'); output.print_json({data!r})"
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, check=True,
                          env={**os.environ, "PYTHONIOENCODING": encoding})  # fmt: skip
    as_json = json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    assert done.stdout == "before\n".encode(encoding) + as_json.encode("utf-8")
