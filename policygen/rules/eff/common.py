"""Helpers shared by the EFF rules."""

from __future__ import annotations

import re
from collections.abc import Iterable

from policygen.arm.expressions import is_expression
from policygen.arm.lookup import ci_key
from policygen.rules.base import Hit, Severity
from policygen.rules.model import Doc


def effect_url(name: str) -> str:
    return f"https://learn.microsoft.com/azure/governance/policy/concepts/effect-{name}"


ROLE_ID = re.compile(
    r"^(?:/subscriptions/[^/]+|/providers/Microsoft\.Management/managementGroups/[^/]+)?"
    r"/providers/Microsoft\.Authorization/roleDefinitions/[0-9a-fA-F-]{36}$",
    re.I,
)

DURATION = re.compile(r"^PT(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?$", re.I)


def is_expr(v: object) -> bool:
    return isinstance(v, str) and is_expression(v)


def is_one_of(v: object, allowed: Iterable[str]) -> bool:
    return is_expr(v) or (isinstance(v, str) and v.lower() in {a.lower() for a in allowed})


def details_key(doc: Doc, key: str) -> tuple[str | None, object]:
    det = doc.details
    if not isinstance(det, dict):
        return None, None
    k = ci_key(det, key)
    return k, det.get(k) if k else None


def in_details(doc: Doc, key: str | None, *more: str | int) -> str:
    p = doc.details_ptr + ("/" + key if key else "")
    return p + "".join(f"/{m}" for m in more)


def if_types(doc: Doc) -> set[str]:
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


def existence_checks(doc: Doc) -> Iterable[Hit]:
    det = doc.details
    if not isinstance(det, dict):
        yield doc.details_ptr or doc.then_ptr, "auditIfNotExists/deployIfNotExists need details with 'type'"
        return
    tk, t = details_key(doc, "type")
    if tk is None:
        yield doc.details_ptr, "details.type (the related resource type) is required"
    elif not isinstance(t, str):
        yield in_details(doc, tk), "details.type must be a string"
    ek, scope = details_key(doc, "existenceScope")
    if ek is not None and not is_one_of(scope, ("ResourceGroup", "Subscription")):
        yield in_details(doc, ek), f"existenceScope {scope!r} is not ResourceGroup or Subscription"
    dk, delay = details_key(doc, "evaluationDelay")
    if dk is not None and not is_expr(delay):
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
            yield (
                in_details(doc, dk),
                f"evaluationDelay {delay!r}: use AfterProvisioning* or an ISO 8601 duration ≤ PT360M",
            )
    nk, name = details_key(doc, "name")
    # "When the condition values for if.field.type and then.details.type match, then name becomes required
    # and must be [field('name')], or [field('fullName')] for a child resource" (effect pages).
    if (
        doc.custom
        and isinstance(t, str)
        and t.lower() in if_types(doc)
        and nk is not None
        and not (
            isinstance(name, str)
            and name.replace(" ", "").lower() in ("[field('name')]", "[field('fullname')]")
            or is_expr(name)
        )
    ):
        yield (
            in_details(doc, nk),
            (
                "details.type equals the if type, so details.name is required and must be [field('name')] "
                "(or [field('fullName')] for a child resource): the existence check is about the same resource"
            ),
            Severity.ERROR,
        )
    elif doc.custom and isinstance(t, str) and nk is None and t.lower() in if_types(doc):
        yield (
            doc.details_ptr,
            "details.type equals the if type, so details.name is required: set it to [field('name')] "
            "(without it any resource of that type in the resource group satisfies the existence check)",
            Severity.ERROR,
        )


def role_id_hits(doc: Doc) -> Iterable[Hit]:
    rk, roles = details_key(doc, "roleDefinitionIds")
    if rk is None:
        yield doc.details_ptr, "details.roleDefinitionIds is required (the remediation identity's roles)"
        return
    if not isinstance(roles, list) or not roles:
        yield in_details(doc, rk), "roleDefinitionIds must be a non-empty array of role definition IDs"
        return
    for i, r in enumerate(roles):
        if not (is_expr(r) or (isinstance(r, str) and ROLE_ID.match(r))):
            yield (
                in_details(doc, rk, i),
                (f"{r!r} is not a role definition ID (/providers/Microsoft.Authorization/roleDefinitions/<guid>)"),
            )
