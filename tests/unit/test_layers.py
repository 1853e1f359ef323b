"""The layer contracts (pyproject.toml, [tool.importlinter]) hold on the code, and they fail
when someone adds a forbidden import: each case copies the packages, adds one import, and runs
the same `lint-imports` that `make test` runs."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LINT = Path(sys.executable).parent / "lint-imports"


def lint(folder):
    return subprocess.run([str(LINT), "--no-cache"], cwd=folder, capture_output=True, text=True,
                          env={"PATH": str(Path(sys.executable).parent), "PYTHONPATH": str(folder)},
                          timeout=120)  # fmt: skip


@pytest.fixture(scope="module")
def copy(tmp_path_factory):
    folder = tmp_path_factory.mktemp("layers")
    for name in ("portal", "tasks"):
        shutil.copytree(ROOT / name, folder / name, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", folder / "pyproject.toml")
    return folder


def test_the_code_keeps_every_contract(copy):
    result = lint(copy)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


@pytest.mark.parametrize(
    ("module", "line", "contract"),
    [
        ("portal/returns/money.py", "import flask", "The domain imports no Flask"),
        ("portal/returns/states.py", "import portal.merchant", "The domain imports no Flask"),
        ("portal/returns/expiry.py", "import tasks.outbox", "The domain imports no Flask"),
        ("portal/models/orders.py", "import portal.returns.money", "Models and the database"),
        ("portal/payments/base.py", "import portal.returns.errors", "Adapters"),
        ("tasks/housekeeping.py", "import portal.customer", "Tasks never import the web"),
        ("portal/merchant/queue.py", "import tasks.outbox", "The web never imports the tasks"),
        ("portal/returns/review.py", "import portal.api", "The domain imports no Flask"),
        ("tasks/housekeeping.py", "import portal.api.spec", "Tasks never import the web"),
        ("portal/api/returns.py", "import tasks.outbox", "The web never imports the tasks"),
    ],
)
def test_a_forbidden_import_breaks_its_contract(copy, module, line, contract):
    path = copy / module
    original = path.read_text()
    try:
        path.write_text(original + f"\n{line}  # noqa\n")
        result = lint(copy)
    finally:
        path.write_text(original)
    assert result.returncode == 1, result.stdout
    assert contract in result.stdout.split("Broken contracts")[-1], result.stdout
