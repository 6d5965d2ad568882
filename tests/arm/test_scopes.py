"""policygen.arm.scopes: ARM ids parsed once.

Scope levels and id shapes: https://learn.microsoft.com/azure/azure-resource-manager/management/overview#understand-scope
Resource id format (nested and extension resources):
https://learn.microsoft.com/azure/azure-resource-manager/templates/template-functions-resource#resourceid
"""

from __future__ import annotations

import string

import pytest
from hypothesis import given
from hypothesis import strategies as st

from policygen.arm.scopes import (
    Scope,
    ScopeError,
    ScopeKind,
    extension_scope,
    is_scope,
    key,
    name_of_id,
    parse_scope,
    resource_type_of,
    subscription_and_group,
)

MG = "/providers/Microsoft.Management/managementGroups/contoso"
SUB = "/subscriptions/00000000-0000-0000-0000-000000000001"
RG = SUB + "/resourceGroups/rg-app"
SA = RG + "/providers/Microsoft.Storage/storageAccounts/sa1"


@pytest.mark.parametrize(
    ("text", "kind", "printed"),
    [
        ("/", ScopeKind.TENANT, "/"),
        ("/providers/microsoft.management/managementgroups/contoso/", ScopeKind.MANAGEMENT_GROUP, MG),
        ("subscriptions/00000000-0000-0000-0000-000000000001", ScopeKind.SUBSCRIPTION, SUB),
        (SUB.upper().replace("SUBSCRIPTIONS", "SUBSCRIPTIONS") + "/RESOURCEGROUPS/rg-app", ScopeKind.RESOURCE_GROUP,
         "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg-app"),
        (SA, ScopeKind.RESOURCE, SA),
    ],
)
def test_kinds_and_arm_casing(text: str, kind: ScopeKind, printed: str) -> None:
    s = parse_scope(text)
    assert s.kind is kind
    # the fixed segments print as ARM prints them; names and provider namespaces keep their casing
    assert str(s).lower() == printed.lower()
    assert "/resourceGroups/" in str(s) or s.kind is not ScopeKind.RESOURCE_GROUP
    assert str(parse_scope(printed)) == printed


def test_names_and_types() -> None:
    child = parse_scope(SA + "/blobServices/default/containers/logs")
    assert child.resource_type == "Microsoft.Storage/storageAccounts/blobServices/containers"
    assert child.name == "logs" and child.full_name == "sa1/default/logs"
    assert child.subscription == "00000000-0000-0000-0000-000000000001" and child.resource_group == "rg-app"
    assert str(child.parent) == SA + "/blobServices/default"
    assert parse_scope(RG).resource_type == "Microsoft.Resources/resourceGroups"
    assert parse_scope(MG).name == "contoso" and parse_scope(MG).management_group == "contoso"
    assert resource_type_of("not an id") is None


def test_extension_resources_sit_on_their_scope() -> None:
    # a lock on a storage account; a policy assignment on a management group
    lock = parse_scope(SA + "/providers/Microsoft.Authorization/locks/nodelete")
    assert lock.is_extension and lock.resource_type == "Microsoft.Authorization/locks"
    assert lock.parent == parse_scope(SA)
    pa = parse_scope(MG + "/providers/Microsoft.Authorization/policyAssignments/deny-loc")
    assert pa.kind is ScopeKind.RESOURCE and not pa.is_extension
    assert pa.parent == parse_scope(MG) and pa.container == parse_scope(MG)
    assert pa.management_group == "contoso"
    builtin = parse_scope("/providers/Microsoft.Authorization/policyDefinitions/abc")
    assert builtin.parent == parse_scope("/") and builtin.resource_type == "Microsoft.Authorization/policyDefinitions"


def test_parent_chain_and_contains() -> None:
    s = parse_scope(SA)
    assert [str(a) for a in s.ancestors()] == [RG, SUB, "/"]
    assert s.chain()[0] is s
    assert parse_scope(SUB).contains(s) and parse_scope(RG.upper()).contains(s)
    assert parse_scope("/").contains(parse_scope(MG))
    assert not s.contains(parse_scope(RG))
    assert not parse_scope(SUB + "/resourceGroups/rg").contains(parse_scope(SUB + "/resourceGroups/rg-app"))
    # management-group membership is not in an id
    assert not parse_scope(MG).contains(parse_scope(SUB))
    assert parse_scope("/").parent is None


def test_equality_is_case_insensitive() -> None:
    a, b = parse_scope(RG), parse_scope(RG.upper())
    assert a == b and hash(a) == hash(b) and len({a, b}) == 1
    assert a.key == key(RG) == RG.lower()
    assert a != RG  # a Scope never equals a plain string


