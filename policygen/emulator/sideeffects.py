"""What resource providers do on their own after a PUT, where policies depend on it.

A private endpoint makes the target resource's provider create a `privateEndpointConnections` child (and
list it in the target's `properties.privateEndpointConnections`): auto-approved for
`privateLinkServiceConnections`, pending for `manualPrivateLinkServiceConnections`. DINE policies that
deploy private endpoints check exactly that child in their existenceCondition.
"""

from __future__ import annotations

from policygen.emulator.context import Context
from policygen.emulator.core import copy_json, guid


def after_put(emu: Context, resource: dict) -> None:
    if str(resource.get("type", "")).lower() == "microsoft.network/privateendpoints":
        _private_endpoint(emu, resource)


def _private_endpoint(emu: Context, pe: dict) -> None:
    props = pe.get("properties") or {}
    for field, status in (
        ("privateLinkServiceConnections", "Approved"),
        ("manualPrivateLinkServiceConnections", "Pending"),
    ):
        for conn in props.get(field) or []:
            cprops = (conn or {}).get("properties") or {}
            target_id = cprops.get("privateLinkServiceId")
            target = emu.store.get("resources", target_id) if isinstance(target_id, str) else None
            if target is None:
                continue
            name = f"{pe['name']}.{guid('pec', pe['id'], target['id'])[:8]}"
            cid = f"{target['id']}/privateEndpointConnections/{name}"
            state = {
                "status": status,
                "description": "Auto-Approved" if status == "Approved" else "Awaiting approval",
                "actionsRequired": "None",
            }
            connection = {
                "id": cid,
                "name": name,
                "type": f"{target['type']}/privateEndpointConnections",
                "properties": {
                    "privateEndpoint": {"id": pe["id"]},
                    "groupIds": cprops.get("groupIds") or [],
                    "privateLinkServiceConnectionState": state,
                    "provisioningState": "Succeeded",
                },
            }
            emu.store.put("resources", cid, connection)
            updated = copy_json(target)
            tprops = updated.setdefault("properties", {})
            if isinstance(tprops, dict):
                listed = [c for c in tprops.get("privateEndpointConnections") or [] if c.get("id") != cid]
                tprops["privateEndpointConnections"] = listed + [copy_json(connection)]
                emu.store.put("resources", target["id"], updated)
