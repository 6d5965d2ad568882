"""EFF: the effect and the `details` each effect requires."""

from __future__ import annotations

import re
from collections.abc import Iterable

from policygen.expressions import is_expression
from policygen.rules.base import Hit, Rule, Severity
from policygen.rules.model import Doc, analyse, ci_get, ci_key

EFFECTS_URL = "https://learn.microsoft.com/azure/governance/policy/concepts/effect-basics"


def _url(name: str) -> str:
    return f"https://learn.microsoft.com/azure/governance/policy/concepts/effect-{name}"


EFFECTS = frozenset(
    {
        "addtonetworkgroup",
        "append",
        "audit",
        "auditifnotexists",
        "deny",
        "denyaction",
        "deployifnotexists",
        "disabled",
        "manual",
        "modify",
        "mutate",
    }
)
BUILTIN_ONLY_EFFECTS = frozenset({"enforcesetting", "enforceregopolicy", "auditaction"})
ROLE_ID = re.compile(
    r"^(?:/subscriptions/[^/]+|/providers/Microsoft\.Management/managementGroups/[^/]+)?"
    r"/providers/Microsoft\.Authorization/roleDefinitions/[0-9a-fA-F-]{36}$",
    re.I,
)
DURATION = re.compile(r"^PT(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?$", re.I)
NETWORK_GROUP = re.compile(
    r"^/subscriptions/[^/]+/resourceGroups/[^/]+/providers/Microsoft\.Network/networkManagers/[^/]+"
    r"/networkGroups/[^/]+$",
    re.I,
)


def _expr(v: object) -> bool:
    return isinstance(v, str) and is_expression(v)


def _enum(v: object, allowed: Iterable[str]) -> bool:
    return _expr(v) or (isinstance(v, str) and v.lower() in {a.lower() for a in allowed})


def _details_key(doc: Doc, key: str) -> tuple[str | None, object]:
    det = doc.details
    if not isinstance(det, dict):
        return None, None
    k = ci_key(det, key)
    return k, det.get(k) if k else None


def _dptr(doc: Doc, key: str | None, *more: str | int) -> str:
    p = doc.details_ptr + ("/" + key if key else "")
    return p + "".join(f"/{m}" for m in more)


class EffectValue(Rule):
    """The effect is a known effect (case-insensitive) or a parameter whose allowed values all are."""

    code = "EFF-01"
    name = "effects.value"
    severity = Severity.ERROR
    source = EFFECTS_URL
    needs = ("effect_raw",)

    def check(self, doc: Doc) -> Iterable[Hit]:
        raw = doc.effect_raw
        if raw is None:
            return
        valid = EFFECTS if doc.custom else EFFECTS | BUILTIN_ONLY_EFFECTS
        ptr = doc.effect_ptr
        if not isinstance(raw, str):
            yield ptr, f"effect must be a string, not {raw!r}"
            return
        if not raw.startswith("["):
            if raw.lower() not in valid:
                yield ptr, f"unknown effect {raw!r}"
            return
        info = analyse(raw)
        if info.error is not None:
            return  # FN-01 reports the syntax
        if info.bare_param is None:
            yield ptr, f"effect must be a literal or [parameters('name')], not {raw!r}"
            return
        spec = doc.param_spec(info.bare_param)
        if spec is None:
            return  # PAR-05
        pname = doc.params_l[info.bare_param]
        base = doc.params_ptr + "/" + pname
        ak = ci_key(spec, "allowedValues")
        if ak is not None and isinstance(spec[ak], list):
            for i, v in enumerate(spec[ak]):
                if not (isinstance(v, str) and v.lower() in valid):
                    yield f"{base}/{ak}/{i}", f"allowed value {v!r} of effect parameter {pname!r} is not an effect"
        dk = ci_key(spec, "defaultValue")
        if dk is not None:
            dv = spec[dk]
            if not (isinstance(dv, str) and dv.lower() in valid):
                yield f"{base}/{dk}", f"default {dv!r} of effect parameter {pname!r} is not an effect"
        t = ci_get(spec, "type")
        if isinstance(t, str) and t.lower() != "string":
            yield base, f"effect parameter {pname!r} must be a string, not {t}"


