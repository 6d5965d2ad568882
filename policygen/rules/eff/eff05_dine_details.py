"""EFF-05 (effects.dine_details)."""

from __future__ import annotations

from collections.abc import Iterable

from policygen.arm.lookup import ci_get, ci_key
from policygen.rules.base import Hit, Rule, Severity
from policygen.rules.eff.common import _details_key, _dptr, _enum, _existence_checks, _role_ids, _url
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
    source = _url("deploy-if-not-exists")
    effects = frozenset({"deployifnotexists"})

    def check(self, doc: Doc) -> Iterable[Hit]:
        if "deployifnotexists" not in doc.effects:
            return
        yield from _existence_checks(doc)
        if not isinstance(doc.details, dict):
            return
        yield from _role_ids(doc)
        dk, dep = _details_key(doc, "deployment")
        if not isinstance(dep, dict):
            yield _dptr(doc, dk) if dk else doc.details_ptr, "details.deployment (a Deployments PUT body) is required"
            return
        pk = ci_key(dep, "properties")
        props = dep.get(pk) if pk else None
        if not isinstance(props, dict):
            yield _dptr(doc, dk), "deployment.properties is required"
            return
        mk = ci_key(props, "mode")
        mode = props.get(mk) if mk else None
        if not (isinstance(mode, str) and mode.lower() == "incremental"):
            yield _dptr(doc, dk, pk, mk or "mode"), f"deployment mode must be 'incremental', not {mode!r}"
        if ci_key(props, "templateLink") is not None:
            yield _dptr(doc, dk, pk, ci_key(props, "templateLink")), "linked templates are not supported; embed it"
        elif not isinstance(ci_get(props, "template"), dict):
            yield _dptr(doc, dk, pk), "deployment.properties.template (an embedded template) is required"
        sk, scope = _details_key(doc, "deploymentScope")
        if sk is not None:
            if not _enum(scope, ("ResourceGroup", "Subscription")):
                yield _dptr(doc, sk), f"deploymentScope {scope!r} is not ResourceGroup or Subscription"
            elif isinstance(scope, str) and scope.lower() == "subscription" and ci_key(dep, "location") is None:
                yield _dptr(doc, dk), "subscription-scope deployments need deployment.location"
