"""Which ARM template functions a policy rule may call: the one list of banned ones.

"All Resource Manager template functions are available to use within a policy rule, except": copyIndex,
dateTimeAdd, dateTimeFromEpoch, dateTimeToEpoch, deployment, environment, extensionResourceId, lambda
(and the lambda functions), listAccountSas, listKeys, listSecrets, list*, managementGroup, newGuid,
pickZones, providers, reference, resourceId, subscriptionResourceId, tenantResourceId, tenant, variables,
and user-defined functions. They stay usable inside a deployIfNotExists `deployment.properties.template`,
which ARM (not Policy) evaluates.
https://learn.microsoft.com/azure/governance/policy/concepts/definition-structure-policy-rule#policy-functions
Policy adds its own functions (same page): field, current, addDays, requestContext, policy, ipRangeContains.
"""

from __future__ import annotations

__all__ = ["BANNED", "LAMBDA", "POLICY_ONLY", "is_banned"]

# The lambda functions (https://learn.microsoft.com/azure/azure-resource-manager/templates/template-functions-lambda):
# all take a lambda, which Policy rejects.
LAMBDA = frozenset(
    {"filter", "groupby", "lambda", "lambdavariables", "map", "mapvalues", "reduce", "sort", "toobject"}
)

# Lower-case names; every `list*` function is banned as well (see `is_banned`).
BANNED = LAMBDA | frozenset(
    {
        "copyindex",
        "datetimeadd",
        "datetimefromepoch",
        "datetimetoepoch",
        "deployment",
        "environment",
        "extensionresourceid",
        "listaccountsas",
        "listkeys",
        "listsecrets",
        "managementgroup",
        "managementgroupresourceid",  # a resourceId() variant, rejected with its family
        "newguid",
        "pickzones",
        "providers",
        "reference",
        "resourceid",
        "subscriptionresourceid",
        "tenant",
        "tenantresourceid",
        "variables",
    }
)

# Functions only Azure Policy defines (lower-case).
POLICY_ONLY = frozenset({"field", "current", "adddays", "requestcontext", "policy", "iprangecontains", "claims"})


def is_banned(name: str) -> bool:
    """True when a policy rule may not call `name` (any casing; `list*` included)."""
    low = name.lower()
    return low in BANNED or low.startswith("list")
