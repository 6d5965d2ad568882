"""policygen.arm.functions: functions a policy rule may not call.

https://learn.microsoft.com/azure/governance/policy/concepts/definition-structure-policy-rule#policy-functions
"""

from __future__ import annotations

import pytest

from policygen.arm.functions import BANNED, POLICY_ONLY, is_banned


@pytest.mark.parametrize("name", [
    "copyIndex", "dateTimeAdd", "dateTimeFromEpoch", "dateTimeToEpoch", "deployment", "environment",
    "extensionResourceId", "lambda", "listAccountSas", "listKeys", "listSecrets", "listCallbackUrl",
    "managementGroup", "newGuid", "pickZones", "providers", "reference", "resourceId",
    "subscriptionResourceId", "tenantResourceId", "tenant", "variables",
    # lambda functions (template-functions-lambda)
    "filter", "groupBy", "lambdaVariables", "map", "mapValues", "reduce", "sort", "toObject",
])
def test_documented_exceptions_are_banned(name: str) -> None:
    assert is_banned(name)


@pytest.mark.parametrize("name", ["concat", "field", "requestContext", "resourceGroup", "subscription",
                                  "utcNow", "last", "length", "tryGet"])
def test_common_functions_are_allowed(name: str) -> None:
    assert not is_banned(name)


def test_policy_only_functions_are_not_banned() -> None:
    assert not POLICY_ONLY & BANNED
