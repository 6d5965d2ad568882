"""`/_admin/*`: operate a running emulator without restarting it (faults, reset, state, request log, seed).

Not part of ARM: no api-version, no faults applied, plain JSON errors in ARM's shape all the same. When the
emulator serves other machines (`--allow-remote`) every admin request needs the admin token. A seed sent
here may not name files: only a seed file given at start-up reads inventories, from beside itself.
"""

from __future__ import annotations

import hmac

from policygen.emulator import seed
from policygen.emulator.context import Context
from policygen.emulator.core import ArmError, Request, Response
from policygen.emulator.faults import FaultConfig
from policygen.errors import InputError


def _authorised(emu: Context, req: Request) -> None:
    token = emu.config.admin_token
    if not token:
        return
    scheme, _, given = (req.headers.get("authorization") or "").strip().partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(), token.encode()):
        raise ArmError(401, "AuthenticationFailed", "The admin endpoints need 'Authorization: Bearer <admin token>'.")


def handle(emu: Context, req: Request) -> Response:
    _authorised(emu, req)
    what = req.path[len("/_admin/") :].strip("/").lower()
    if what == "health":
        return Response(200, {"status": "ok", "tenantId": emu.tenant_id})
    if what == "faults":
        if req.method == "GET":
            return Response(200, emu.faults.config.to_dict())
        if req.method in ("POST", "PUT", "PATCH"):
            try:
                cfg = FaultConfig.from_dict(req.json(), emu.faults.config if req.method != "PUT" else None)
            except (TypeError, ValueError) as exc:
                raise ArmError(400, "InvalidFaults", str(exc)) from exc
            emu.faults.set(cfg)
            return Response(200, cfg.to_dict())
        if req.method == "DELETE":
            emu.faults.set(FaultConfig())
            return Response(200, emu.faults.config.to_dict())
    if what == "reset" and req.method == "POST":
        emu.reset()
        return Response(200, {"status": "reset"})
    if what == "seed" and req.method == "POST":
        try:
            seed.apply(emu, req.json(), files=False)
        except InputError as exc:
            raise ArmError(400, "InvalidSeed", str(exc)) from exc
        return Response(200, {"status": "seeded"})
    if what == "state" and req.method == "GET":
        snap = emu.store.snapshot()
        kind = req.q("kind")
        if kind:
            return Response(200, {"value": list(snap.get(kind, {}).values())})
        return Response(
            200,
            {
                "counts": {k: len(v) for k, v in snap.items()},
                "objects": {k: list(v.values()) for k, v in snap.items() if k != "meta"},
            },
        )
    if what == "requests":
        if req.method == "DELETE":
            emu.requests.clear()
            return Response(200, {"value": []})
        return Response(200, {"value": list(emu.requests)})
    raise ArmError(404, "NotFound", f"Unknown admin endpoint {req.method} {req.path}.")
