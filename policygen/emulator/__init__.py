"""`policygen emulator`: a local ARM-compatible server the real Azure SDK clients talk to.

In-process use (tests, `policygen demo`, the deploy stage)::

    from policygen.emulator import running_emulator
    with running_emulator(seed="seed.yaml", latency_ms=50) as url:
        clients = build_clients(SUBSCRIPTION, endpoint=url)

See docs/emulator.md for the seed format, fault knobs and the admin endpoint.
"""

from policygen.emulator.app import Emulator
from policygen.emulator.context import EmulatorConfig
from policygen.emulator.faults import FaultConfig
from policygen.emulator.server import EmulatorServer, EmulatorURL, make_config, running_emulator, serve

__all__ = [
    "Emulator",
    "EmulatorConfig",
    "EmulatorServer",
    "EmulatorURL",
    "FaultConfig",
    "make_config",
    "running_emulator",
    "serve",
]
