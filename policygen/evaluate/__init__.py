"""Offline evaluator of the Azure Policy rule language.

    policy = compile_policy(definition, {"effect": "Deny"})      # once (REST form or bare properties)
    outcome = policy.evaluate(resource, related=[...])          # many times
    rows = evaluate_inventory([(name, policy), ...], resources)  # impact analysis, indexed by type

`Outcome`: `matched` (the `if`), `effect` (resolved, lower-case), `compliant` (True / False; None when
the effect is disabled, manual with default state Unknown, or the policy does not apply to the
resource), `applicable`, `denied` (a create/update would be blocked: deny, append conflict, modify
conflict with conflictEffect deny, or a failed evaluation), `error` (evaluation failed: Azure's
implicit deny), `modified` (modify/append: the resource after remediation; the input is never
changed) and `reasons` (the trace: which condition decided). `EvalContext` supplies what
`subscription()`, `resourceGroup()`, `requestContext()`, `policy()` and `utcNow()` return; unset
values come from the resource id. `UnsupportedError` (a PolicygenError) is raised at compile time for
constructs that cannot run.

Modules: `expr` / `functions` (template expressions, parsed by `policygen.arm.expressions`), `paths`
(aliases resolved per resource type and API version, `[*]`, count binding), `operators` (a missing value
is null, not ""), `conditions` (condition tree, type index, applicability of a rule, Azure's limits),
`applicability` (the one mode answer shared with the emulator; resource-group / subscription spellings
via `policygen.arm.resource_types`), `effects` (modify/append, Modifiable aliases, related resources),
`policy` (definitions, effects, outcomes), `admission` (what policy does to one create/update request:
`check`, the emulator's deny and checkPolicyRestrictions), `inventory` (indexed evaluation, inventory files), `sources`
(packs and definition files for `impact`), `refusals` (the validator's errors: what Azure would not have
created is not evaluated), `context` (`--context FILE` / a test's `context:`), `testing` (policy unit
tests). Semantics: shared/reference/azure-policy-rules.md section 2; ambiguities are noted in the
module docstrings.
"""

from policygen.evaluate.errors import EvaluationFailure, UnsupportedError
from policygen.evaluate.inventory import ImpactRow, evaluate_inventory, load_inventory, resources_from_json
from policygen.evaluate.policy import CompiledPolicy, Outcome, compile_policy
from policygen.evaluate.runtime import EvalContext

__all__ = [
    "CompiledPolicy",
    "EvalContext",
    "EvaluationFailure",
    "ImpactRow",
    "Outcome",
    "UnsupportedError",
    "compile_policy",
    "evaluate_inventory",
    "load_inventory",
    "resources_from_json",
]
