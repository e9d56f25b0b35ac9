"""Starts and stops the real services of tests/services/ for the tests."""
import pathlib
import subprocess

import pytest

SERVICES = pathlib.Path(__file__).resolve().parents[1] / "services"


def service(name, action="start", *args):
    """Runs tests/services/NAME.sh ACTION [ARGS]; returns the address (or what else it prints) last."""
    p = subprocess.run([str(SERVICES / f"{name}.sh"), action, *args], capture_output=True, text=True, timeout=900)
    if p.returncode != 0:
        pytest.fail(f"tests/services/{name}.sh {action} failed (exit {p.returncode}); the tests need a real "
                    f"{name}:\n{p.stderr[-3000:]}{p.stdout[-1000:]}", pytrace=False)
    out = p.stdout.strip().splitlines()
    return out[-1] if out else ""