class AuditDenyDetails(Rule):
    """audit/deny take no details in Resource Manager modes; in Kubernetes mode they need templateInfo."""

    code = "EFF-02"
    name = "effects.audit_deny_details"
    severity = Severity.ERROR
    source = _url("deny")
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
        tk, ti = _details_key(doc, "templateInfo")
        if tk is None:
            if ci_key(det, "constraintTemplate") is not None and not doc.custom:
                return  # deprecated form, still present in 3 built-ins
            yield doc.details_ptr, "details.templateInfo is required for Kubernetes audit/deny"
        elif isinstance(ti, dict):
            st = ci_get(ti, "sourceType")
            if not _enum(st, ("PublicURL", "Base64Encoded", "ConstraintTemplate")):
                yield _dptr(doc, tk), f"templateInfo.sourceType {st!r} is not PublicURL or Base64Encoded"
            elif isinstance(st, str) and st.lower() == "publicurl" and ci_get(ti, "url") is None:
                yield _dptr(doc, tk), "templateInfo with sourceType PublicURL needs 'url'"
            elif isinstance(st, str) and st.lower() == "base64encoded" and ci_get(ti, "content") is None:
                yield _dptr(doc, tk), "templateInfo with sourceType Base64Encoded needs 'content'"
        kk, kinds = _details_key(doc, "kinds")
        if doc.custom and kinds == ["*"]:
            yield _dptr(doc, kk), "details.kinds must list Kubernetes kinds, not ['*']"


class AppendDetails(Rule):
    """append: details is a non-empty array of {field, value}."""

    code = "EFF-03"
    name = "effects.append_details"
    severity = Severity.ERROR
    source = _url("append")
    effects = frozenset({"append"})

    def check(self, doc: Doc) -> Iterable[Hit]:
        if "append" not in doc.effects:
            return
        det = doc.details
        if not isinstance(det, list) or not det:
            yield doc.details_ptr or doc.then_ptr, "append needs details: a non-empty array of {field, value}"
            return
        for i, item in enumerate(det):
            if not isinstance(item, dict) or ci_key(item, "field") is None or ci_key(item, "value") is None:
                yield f"{doc.details_ptr}/{i}", "each append detail needs 'field' and 'value'"


def _if_types(doc: Doc) -> set[str]:
    """Literal types the `if` requires (top-level `type equals/in` conditions)."""
    out: set[str] = set()
    for c in doc.conds:
        if (
            c.region == "if"
            and not c.counts
            and c.operand == "field"
            and isinstance(c.operand_value, str)
            and c.operand_value.lower() == "type"
            and c.op in ("equals", "in")
        ):
            vals = c.op_value if isinstance(c.op_value, list) else [c.op_value]
            out.update(v.lower() for v in vals if isinstance(v, str))
    return out


