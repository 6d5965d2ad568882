"""Shared helpers for the plan/apply/remediate/status tests: an emulator seeded like `policygen demo`,
the real SDK clients through `policygen.azure`, a small hand-written pack, and request-log queries."""

from __future__ import annotations

import contextlib
import dataclasses
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from policygen.azure.retry import RetrySettings
from policygen.azure.target import ENDPOINT_ENV, resolve_target
from policygen.azure.workflow import connect, plan_build
from policygen.emulator import running_emulator
from policygen.render import compile_pack

REPO = Path(__file__).resolve().parents[2]
SEED = REPO / "examples" / "seed" / "local.yaml"
MG = "/providers/Microsoft.Management/managementGroups"
PROD, DEV, ROOT = f"{MG}/mlops-prod", f"{MG}/mlops-dev", f"{MG}/contoso"
SUB_PROD = "00000000-0000-0000-0000-000000000001"
WRITE_METHODS = {"PUT", "DELETE", "PATCH", "POST"}

MINI_PACK = {
    "policygen.yaml": """
        name: mini
        ownerId: policygen-mini
        definitionScope: /providers/Microsoft.Management/managementGroups/contoso
        environments:
          local:
            cloud: local
            definitionScope: /providers/Microsoft.Management/managementGroups/contoso
            scopes:
              prod: /providers/Microsoft.Management/managementGroups/mlops-prod
              dev: /providers/Microsoft.Management/managementGroups/mlops-dev
            identityLocation: westeurope
            strategy: ownedOnly
    """,
    "definitions/tagged.yaml": """
        intent: custom
        name: tagged
        displayName: Storage accounts carry the tag
        effect: {default: Audit, allowed: [Audit, Disabled]}
        parameters:
          tagName: {type: String, defaultValue: env}
        settings:
          if:
            allOf:
              - {field: type, equals: Microsoft.Storage/storageAccounts}
              - {field: "[concat('tags[', parameters('tagName'), ']')]", exists: false}
    """,
    "definitions/ws-private.yaml": """
        intent: disable-public-network-access
        resourceTypes: [Microsoft.MachineLearningServices/workspaces]
        displayName: Workspaces disable public network access
        effect: {default: Modify, allowed: [Modify, Disabled]}
    """,
    "initiatives/base.yaml": """
        name: base
        displayName: Mini baseline
        members:
          - {definition: tagged}
          - {definition: ws-private}
    """,
    "assignments/base.yaml": """
        name: mini-base
        displayName: Mini baseline (prod)
        initiative: base
        scope: prod
        identity: {type: SystemAssigned}
        remediation: {enabled: true}
    """,
}

TAGGED_WITHOUT_PARAMETER = """
    intent: custom
    name: tagged
    displayName: Storage accounts carry the env tag
    effect: {default: Audit, allowed: [Audit, Disabled]}
    settings:
      if:
        allOf:
          - {field: type, equals: Microsoft.Storage/storageAccounts}
          - {field: "tags['env']", exists: false}
"""


def write_pack(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        target = root / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return root


def fast_retry(**overrides: Any) -> RetrySettings:
    kw: dict[str, Any] = {"attempts": 20, "base_s": 0.01, "cap_s": 0.05, "principal_timeout_s": 20.0,
                          "principal_base_s": 0.02}
    kw.update(overrides)
    return RetrySettings(**kw)


@contextlib.contextmanager
def emulator(monkeypatch: Any, **options: Any) -> Iterator[Any]:
    """The demo's tenant (contoso -> mlops-prod, mlops-dev + inventory), POLICYGEN_ENDPOINT pointing at it."""
    options.setdefault("remediation_step_s", 0.005)
    with running_emulator(seed=str(SEED), **options) as url:
        monkeypatch.setenv(ENDPOINT_ENV, url)
        yield url


class Session:
    """A pack compiled for `local`, its target, and an `Arm` on the emulator."""

    def __init__(self, pack: Path = REPO, *, concurrency: int = 16, **retry: Any):
        self.pack = pack
        self.build = compile_pack(pack, env="local")
        self.target = resolve_target(self.build, "local")
        self.concurrency = concurrency
        self.arm = connect(self.target, concurrency=concurrency, settings=fast_retry(**retry))

    def recompile(self) -> None:
        self.build = compile_pack(self.pack, env="local")

    def plan(self) -> Any:
        return plan_build(self.build, self.target, self.arm, concurrency=self.concurrency).plan


def writes(url: Any, since: int = 0) -> list[dict[str, Any]]:
    """ARM writes served since request number `since` (policy-state queries, which are POSTs, excluded)."""
    return [r for r in url.requests[since:] if r["method"] in WRITE_METHODS
            and "/policyStates/" not in r["path"] and r["status"] < 400]


def role_assignments(session: Session, scopes: list[str]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for scope in scopes:
        out.extend(session.arm.list_role_assignments(scope))
    return out


@dataclasses.dataclass
class CliResult:
    exit_code: int
    output: str


def cli(args: list[str], input: str | None = None) -> CliResult:  # noqa: A002 - click's name
    """Run the CLI in-process through `policygen.cli.run`, stdout and stderr captured together."""
    from typer.testing import CliRunner

    from policygen.cli import run

    with CliRunner().isolation(input=input) as (_, _, output):
        code = run(args)
        return CliResult(code, output.getvalue().decode("utf-8"))
