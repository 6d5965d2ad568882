"""Routing: regular expressions on the path (case-insensitive), most specific provider first.

`(?P<scope>.*)` is greedy, so `/{resourceId}/providers/Microsoft.Authorization/roleAssignments/x` binds the
*last* provider segment, and a generic resource route only sees paths no ARM family claimed.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable

from policygen.arm.scopes import subscription_and_group
from policygen.emulator import (
    assignments,
    attestations,
    deployments,
    events,
    exemptions,
    insights,
    management,
    operations,
    policy,
    rbac,
    remediation,
    resources,
    restrictions,
)
from policygen.emulator.context import Context
from policygen.emulator.core import ArmError, Match, Request, Response

Handler = Callable[[Context, Request, Match], Response]

_AUTH = r"(?P<scope>.*)/providers/Microsoft\.Authorization"
_PI = r"(?P<scope>.*)/providers/Microsoft\.PolicyInsights"
_MGMT = r"/providers/Microsoft\.Management"
_POLICY_NAMESPACES = r"Microsoft\.(?:Authorization|PolicyInsights|Management)"

ROUTES: list[tuple[re.Pattern[str], Handler]] = [
    (re.compile(p + "$", re.I), h)
    for p, h in [
        (
            _AUTH + r"/(?P<kind>policyDefinitions|policySetDefinitions)/(?P<name>[^/]+)/versions(?:/(?P<ver>[^/]+))?",
            policy.versions,
        ),
        (_AUTH + r"/(?P<kind>policyDefinitions|policySetDefinitions)(?:/(?P<name>[^/]+))?", policy.definitions),
        (_AUTH + r"/(?P<op>listPolicyDefinitionVersions|listPolicySetDefinitionVersions)", policy.list_all_versions),
        (_AUTH + r"/policyAssignments(?:/(?P<name>[^/]+))?", assignments.handle),
        (_AUTH + r"/policyExemptions(?:/(?P<name>[^/]+))?", exemptions.handle),
        (_AUTH + r"/roleAssignments(?:/(?P<name>[^/]+))?", rbac.role_assignments),
        (_AUTH + r"/roleDefinitions(?:/(?P<name>[^/]+))?", rbac.role_definitions),
        (_PI + r"/remediations(?:/(?P<name>[^/]+)(?:/(?P<action>cancel|listDeployments))?)?", remediation.handle),
        (
            _PI + r"/policyStates/(?P<res>latest|default)/(?P<action>queryResults|summarize|triggerEvaluation)",
            insights.policy_states,
        ),
        (_PI + r"/asyncOperationResults/(?P<op>[^/]+)", insights.operation_result),
        (_PI + r"/policyEvents/(?P<res>default)/queryResults", events.query),
        (_PI + r"/checkPolicyRestrictions", restrictions.check),
        (_PI + r"/attestations(?:/(?P<name>[^/]+))?", attestations.handle),
        (
            r"/providers/(?P<ns>Microsoft\.(?:Authorization|PolicyInsights|Management))/operations",
            operations.list_operations,
        ),
        (r"(?P<scope>.*)/providers/Microsoft\.ManagedIdentity/identities/default", rbac.system_identity),
        (r"(?P<scope>.*)/providers/Microsoft\.Resources/deployments/(?P<name>[^/]+)", deployments.handle),
        (_MGMT + r"/operationResults/(?P<op>[^/]+)/managementGroups/(?P<mg>[^/]+)", management.mg_operation),
        (_MGMT + r"/managementGroups/(?P<mg>[^/]+)/descendants", management.mg_descendants),
        (_MGMT + r"/managementGroups/(?P<mg>[^/]+)/subscriptions(?:/(?P<sub>[^/]+))?", management.mg_subscriptions),
        (_MGMT + r"/managementGroups/(?P<mg>[^/]+)/settings(?:/default)?", management.mg_settings),
        (_MGMT + r"/managementGroups(?:/(?P<mg>[^/]+))?", management.management_groups),
        (_MGMT + r"/getEntities", management.entities),
        (_MGMT + r"/checkNameAvailability", management.check_name_availability),
        # Anything else in the policy namespaces is a type the emulator does not serve: ARM's error, not a resource.
        (
            r"(?P<scope>.*)/providers/(?P<ns>" + _POLICY_NAMESPACES + r")/(?P<rest>.+)",
            operations.unsupported,
        ),
        (r"/subscriptions(?:/(?P<sub>[^/]+))?", management.subscriptions),
        (r"/subscriptions/(?P<sub>[^/]+)/resourcegroups(?:/(?P<rg>[^/]+))?", management.resource_groups),
        (r"/subscriptions/(?P<sub>[^/]+)(?:/resourcegroups/(?P<rg>[^/]+))?/resources", resources.list_resources),
        (r"/subscriptions/(?P<sub>[^/]+)(?:/resourcegroups/(?P<rg>[^/]+))?/providers/(?P<rest>.+)", resources.handle),
    ]
]

def subscription_of(path: str) -> str | None:
    return subscription_and_group(path)[0]


def dispatch(emu: Context, req: Request) -> Response:
    for pattern, handler in ROUTES:
        m = pattern.match(req.path)
        if m:
            return handler(emu, req, Match(m.groupdict()))
    raise ArmError(
        404,
        "InvalidResourceType" if "/providers/" in req.path else "NotFound",
        f"The emulator serves no resource at '{req.path}'.",
    )


def msi_token(emu: Context, req: Request) -> Response:
    """The managed-identity token endpoint, so DefaultAzureCredential works against the emulator."""
    resource = req.q("resource") or "https://management.azure.com"
    return Response(
        200,
        {
            "access_token": "emulator-token",
            "expires_on": str(int(time.time()) + 3600),
            "resource": resource,
            "token_type": "Bearer",
        },
    )