def _existence_checks(doc: Doc) -> Iterable[Hit]:
    det = doc.details
    if not isinstance(det, dict):
        yield doc.details_ptr or doc.then_ptr, "auditIfNotExists/deployIfNotExists need details with 'type'"
        return
    tk, t = _details_key(doc, "type")
    if tk is None:
        yield doc.details_ptr, "details.type (the related resource type) is required"
    elif not isinstance(t, str):
        yield _dptr(doc, tk), "details.type must be a string"
    ek, scope = _details_key(doc, "existenceScope")
    if ek is not None and not _enum(scope, ("ResourceGroup", "Subscription")):
        yield _dptr(doc, ek), f"existenceScope {scope!r} is not ResourceGroup or Subscription"
    dk, delay = _details_key(doc, "evaluationDelay")
    if dk is not None and not _expr(delay):
        ok = isinstance(delay, str) and delay.lower() in (
            "afterprovisioning",
            "afterprovisioningsuccess",
            "afterprovisioningfailure",
        )
        if not ok and isinstance(delay, str):
            m = DURATION.match(delay)
            if m and any(m.groups()):
                h, mi, s = (int(g or 0) for g in m.groups())
                ok = h * 3600 + mi * 60 + s <= 360 * 60
        if not ok:
            yield _dptr(doc, dk), f"evaluationDelay {delay!r}: use AfterProvisioning* or an ISO 8601 duration ≤ PT360M"
    nk, name = _details_key(doc, "name")
    if (
        doc.custom
        and isinstance(t, str)
        and t.lower() in _if_types(doc)
        and nk is not None
        and not (
            isinstance(name, str)
            and name.replace(" ", "").lower() in ("[field('name')]", "[field('fullname')]")
            or _expr(name)
        )
    ):
        yield (
            _dptr(doc, nk),
            (
                "details.type equals the if type: name should be [field('name')] (the same "
                "resource); Azure accepts it but checks another resource"
            ),
            Severity.WARNING,
        )
    elif doc.custom and isinstance(t, str) and nk is None and t.lower() in _if_types(doc):
        yield (
            doc.details_ptr,
            "details.type equals the if type but no name is given: any resource of that type in the resource "
            "group satisfies the existence check; set name to [field('name')]",
            Severity.WARNING,
        )


class AuditIfNotExistsDetails(Rule):
    """auditIfNotExists: details.type required; existenceScope, evaluationDelay and name well formed."""

    code = "EFF-04"
    name = "effects.aine_details"
    severity = Severity.ERROR
    source = _url("audit-if-not-exists")
    effects = frozenset({"auditifnotexists"})

    def check(self, doc: Doc) -> Iterable[Hit]:
        if "auditifnotexists" in doc.effects and "deployifnotexists" not in doc.effects:
            yield from _existence_checks(doc)


class DeployIfNotExistsDetails(Rule):
    """deployIfNotExists: roleDefinitionIds and an incremental deployment with an embedded template."""

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


def _role_ids(doc: Doc) -> Iterable[Hit]:
    rk, roles = _details_key(doc, "roleDefinitionIds")
    if rk is None:
        yield doc.details_ptr, "details.roleDefinitionIds is required (the remediation identity's roles)"
        return
    if not isinstance(roles, list) or not roles:
        yield _dptr(doc, rk), "roleDefinitionIds must be a non-empty array of role definition IDs"
        return
    for i, r in enumerate(roles):
        if not (_expr(r) or (isinstance(r, str) and ROLE_ID.match(r))):
            yield (
                _dptr(doc, rk, i),
                (f"{r!r} is not a role definition ID (/providers/Microsoft.Authorization/roleDefinitions/<guid>)"),
            )


class ModifyDetails(Rule):
    """modify: roleDefinitionIds, non-empty operations (add/addOrReplace/remove), remove only on tags."""

    code = "EFF-06"
    name = "effects.modify_details"
    severity = Severity.ERROR
    source = _url("modify")
    effects = frozenset({"modify"})

    def check(self, doc: Doc) -> Iterable[Hit]:
        if "modify" not in doc.effects:
            return
        if not isinstance(doc.details, dict):
            yield doc.details_ptr or doc.then_ptr, "modify needs details with roleDefinitionIds and operations"
            return
        yield from _role_ids(doc)
        ck, conflict = _details_key(doc, "conflictEffect")
        if ck is not None and not _enum(conflict, ("audit", "deny", "disabled")):
            yield _dptr(doc, ck), f"conflictEffect {conflict!r} is not audit, deny or disabled"
        ok, ops = _details_key(doc, "operations")
        if not isinstance(ops, list) or not ops:
            yield _dptr(doc, ok) if ok else doc.details_ptr, "modify needs a non-empty operations array"
            return
        for i, op in enumerate(ops):
            ptr = _dptr(doc, ok, i)
            if not isinstance(op, dict):
                yield ptr, "an operation is an object {operation, field, value}"
                continue
            kind = ci_get(op, "operation")
            field = ci_get(op, "field")
            if not _enum(kind, ("add", "addOrReplace", "remove")):
                yield ptr, f"operation {kind!r} is not add, addOrReplace or remove"
            if field is None:
                yield ptr, "the operation needs 'field'"
            low = kind.lower() if isinstance(kind, str) else ""
            if low in ("add", "addorreplace") and ci_key(op, "value") is None:
                yield ptr, f"{kind!r} needs 'value'"
            if low == "remove" and isinstance(field, str) and not field.lower().startswith("tags") and not _expr(field):
                yield ptr, f"'remove' works only on tags, not {field!r}"


