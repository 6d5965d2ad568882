"""`policygen emulator`: serve the local ARM-compatible emulator until Ctrl-C / SIGTERM."""

from __future__ import annotations

from pathlib import Path

import typer

from policygen.errors import Diagnostic, ExitCode, InputError
from policygen.views.console import echo

ADMIN_TOKEN_ENV = "POLICYGEN_EMULATOR_TOKEN"


def register(app: typer.Typer) -> None:
    """Add this area's commands to the root app."""
    app.command("emulator")(emulator)


def emulator(
    host: str = typer.Option(
        "127.0.0.1", "--host", help="Interface to listen on (loopback by default; others need --allow-remote)."
    ),
    allow_remote: bool = typer.Option(
        False,
        "--allow-remote",
        help="Listen on a non-loopback --host. Needs POLICYGEN_EMULATOR_TOKEN: /_admin then asks for it as a bearer "
        "token.",
    ),
    port: int | None = typer.Option(
        None, "--port", "-p", help="TCP port (default 8765, or the --env endpoint's; 0 picks a free one)."
    ),
    env: str | None = typer.Option(
        None, "--env", "-e", help="Take port and seed from this environment of policygen.yaml (see --pack)."
    ),
    pack: Path = typer.Option(Path("."), "--pack", help="Pack folder whose policygen.yaml --env reads."),
    state: Path | None = typer.Option(None, "--state", help="SQLite file: state survives restarts (else in memory)."),
    seed: Path | None = typer.Option(
        None,
        "--seed",
        help="Seed file (YAML/JSON): management groups, subscriptions, resource groups, resources or an inventory.",
    ),
    builtins: Path | None = typer.Option(
        None,
        "--builtins",
        help="Built-in definitions directory (azure-policy layout: policyDefinitions/, policySetDefinitions/).",
    ),
    request_log: Path | None = typer.Option(None, "--request-log", help="Append one JSON line per request."),
    tenant_id: str | None = typer.Option(None, "--tenant-id", help="Tenant id (also the root group's name)."),
    page_size: int = typer.Option(100, "--page-size", help="Items per page of list operations."),
    latency_ms: float = typer.Option(0.0, "--latency-ms", help="Fault: fixed latency added to every ARM request."),
    jitter_ms: float = typer.Option(0.0, "--jitter-ms", help="Fault: plus a uniform random 0..N ms."),
    rate_429: float = typer.Option(0.0, "--rate-429", help="Fault: probability of 429 with Retry-After."),
    retry_after: int = typer.Option(1, "--retry-after", help="Retry-After seconds on injected 429/503."),
    rate_5xx: float = typer.Option(0.0, "--rate-5xx", help="Fault: probability of a 5xx."),
    status_5xx: int = typer.Option(503, "--status-5xx", help="Which 5xx to inject."),
    rate_reset: float = typer.Option(0.0, "--rate-reset", help="Fault: probability of a connection reset."),
    principal_delay: float = typer.Option(
        0.0, "--principal-delay", help="Fault: seconds a new identity answers PrincipalNotFound to role assignments."
    ),
    principal_failures: int = typer.Option(
        0,
        "--principal-failures",
        help="Fault: PrincipalNotFound for the first N role assignments of each new identity.",
    ),
    throttle: bool = typer.Option(
        False,
        "--throttle",
        help="Fault: ARM's token buckets (250 reads, 200 writes "
        "and deletes per subscription; refill 25/10/10 per second).",
    ),
    bucket_scale: float = typer.Option(
        1.0, "--bucket-scale", help="Scale the token buckets (0.1 = ten times smaller)."
    ),
    fault_seed: int | None = typer.Option(None, "--fault-seed", help="Seed for random faults (reproducible runs)."),
) -> None:
    """Run a local ARM-compatible emulator that the real Azure SDK clients (and `policygen plan`/`apply`) talk to.

    Serves policy definitions, initiatives, assignments, role assignments, management groups, resources,
    policy states and remediations over http. Point policygen at it with POLICYGEN_ENDPOINT=<printed URL>.
    Faults can be changed at run time: POST /_admin/faults with the same names (latency_ms, rate_429, ...).
    """
    from policygen.emulator import FaultConfig, serve
    from policygen.emulator.server import is_loopback, make_config

    faults = FaultConfig(
        latency_ms=latency_ms,
        jitter_ms=jitter_ms,
        rate_429=rate_429,
        retry_after=retry_after,
        rate_5xx=rate_5xx,
        status_5xx=status_5xx,
        rate_reset=rate_reset,
        principal_delay_s=principal_delay,
        principal_failures=principal_failures,
        throttle=throttle,
        bucket_scale=bucket_scale,
        fault_seed=fault_seed,
    )
    import os

    if env is not None:
        port, seed = _from_environment(pack, env, port, seed)
    port = 8765 if port is None else port
    admin_token = os.environ.get(ADMIN_TOKEN_ENV) or None
    for name, path in (("--seed", seed), ("--builtins", builtins)):
        if path is not None and not path.exists():
            raise InputError(Diagnostic(str(path), 0, 0, f"{name} path does not exist"))
    config = make_config(
        seed=seed,
        state=state,
        builtins=builtins,
        request_log=request_log,
        tenant_id=tenant_id,
        page_size=page_size,
        faults=faults,
    )
    config.admin_token = admin_token

    def announce(url: str) -> None:
        echo(f"policygen emulator listening on {url}")
        if not is_loopback(host):
            echo(
                f"WARNING: serving {host!r}, not only this machine. Every request needs the bearer token from "
                f"{ADMIN_TOKEN_ENV} (policygen clients send it when the variable is set); anyone who has it can "
                "read and change the emulated tenant, and plain HTTP does not hide it on the network.",
                err=True,
            )
        echo(f"  export POLICYGEN_ENDPOINT={url}")
        echo("  Ctrl-C to stop" + (f"; state in {state}" if state else "; state in memory"), err=True)

    import sqlite3

    try:
        serve(config, host, port, announce=announce, allow_remote=allow_remote)
    except sqlite3.Error as exc:
        raise InputError(Diagnostic(str(state), 0, 0, f"cannot use the state file: {exc}")) from exc
    except OSError as exc:
        where = str(exc.filename) if exc.filename else f"{host}:{port}"
        raise InputError(Diagnostic(where, 0, 0, f"cannot start the emulator: {exc.strerror or exc}")) from exc
    echo("policygen emulator stopped", err=True)
    raise typer.Exit(ExitCode.OK)


def _from_environment(pack: Path, env: str, port: int | None, seed: Path | None) -> tuple[int | None, Path | None]:
    """Port and seed of a pack's environment (explicit --port/--seed win), so `plan --env` finds the emulator."""
    from urllib.parse import urlsplit

    from policygen.intents.settings import read_settings

    settings = read_settings(pack, strict=True)
    spec = settings.environments.get(env) if settings is not None else None
    if spec is None:
        declared = ", ".join(settings.environments) if settings is not None else "none"
        raise InputError(f"{pack / 'policygen.yaml'}: no environment {env!r}; declared: {declared}")
    if port is None and spec.endpoint:
        port = urlsplit(spec.endpoint).port
    if seed is None and spec.seed:
        seed = pack / spec.seed
    return port, seed
