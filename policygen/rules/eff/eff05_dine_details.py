"""EFF-05 (effects.dine_details)."""

from __future__ import annotations

from collections.abc import Iterable

from policygen.arm.lookup import ci_get, ci_key
from policygen.rules.base import Hit, Rule, Severity
from policygen.rules.eff.common import details_key, effect_url, existence_checks, in_details, is_one_of, role_id_hits
from policygen.rules.model import Doc


class DeployIfNotExistsDetails(Rule):
    """deployIfNotExists: roleDefinitionIds and an incremental deployment with an embedded template.

    Remediation needs the roles for its managed identity and an incremental deployment of an embedded
    template.

    **Anti-pattern**

    ```jsonc
    {"effect": "deployIfNotExists", "details": {"type": "Microsoft.Insights/diagnosticSettings",
      "deployment": {"properties": {"mode": "complete", "templateLink": {"uri": "https://example/t.json"}}}}}
    ```

    **Better**

    ```json
    {"effect": "deployIfNotExists", "details": {"type": "Microsoft.Insights/diagnosticSettings",
      "roleDefinitionIds": ["/providers/Microsoft.Authorization/roleDefinitions/749f88d5-cbae-40b8-bcfc-e573ddc772fa"],
      "deployment": {"properties": {"mode": "incremental", "template": {"resources": []}}}}}
    ```

    Code: EFF-05 (error)
    Source: https://learn.microsoft.com/azure/governance/policy/concepts/effect-deploy-if-not-exists
    """

    code = "EFF-05"
    name = "effects.dine_details"
    severity = Severity.ERROR
    source = effect_url("deploy-if-not-exists")
    effects = frozenset({"deployifnotexists"})

    def check(self, doc: Doc) -> Iterable[Hit]:
        if "deployifnotexists" not in doc.effects:
            return
        yield from existence_checks(doc)
        if not isinstance(doc.details, dict):
            return
        yield from role_id_hits(doc)
        dk, dep = details_key(doc, "deployment")
        if not isinstance(dep, dict):
            yield (
                in_details(doc, dk) if dk else doc.details_ptr,
                "details.deployment (a Deployments PUT body) is required",
            )
            return
        pk = ci_key(dep, "properties")
        props = dep.get(pk) if pk else None
        if not isinstance(props, dict):
            yield in_details(doc, dk), "deployment.properties is required"
            return
        mk = ci_key(props, "mode")
        mode = props.get(mk) if mk else None
        if not (isinstance(mode, str) and mode.lower() == "incremental"):
            yield in_details(doc, dk, pk, mk or "mode"), f"deployment mode must be 'incremental', not {mode!r}"
        if ci_key(props, "templateLink") is not None:
            yield (
                in_details(doc, dk, pk, ci_key(props, "templateLink")),
                "linked templates are not supported; embed it",
            )
        elif not isinstance(ci_get(props, "template"), dict):
            yield in_details(doc, dk, pk), "deployment.properties.template (an embedded template) is required"
        sk, scope = details_key(doc, "deploymentScope")
        if sk is not None:
            if not is_one_of(scope, ("ResourceGroup", "Subscription")):
                yield in_details(doc, sk), f"deploymentScope {scope!r} is not ResourceGroup or Subscription"
            elif isinstance(scope, str) and scope.lower() == "subscription" and ci_key(dep, "location") is None:
                yield in_details(doc, dk), "subscription-scope deployments need deployment.location"
