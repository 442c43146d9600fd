"""Runs the Android demo's JVM unit tests (model-independent core) through javac + JUnit 4."""
from __future__ import annotations

import subprocess

import pytest

from conftest import REPO


def test_android_core_jvm_tests():
    script = REPO / "android_demo" / "core" / "run_tests.sh"
    out = subprocess.run(["bash", str(script)], capture_output=True, text=True, timeout=600)
    text = out.stdout + out.stderr
    if "SKIPPED" in text:
        pytest.skip(text.strip().splitlines()[-1])
    assert out.returncode == 0, text[-3000:]
    assert "OK (" in text and "FAILURES" not in text
