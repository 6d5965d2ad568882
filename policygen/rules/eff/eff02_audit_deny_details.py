"""EFF-02 (effects.audit_deny_details)."""

from __future__ import annotations

from collections.abc import Iterable

from policygen.arm.lookup import ci_get, ci_key
from policygen.rules.base import Hit, Rule, Severity
from policygen.rules.eff.common import details_key, effect_url, in_details, is_one_of
from policygen.rules.model import Doc


class AuditDenyDetails(Rule):
    """audit/deny take no details in Resource Manager modes; in Kubernetes mode they need templateInfo.

    Resource Manager audit/deny ignore or reject details; the Kubernetes ones need the template.

    **Anti-pattern**

    ```json
    {"then": {"effect": "deny", "details": {"type": "Microsoft.Storage/storageAccounts"}}}
    ```

    **Better**

    ```json
    {"then": {"effect": "deny"}}
    ```

    Code: EFF-02 (error)
    Source: https://learn.microsoft.com/azure/governance/policy/concepts/effect-deny
    """

    code = "EFF-02"
    name = "effects.audit_deny_details"
    severity = Severity.ERROR
    source = effect_url("deny")
    effects = frozenset({"audit", "deny"})

    def check(self, doc: Doc) -> Iterable[Hit]:
        effects = doc.effects
        if not effects or not effects & {"audit", "deny"}:
            return
        if doc.rm_mode:
            if doc.custom and doc.details is not None and effects <= {"audit", "deny", "disabled"}:
                yield doc.details_ptr, "audit and deny take no details in Resource Manager modes"
            return
        if doc.mode_l != "microsoft.kubernetes.data":
            return
        det = doc.details
        if not isinstance(det, dict):
            yield doc.then_ptr, "Kubernetes audit/deny need details with templateInfo, apiGroups and kinds"
            return
        tk, ti = details_key(doc, "templateInfo")
        if tk is None:
            if ci_key(det, "constraintTemplate") is not None and not doc.custom:
                return  # deprecated form, still present in 3 built-ins
            yield doc.details_ptr, "details.templateInfo is required for Kubernetes audit/deny"
        elif isinstance(ti, dict):
            st = ci_get(ti, "sourceType")
            if not is_one_of(st, ("PublicURL", "Base64Encoded", "ConstraintTemplate")):
                yield in_details(doc, tk), f"templateInfo.sourceType {st!r} is not PublicURL or Base64Encoded"
            elif isinstance(st, str) and st.lower() == "publicurl" and ci_get(ti, "url") is None:
                yield in_details(doc, tk), "templateInfo with sourceType PublicURL needs 'url'"
            elif isinstance(st, str) and st.lower() == "base64encoded" and ci_get(ti, "content") is None:
                yield in_details(doc, tk), "templateInfo with sourceType Base64Encoded needs 'content'"
        kk, kinds = details_key(doc, "kinds")
        if doc.custom and kinds == ["*"]:
            yield in_details(doc, kk), "details.kinds must list Kubernetes kinds, not ['*']"
