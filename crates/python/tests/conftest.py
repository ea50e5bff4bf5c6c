"""Shared fixtures: the repository, the CLI built beside the package, and a CLI runner."""

import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="session")
def root():
    return ROOT


@pytest.fixture(scope="session")
def cli():
    """Runs ``target/release/engram ARGS`` in the repository; returns the process."""
    exe = ROOT / "target" / "release" / "engram"
    assert exe.exists(), f"{exe} is missing: run `make build` (make test-python does)"

    def run(*args, check=True):
        p = subprocess.run([str(exe), *map(str, args)], cwd=ROOT, capture_output=True, text=True)
        if check and p.returncode != 0:
            raise AssertionError(f"engram {args} failed ({p.returncode}):\n{p.stderr}")
        return p

    return run


@pytest.fixture(autouse=True)
def in_root(monkeypatch):
    """Every test runs in the repository, as the README's examples do."""
    monkeypatch.chdir(ROOT)
    yield
