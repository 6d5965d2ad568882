"""`GET /providers/{namespace}/operations`: what each emulated resource provider serves, as ARM lists it.

The lists name the operations the emulator implements (not every operation Azure has), in ARM's shape:
`{"value": [{"name", "isDataAction", "display": {"provider", "resource", "operation", "description"}}]}`.
"""

from __future__ import annotations

from policygen.emulator.context import Context
from policygen.emulator.core import ArmError, Match, Request, Response

_PROVIDERS = {
    "microsoft.authorization": (
        "Microsoft Authorization",
        [
            ("policyDefinitions", "Policy Definition", ("read", "write", "delete")),
            ("policySetDefinitions", "Policy Set Definition", ("read", "write", "delete")),
            ("policyAssignments", "Policy Assignment", ("read", "write", "delete")),
            ("policyExemptions", "Policy Exemption", ("read", "write", "delete")),
            ("roleAssignments", "Role Assignment", ("read", "write", "delete")),
            ("roleDefinitions", "Role Definition", ("read", "write", "delete")),
        ],
    ),
    "microsoft.policyinsights": (
        "Microsoft Policy Insights",
        [
            ("policyEvents/queryResults", "Policy Events", ("action",)),
            ("policyStates/queryResults", "Policy States", ("action",)),
            ("policyStates/summarize", "Policy States", ("action",)),
            ("policyStates/triggerEvaluation", "Policy States", ("action",)),
            ("remediations", "Remediation", ("read", "write", "delete")),
            ("attestations", "Attestation", ("read", "write", "delete")),
            ("checkPolicyRestrictions", "Policy Restrictions", ("read",)),
        ],
    ),
    "microsoft.management": (
        "Microsoft Management",
        [
            ("managementGroups", "Management Group", ("read", "write", "delete")),
            ("managementGroups/descendants", "Management Group Descendants", ("read",)),
            ("managementGroups/subscriptions", "Management Group Subscriptions", ("read", "write", "delete")),
            ("getEntities", "Entities", ("action",)),
            ("checkNameAvailability", "Management Group Name", ("action",)),
        ],
    ),
}
_VERBS = {"read": "Read", "write": "Create or update", "delete": "Delete", "action": "Run"}


def list_operations(emu: Context, req: Request, m: Match) -> Response:
    namespace = m["ns"]
    if req.method != "GET":
        raise ArmError(405, "MethodNotAllowed", "The operations list is a GET.")
    provider, resources = _PROVIDERS[namespace.lower()]
    value = [
        {
            "name": f"{namespace}/{path}/{verb}",
            "isDataAction": False,
            "display": {
                "provider": provider,
                "resource": resource,
                "operation": f"{_VERBS[verb]} {resource}",
                "description": f"{_VERBS[verb]} {resource.lower()} ({path}).",
            },
        }
        for path, resource, verbs in resources
        for verb in verbs
    ]
    return Response(200, {"@odata.count": len(value), "value": value, "nextLink": None})


def unsupported(emu: Context, req: Request, m: Match) -> Response:
    """A Microsoft.Authorization / PolicyInsights / Management path the emulator has no handler for: ARM's
    answer for a resource type or action the provider does not register, never a generic resource."""
    rest = m["rest"].strip("/")
    first = rest.split("/", 1)[0]
    raise ArmError(
        400,
        "InvalidResourceType",
        f"The resource type '{first}' could not be found in the namespace '{m['ns']}' for api version "
        f"'{req.api_version}'. (The policygen emulator does not implement it; see docs/emulator.md.)",
    )
