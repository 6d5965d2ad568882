"""EFF-10 (effects.network_group_details)."""

from __future__ import annotations

import re
from collections.abc import Iterable

from policygen.rules.base import Hit, Rule, Severity
from policygen.rules.eff.common import details_key, effect_url, in_details, is_expr
from policygen.rules.model import Doc

NETWORK_GROUP = re.compile(
    r"^/subscriptions/[^/]+/resourceGroups/[^/]+/providers/Microsoft\.Network/networkManagers/[^/]+"
    r"/networkGroups/[^/]+$",
    re.I,
)


class AddToNetworkGroupDetails(Rule):
    """addToNetworkGroup: details.networkGroupId is a full AVNM network-group resource ID.

    Azure Virtual Network Manager needs the network group's full resource ID.

    **Anti-pattern**

    ```json
    {"effect": "addToNetworkGroup", "details": {"networkGroupId": "spokes"}}
    ```

    **Better**

    ```json
    {"effect": "addToNetworkGroup", "details": {"networkGroupId":
      "/subscriptions/s1/resourceGroups/net/providers/Microsoft.Network/networkManagers/avnm/networkGroups/spokes"}}
    ```

    Code: EFF-10 (error)
    Source: https://learn.microsoft.com/azure/governance/policy/concepts/effect-add-to-network-group
    """

    code = "EFF-10"
    name = "effects.network_group_details"
    severity = Severity.ERROR
    source = effect_url("add-to-network-group")
    effects = frozenset({"addtonetworkgroup"})

    def check(self, doc: Doc) -> Iterable[Hit]:
        if "addtonetworkgroup" not in doc.effects:
            return
        nk, gid = details_key(doc, "networkGroupId")
        if not (is_expr(gid) or (isinstance(gid, str) and NETWORK_GROUP.match(gid))):
            yield (
                in_details(doc, nk) if nk else (doc.details_ptr or doc.then_ptr),
                (f"networkGroupId {gid!r} is not a network group resource ID"),
            )
