"""The plan/apply workflow as library calls: connect to a target, plan a build, re-read state for a saved
plan, apply. The CLI (`policygen/commands/deploy.py`) maps options onto these and prints through views.
"""

from __future__ import annotations

import socket
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from policygen.arm.scopes import key
from policygen.artefacts import Build
from policygen.azure.arm import Arm, Clients
from policygen.azure.desired import derive, desired_state
from policygen.azure.pacing import Pacing
from policygen.azure.plan import EXPIRY_WARNING_DAYS, Plan, ensure_not_stale, make_plan
from policygen.azure.remote import ReadPlan, RemoteState, read_plan_for, read_remote
from policygen.azure.retry import CallStats, RetrySettings
from policygen.azure.target import Target
from policygen.errors import AzureError


def connect(target: Target, *, concurrency: int = 32, settings: RetrySettings | None = None,
            credential: Any = None) -> Arm:
    """An `Arm` for the target, with a connection pool sized for `concurrency` and requests paced to at most
    that many in flight per ARM operation class (fewer while throttled)."""
    settings = settings or RetrySettings()
    ensure_reachable(target)
    return Arm(Clients(target, credential=credential, pool_size=concurrency), settings, CallStats(),
               Pacing(concurrency, settings.clock))


def ensure_reachable(target: Target, timeout_s: float = 1.0) -> None:
    """Fail within a second, naming the environment's own endpoint and seed, when a plain-http endpoint (the
    emulator) is not listening: retrying a refused connection for seconds tells the user nothing more."""
    parts = urlsplit(target.endpoint)
    if parts.scheme != "http" or not parts.hostname:
        return
    try:
        socket.create_connection((parts.hostname, parts.port or 80), timeout=timeout_s).close()
    except OSError as exc:
        how = f"policygen emulator --env {target.env}" if target.is_local else (
            f"policygen emulator --port {parts.port or 80}" + (f" --seed {target.seed}" if target.seed else ""))
        seed = f" (seed {target.seed})" if target.seed else ""
        raise AzureError(f"nothing is listening at {target.endpoint} for environment {target.env!r}: "
                         f"{exc.strerror or exc}. Start the emulator with `{how}`{seed}") from None


@dataclass
class Planned:
    plan: Plan
    remote: RemoteState


def plan_build(build: Build, target: Target, arm: Arm, *, concurrency: int = 32) -> Planned:
    """Read Azure and diff it against the build."""
    desired = desired_state(build, target)
    warnings = derive(desired, lambda _id: None)  # local members only: enough to know which scopes to read
    read = read_plan_for(desired)
    remote = read_remote(arm, read, concurrency)
    if read.builtin_ids:  # members defined outside the pack: derive again with their bodies as read
        warnings = derive(desired, remote.definition_body)
    extra = read_plan_for(desired)
    missing_roles = tuple(s for s in extra.role_scopes if key(s) not in {key(x) for x in read.role_scopes})
    missing_rem = tuple(s for s in extra.remediation_scopes if key(s) not in {key(x) for x in read.remediation_scopes})
    if missing_roles or missing_rem:  # built-in members named assignPermissions scopes we had not read
        more = read_remote(arm, ReadPlan((), (), missing_roles, missing_rem), concurrency)
        remote.role_assignments.update(more.role_assignments)
        remote.remediations.update(more.remediations)
        for kind, scopes in more.scopes_read.items():
            remote.scopes_read.setdefault(kind, []).extend(scopes)
        remote.list_calls += more.list_calls
    pack = {"name": build.pack.name, "version": build.pack.version, "ownerId": build.pack.owner_id,
            "root": str(build.pack.root)}
    env = build.pack.environments.get(target.env) or {}
    days = env.get("exemptionExpiryWarningDays")
    plan = make_plan(desired, remote, warnings, pack, expiry_days=EXPIRY_WARNING_DAYS if days is None else days)
    inventory = env.get("inventory")
    if inventory:  # the stage in force of each rollout, evaluated offline on the environment's inventory
        from policygen.azure.lifecycle import rollout_impact

        for note in plan.lifecycle.get("rollouts") or []:
            note["impact"] = rollout_impact(build, note["assignment"], inventory, note.get("members") or [])
    return Planned(plan, remote)


def refresh(plan: Plan, arm: Arm, *, concurrency: int = 32) -> RemoteState:
    """Re-read exactly what the saved plan read, to check it is not stale."""
    scopes = plan.prior.get("scopes_read") or {}
    read = ReadPlan(tuple(scopes.get("definition", [])), tuple(scopes.get("assignment", [])),
                    tuple(scopes.get("role_assignment", [])), tuple(scopes.get("remediation", [])),
                    exemption_scopes=tuple(scopes.get("exemption", [])))
    return read_remote(arm, read, concurrency)


def check_saved_plan(plan: Plan, arm: Arm, *, concurrency: int = 32) -> RemoteState:
    remote = refresh(plan, arm, concurrency=concurrency)
    ensure_not_stale(plan, remote)
    return remote


@dataclass
class RemediationSetup:
    pairs: list[tuple[Any, list[Any]]]  # (desired assignment as deployed, its DINE/modify members)
    remote: RemoteState
    notes: list[str]


def remediation_setup(build: Build, target: Target, arm: Arm, *, only: str | None = None,
                      concurrency: int = 32) -> RemediationSetup:
    """Our deployed assignments with their remediable members, and the remediation tasks already there."""
    from policygen.errors import InputError

    desired = desired_state(build, target)
    labels = {a.name.lower() for a in desired.assignments.values()} | \
        {(a.label or a.name).lower() for a in desired.assignments.values()}  # a name, or name@scope for one copy
    if only and only.lower() not in labels:
        names = ", ".join(sorted((a.label or a.name) for a in desired.assignments.values())) or "none"
        raise InputError(f"no assignment {only!r} in the pack; assignments: {names}")
    scopes = tuple(sorted({a.scope for a in desired.assignments.values()}, key=str.lower))
    read = ReadPlan((), scopes, (), scopes, tuple(sorted(desired.builtin_references())))
    remote = read_remote(arm, read, concurrency)
    notes = derive(desired, remote.definition_body)
    pairs = []
    for k, a in sorted(desired.assignments.items(), key=lambda kv: kv[1].name):
        if only and only.lower() not in (a.name.lower(), (a.label or a.name).lower()):  # a name: each of its copies
            continue
        deployed = remote.assignments.get(k)
        if deployed is None:
            notes.append(f"{a.label or a.name}: not deployed to {target.env}; run `policygen apply` first")
            continue
        pairs.append((a, desired.remediations.get(k, [])))
    return RemediationSetup(pairs, remote, notes)


def deployed_assignments(build: Build, target: Target, arm: Arm, *, concurrency: int = 32) -> list[Any]:
    """Assignments carrying our owner marker at every scope the pack or environment uses."""
    desired = desired_state(build, target)
    scopes = [a.scope for a in desired.assignments.values()] + list(target.scopes.values())
    uniq = tuple(sorted({key(s): s for s in scopes}.values(), key=str.lower))
    remote = read_remote(arm, ReadPlan((), uniq, ()), concurrency)
    return [a for a in remote.assignments.values() if a.owner == target.owner_id]
