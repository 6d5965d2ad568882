"""ARM template expressions in a deployment's context, and resource ids from a type and a name.

https://learn.microsoft.com/azure/azure-resource-manager/templates/template-functions-resource#resourceid
https://learn.microsoft.com/azure/azure-resource-manager/templates/child-resource-name-type
"""

from __future__ import annotations

import pytest

from policygen.templates.expressions import Expressions
from policygen.templates.names import TemplateError, resource_path

SUB = "11111111-1111-1111-1111-111111111111"


def test_expressions():
    x = Expressions(
        parameters={"name": "sa1", "n": 2},
        variables={"v": "[concat(parameters('name'), '-x')]"},
        subscription_id=SUB,
        resource_group="rg",
    )
    assert x.evaluate("[variables('v')]") == "sa1-x"
    assert x.evaluate("[resourceGroup().name]") == "rg"
    assert x.evaluate("[subscription().subscriptionId]") == SUB
    assert (
        x.evaluate("[resourceId('Microsoft.Storage/storageAccounts', parameters('name'))]")
        == f"/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/sa1"
    )
    assert x.evaluate("[if(equals(parameters('n'), 2), 'two', 'other')]") == "two"
    assert x.evaluate("[[literal]") == "[literal]"
    assert x.evaluate({"a": ["[toUpper(parameters('name'))]"]}) == {"a": ["SA1"]}
    with pytest.raises(TemplateError):
        x.evaluate("[parameters('missing')]")


def test_resource_paths():
    assert (
        resource_path("Microsoft.Storage/storageAccounts/blobServices", "sa/default")
        == "Microsoft.Storage/storageAccounts/sa/blobServices/default"
    )
    assert (
        resource_path("Microsoft.Storage/storageAccounts/providers/diagnosticSettings", "sa/Microsoft.Insights/diag")
        == "Microsoft.Storage/storageAccounts/sa/providers/Microsoft.Insights/diagnosticSettings/diag"
    )
    with pytest.raises(TemplateError):
        resource_path("Microsoft.Storage/storageAccounts", "a/b")
