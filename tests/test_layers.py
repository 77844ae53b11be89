"""The layering is enforced: the import-linter contracts in pyproject.toml hold, and can fail.

One ``layers`` contract (each layer imports only from the layers below it, see docs/layers.md)
and one ``forbidden`` contract per third-party library (imported only in its home modules).
Ruff's banned-api (TID251) says the same in the editor; its per-file exemptions must be exactly
the home modules named in the contracts.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def lint_imports(root: Path) -> subprocess.CompletedProcess[str]:
    """Run import-linter on the ``jobctl`` package under ``root`` with the project's contracts."""
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", "--config", str(root / "pyproject.toml")],
        cwd=root,
        env={"PYTHONPATH": str(root), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_every_import_contract_holds() -> None:
    result = lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


@pytest.fixture
def copy(tmp_path: Path) -> Path:
    """A copy of the package and pyproject.toml, to break."""
    shutil.copytree(ROOT / "jobctl", tmp_path / "jobctl", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


@pytest.mark.parametrize(
    ("module", "line", "broken"),
    [
        ("jobctl/store/jobs.py", "from jobctl.service import Service", "layers"),
        ("jobctl/models.py", "import jobctl.cli.main", "layers"),
        ("jobctl/scheduler/loop.py", "from jobctl.api import app", "layers"),  # siblings stay apart
        ("jobctl/service/status.py", "import httpx", "httpx only in its home modules"),
        ("jobctl/cli/jobs_cmds.py", "import sqlalchemy", "sqlalchemy only in its home modules"),
    ],
    ids=[
        "store-imports-service",
        "models-import-cli",
        "scheduler-imports-api",
        "httpx-in-service",
        "sqlalchemy-in-cli",
    ],
)
def test_an_upward_or_foreign_import_breaks_a_contract(copy: Path, module: str, line: str, broken: str) -> None:
    path = copy / module
    path.write_text(path.read_text() + f"\n\ndef _breach() -> None:\n    {line}\n")  # lazy imports count too
    result = lint_imports(copy)
    assert result.returncode == 1, result.stdout + result.stderr
    assert broken in result.stdout.split("Broken contracts")[-1]


def _contract_homes() -> set[str]:
    """The files the forbidden contracts allow a library in (``jobctl.a.b -> lib`` is jobctl/a/b.py)."""
    homes = set()
    for contract in PYPROJECT["tool"]["importlinter"]["contracts"]:
        for ignored in contract.get("ignore_imports", []):
            module = ignored.split(" -> ")[0].replace(".", "/")
            homes.add(f"{module}/__init__.py" if (ROOT / module).is_dir() else f"{module}.py")
    return homes


def test_ruff_exempts_exactly_the_home_modules_from_the_banned_imports() -> None:
    ruff = PYPROJECT["tool"]["ruff"]["lint"]
    banned = set(ruff["flake8-tidy-imports"]["banned-api"])
    forbidden = {
        c["forbidden_modules"][0] for c in PYPROJECT["tool"]["importlinter"]["contracts"] if c["type"] == "forbidden"
    }
    assert banned == forbidden, "each banned library has its contract, and the other way round"
    exempt = {
        path for path, rules in ruff["per-file-ignores"].items() if "TID251" in rules and path.startswith("jobctl/")
    }
    migrations = "jobctl/store/migrations/**"  # Alembic revisions are not importable modules
    assert exempt - {migrations} == _contract_homes() - {"jobctl/store/migrations/env.py"}
