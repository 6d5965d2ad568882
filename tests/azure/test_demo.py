"""`policygen demo` end to end, in-process: nothing to configure, exit 0, every step shown."""

from __future__ import annotations

import os

from policygen.azure.target import ENDPOINT_ENV
from tests.azure.deploy_support import REPO, cli


def test_demo_runs_the_whole_loop() -> None:
    result = cli(["demo", str(REPO), "--quiet"])
    assert result.exit_code == 0, result.output
    out = result.output
    for heading in ("Start the emulator", "Validate", "policy unit tests", "Plan", "Apply",
                    "Compliance before remediation", "Remediate", "Compliance after remediation", "Plan again"):
        assert heading in out
    assert "Apply complete!" in out and "Remediation complete" in out and "No changes." in out
    assert "Demo complete" in out
    assert ENDPOINT_ENV not in os.environ or os.environ[ENDPOINT_ENV] != ""  # restored, not leaked


def test_demo_without_a_pack_explains(tmp_path) -> None:  # noqa: ANN001
    result = cli(["demo", str(tmp_path)])
    assert result.exit_code == 2
