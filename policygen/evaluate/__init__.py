"""Offline evaluator of the Azure Policy rule language.

    policy = compile_policy(definition, {"effect": "Deny"})      # once
    outcome = policy.evaluate(resource, related=[...])          # many times
    rows = evaluate_inventory([(name, policy), ...], resources)  # impact analysis

Modules: `parser` / `expr` / `functions` (template expressions), `paths` (aliases, `[*]`, count
binding), `operators`, `conditions` (the condition tree), `effects` (modify/append, related resources),
`policy` (definitions, effects, outcomes), `inventory` (indexed evaluation of many resources),
`testing` (policy unit tests). Semantics: shared/reference/azure-policy-rules.md section 2.
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