class DenyActionDetails(Rule):
    """denyAction: details.actionNames is ['delete']; cascadeBehaviors.resourceGroup is allow or deny."""

    code = "EFF-07"
    name = "effects.deny_action_details"
    severity = Severity.ERROR
    source = _url("deny-action")
    effects = frozenset({"denyaction"})

    def check(self, doc: Doc) -> Iterable[Hit]:
        if "denyaction" not in doc.effects:
            return
        ak, names = _details_key(doc, "actionNames")
        if not isinstance(names, list) or not names:
            yield _dptr(doc, ak) if ak else (doc.details_ptr or doc.then_ptr), "denyAction needs details.actionNames"
        else:
            for i, n in enumerate(names):
                if not _enum(n, ("delete",)):
                    yield _dptr(doc, ak, i), f"action {n!r} is not supported (only 'delete')"
        ck, cascade = _details_key(doc, "cascadeBehaviors")
        if ck is not None:
            rg = ci_get(cascade, "resourceGroup") if isinstance(cascade, dict) else None
            if not isinstance(cascade, dict) or (rg is not None and not _enum(rg, ("allow", "deny"))):
                yield _dptr(doc, ck), f"cascadeBehaviors.resourceGroup must be allow or deny, not {rg!r}"


class ManualDetails(Rule):
    """manual: details.defaultState is Unknown, Compliant or NonCompliant."""

    code = "EFF-08"
    name = "effects.manual_details"
    severity = Severity.ERROR
    source = _url("manual")
    effects = frozenset({"manual"})

    def check(self, doc: Doc) -> Iterable[Hit]:
        if "manual" not in doc.effects:
            return
        sk, state = _details_key(doc, "defaultState")
        if sk is not None and not _enum(state, ("Unknown", "Compliant", "NonCompliant")):
            yield _dptr(doc, sk), f"defaultState {state!r} is not Unknown, Compliant or NonCompliant"


class MutateDetails(Rule):
    """mutate: details.mutationInfo (PublicURL or Base64Encoded); the effect cannot be parameterised."""

    code = "EFF-09"
    name = "effects.mutate_details"
    severity = Severity.ERROR
    source = _url("mutate")
    effects = frozenset({"mutate"})

    def check(self, doc: Doc) -> Iterable[Hit]:
        if "mutate" not in doc.effects:
            return
        if doc.effect_param and doc.custom:
            yield doc.effect_ptr, "mutate cannot be parameterised"
        mk, info = _details_key(doc, "mutationInfo")
        if not isinstance(info, dict):
            yield _dptr(doc, mk) if mk else (doc.details_ptr or doc.then_ptr), "mutate needs details.mutationInfo"
        elif not _enum(ci_get(info, "sourceType"), ("PublicURL", "Base64Encoded")):
            yield _dptr(doc, mk), "mutationInfo.sourceType must be PublicURL or Base64Encoded"


class AddToNetworkGroupDetails(Rule):
    """addToNetworkGroup: details.networkGroupId is a full AVNM network-group resource ID."""

    code = "EFF-10"
    name = "effects.network_group_details"
    severity = Severity.ERROR
    source = _url("add-to-network-group")
    effects = frozenset({"addtonetworkgroup"})

    def check(self, doc: Doc) -> Iterable[Hit]:
        if "addtonetworkgroup" not in doc.effects:
            return
        nk, gid = _details_key(doc, "networkGroupId")
        if not (_expr(gid) or (isinstance(gid, str) and NETWORK_GROUP.match(gid))):
            yield (
                _dptr(doc, nk) if nk else (doc.details_ptr or doc.then_ptr),
                (f"networkGroupId {gid!r} is not a network group resource ID"),
            )