@pytest.mark.parametrize(
    "bad",
    [
        "/subscriptions",
        "/subscriptions/s/resourceGroups",
        "/foo/bar",
        "/subscriptions/s/providers/Microsoft.Storage/storageAccounts",
        "/subscriptions//resourceGroups/x",
        "/subscriptions/s/providers/Microsoft.Storage/providers/a/b/c",
        "/providers/Microsoft.Management/managementGroups",
        "/subscriptions/ s ",
    ],
)
def test_rejects_what_is_not_an_id(bad: str) -> None:
    with pytest.raises(ScopeError):
        parse_scope(bad)
    assert not is_scope(bad)


def test_is_scope() -> None:
    assert is_scope(SUB) and is_scope(SA)
    assert not is_scope("contoso") and not is_scope(42) and not is_scope(None)


# ---- properties -----------------------------------------------------------------------------------

# ARM names are ASCII letters, digits and -_.() (a few types allow more; case-folding of other scripts is
# not what ARM does, so the properties stay within ASCII)
_name = st.text(string.ascii_letters + string.digits + "-_.()", min_size=1, max_size=12)
_ns = st.sampled_from(["Microsoft.Storage", "Microsoft.Authorization", "Microsoft.Network", "Contoso.Widgets"])
_type = st.text(string.ascii_letters, min_size=2, max_size=10).filter(lambda t: t.lower() != "providers")
_block = st.tuples(_ns, st.lists(st.tuples(_type, _name), min_size=1, max_size=3))


@st.composite
def ids(draw) -> str:
    root = draw(st.sampled_from(["tenant", "mg", "sub", "rg"]))
    text = {
        "tenant": "",
        "mg": f"/providers/Microsoft.Management/managementGroups/{draw(_name)}",
        "sub": f"/subscriptions/{draw(_name)}",
        "rg": f"/subscriptions/{draw(_name)}/resourceGroups/{draw(_name)}",
    }[root]
    for ns, pairs in draw(st.lists(_block, max_size=2)):
        text += f"/providers/{ns}/" + "/".join(f"{t}/{n}" for t, n in pairs)
    return text or "/"


@given(ids())
def test_parse_print_roundtrip(text: str) -> None:
    s = parse_scope(text)
    assert str(s) == text
    assert parse_scope(str(s)) == s
    assert str(parse_scope(str(s))) == str(s)


@given(ids(), st.randoms(use_true_random=False))
def test_casing_does_not_matter(text: str, rnd) -> None:
    flipped = "".join(c.upper() if rnd.random() < 0.5 else c.lower() for c in text)
    a, b = parse_scope(text), parse_scope(flipped + "/")
    assert a == b and hash(a) == hash(b)
    assert a.kind is b.kind
    # the fixed segments come back in ARM's casing whatever the input casing
    assert str(b).lower() == str(a).lower()
    assert str(b).count("/resourceGroups/") == str(a).count("/resourceGroups/")


@given(ids())
def test_every_ancestor_contains_it(text: str) -> None:
    s = parse_scope(text)
    chain = s.chain()
    assert chain[-1] == parse_scope("/")
    for outer in chain:
        assert outer.contains(s)
    for inner in chain[1:]:
        assert not s.contains(inner)


@given(st.text(max_size=60))
def test_garbage_parses_or_raises_scope_error(text: str) -> None:
    try:
        s = parse_scope(text)
    except ScopeError:
        return
    assert isinstance(s, Scope)


def test_short_names_for_messages() -> None:
    assert parse_scope(MG).short == "mg:contoso"
    assert parse_scope(SUB).short == "sub:00000000-0000-0000-0000-000000000001"
    assert parse_scope(RG).short == "rg:rg-app"
    assert parse_scope(SA).short == SA
    assert name_of_id(SA + "/") == "sa1"


@given(ids())
def test_fast_prefix_reader_agrees_with_the_parser(text: str) -> None:
    s = parse_scope(text)
    assert subscription_and_group(text) == (s.subscription, s.resource_group)
    assert subscription_and_group(text.upper()) == (
        s.subscription and s.subscription.upper(),
        s.resource_group and s.resource_group.upper(),
    )


def test_extension_scope() -> None:
    lock = SA + "/providers/Microsoft.Authorization/locks/l"
    assert extension_scope(lock) == SA == str(parse_scope(lock).parent)
    assert extension_scope(SA) is None
    assert extension_scope(SUB + "/providers/Microsoft.Authorization/locks/l") is None  # prefix is the scope
    pa = MG + "/providers/Microsoft.Authorization/policyAssignments/a"
    assert extension_scope(pa) == MG
    assert subscription_and_group("not an id") == (None, None)
