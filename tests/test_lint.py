"""CI runs the linters: ruff on the code and tests, mypy (strict) on the package."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", *args], cwd=ROOT, capture_output=True, text=True, timeout=300)


def test_ruff_finds_nothing() -> None:
    result = _run("ruff", "check", "--no-cache", "jobctl", "tests", "bench")
    assert result.returncode == 0, result.stdout + result.stderr


def test_ruff_format_changes_nothing() -> None:
    """One layout everywhere, so a diff shows what changed and not who formatted it last."""
    result = _run("ruff", "format", "--check", "--no-cache", "jobctl", "tests", "bench")
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


def test_shared_test_code_is_in_helpers_modules() -> None:
    """A test package's shared code is in its ``helpers.py`` (its fixtures in ``conftest.py``); a
    module that holds one thing is named for it (``proxy.py``, ``tasks.py``, ``strategies.py``)."""
    misnamed = [
        str(path.relative_to(ROOT))
        for path in sorted((ROOT / "tests").rglob("*.py"))
        if path.stem != "helpers" and (path.stem.endswith("helpers") or path.stem in {"support", "utils", "common"})
    ]
    assert misnamed == []
    from_conftest = [
        f"{path.relative_to(ROOT)}: {node.module}"
        for path in sorted((ROOT / "tests").rglob("*.py"))
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.ImportFrom) and re.fullmatch(r"tests\.\w+\.conftest", node.module or "")
    ]
    assert from_conftest == [], "what a package's tests import belongs in its helpers.py"