class DisabledDetails(Rule):
    """A literal disabled effect ignores its details."""

    code = "EFF-11"
    name = "effects.disabled"
    severity = Severity.INFO
    source = _url("disabled")
    effects = frozenset({"disabled"})

    def check(self, doc: Doc) -> Iterable[Hit]:
        if doc.effects == {"disabled"} and not doc.effect_param and doc.details is not None:
            yield doc.details_ptr, "effect is literally 'disabled': details are never used"


class RoleIdsOnlyForRemediation(Rule):
    """roleDefinitionIds belong only to deployIfNotExists and modify."""

    code = "EFF-12"
    name = "effects.role_ids_placement"
    severity = Severity.ERROR
    source = "https://github.com/tyconsulting/AzPolicyTest"
    applies = "custom"

    def check(self, doc: Doc) -> Iterable[Hit]:
        rk, _ = _details_key(doc, "roleDefinitionIds")
        if rk is None or not doc.effects or doc.effects & {"deployifnotexists", "modify"}:
            return
        if doc.custom:  # Azure accepts it (built-ins carry it): an error only in our own output
            yield (
                _dptr(doc, rk),
                "roleDefinitionIds is used only by deployIfNotExists and modify",
                Severity.ERROR if doc.own else Severity.WARNING,
            )


_MODIFIABLE: frozenset[str] | None = None


def modifiable_aliases() -> frozenset[str]:
    """Aliases known to be Modifiable: those Microsoft's built-in modify definitions change (shipped list)
    plus those the `aliases sync` cache marks Modifiable (`defaultMetadata.attributes`)."""
    global _MODIFIABLE
    if _MODIFIABLE is None:
        from importlib import resources

        text = resources.files("policygen.data").joinpath("modifiable-aliases.txt").read_text(encoding="utf-8")
        names = {line.strip().lower() for line in text.splitlines() if line.strip() and not line.startswith("#")}
        names |= synced_modifiable_aliases()
        _MODIFIABLE = frozenset(names)
    return _MODIFIABLE


def synced_modifiable_aliases(cache_dir: object = None) -> set[str]:
    """Lower-case aliases whose synced metadata says Modifiable (empty when there is no cache)."""
    import json
    from pathlib import Path

    from policygen.aliases import default_cache_dir

    path = Path(cache_dir or default_cache_dir()) / "aliases.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return set()
    providers = data.get("value", []) if isinstance(data, dict) else data if isinstance(data, list) else []
    out: set[str] = set()
    for provider in providers:
        for rtype in (provider or {}).get("resourceTypes") or [] if isinstance(provider, dict) else []:
            for alias in (rtype or {}).get("aliases") or []:
                meta = alias.get("defaultMetadata") if isinstance(alias, dict) else None
                attrs = meta.get("attributes") if isinstance(meta, dict) else None
                if isinstance(attrs, str) and "modifiable" in attrs.lower() and isinstance(alias.get("name"), str):
                    out.add(alias["name"].lower())
    return out


class ModifiableAliases(Rule):
    """Modify changes only aliases marked Modifiable (tags always are); otherwise conflictEffect applies."""

    code = "EFF-13"
    name = "effects.modifiable_aliases"
    severity = Severity.WARNING
    source = _url("modify")
    applies = "own"

    def check(self, doc: Doc) -> Iterable[Hit]:
        if "modify" not in doc.effects or not doc.own:
            return
        ok, ops = _details_key(doc, "operations")
        if not isinstance(ops, list):
            return
        for i, op in enumerate(ops):
            field = ci_get(op, "field") if isinstance(op, dict) else None
            if (
                isinstance(field, str)
                and "/" in field
                and not _expr(field)
                and field.lower() not in modifiable_aliases()
            ):
                yield (
                    _dptr(doc, ok, i),
                    (
                        f"cannot confirm {field!r} is Modifiable (no built-in modify policy changes it and the "
                        "catalogue has no Modifiable attribute); "
                        "if it is not, conflictEffect applies"
                    ),
                )
