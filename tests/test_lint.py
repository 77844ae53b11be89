"""CI runs the linters: ruff on the code and tests, mypy (strict) on the package."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", *args], cwd=ROOT, capture_output=True, text=True, timeout=300)


def test_ruff_finds_nothing() -> None:
    result = _run("ruff", "check", "--no-cache", "jobctl", "tests", "bench")
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy_strict_finds_nothing(tmp_path: Path) -> None:
    result = _run("mypy", "jobctl", "--cache-dir", str(tmp_path / "mypy"))
    assert result.returncode == 0, result.stdout + result.stderr


def test_no_module_or_namespace_tricks_in_the_package() -> None:
    """Imports are plain statements (so the import contracts see them) and parameters are named,
    never collected with ``locals()``."""
    tricks = {"locals", "globals", "vars", "__import__", "eval", "exec"}
    found = [
        f"{path.relative_to(ROOT)}:{node.lineno} {node.func.id}()"
        for path in sorted((ROOT / "jobctl").rglob("*.py"))
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in tricks
    ]
    assert found == []
