"""The lock files (requirements/, made by `make lock` from pyproject.toml) pin every dependency
pyproject.toml names, with hashes: `make run` and `make test` install from them, so a
dependency added to pyproject.toml without regenerating them would be missing."""

import re
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


def names(requirements):
    return {re.split(r"[<>=!~\[ ;]", r, maxsplit=1)[0].lower().replace("_", "-")
            for r in requirements}  # fmt: skip


def pinned(lock):
    text = (ROOT / "requirements" / lock).read_text()
    pins = dict(re.findall(r"^([A-Za-z0-9_.-]+)==([^ \\\n]+)", text, re.M))
    assert all(f"{name}=={version} \\\n    --hash=sha256:" in text
               for name, version in pins.items()), "every pin carries its hashes"  # fmt: skip
    return {name.lower().replace("_", "-") for name in pins}


@pytest.mark.parametrize(
    ("lock", "extras"), [("lock.txt", ["postgres"]), ("lock-test.txt", ["postgres", "test"])]
)
def test_every_dependency_is_pinned_in_the_lock(lock, extras):
    wanted = names(PROJECT["dependencies"])
    for extra in extras:
        wanted |= names(PROJECT["optional-dependencies"][extra])
    missing = wanted - pinned(lock)
    assert not missing, f"run `make lock`: {sorted(missing)} not in requirements/{lock}"
