"""When a policy exemption lapses: "an expired exemption stays until deleted but no longer exempts"
(https://learn.microsoft.com/azure/governance/policy/concepts/exemption-structure). One reading of
`expiresOn` for plan, the evaluator and the emulator."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any


def expires_at(props: dict[str, Any]) -> datetime | None:
    """`expiresOn` of exemption properties as an aware UTC instant; None when absent or unreadable."""
    stamp = props.get("expiresOn")
    if not stamp:
        return None
    try:
        when = datetime.fromisoformat(str(stamp).replace("Z", "+00:00"))
    except ValueError:
        return None
    return when.replace(tzinfo=when.tzinfo or UTC)


def is_expired(props: dict[str, Any], now: datetime | None = None) -> bool:
    when = expires_at(props)
    return when is not None and when <= (now or datetime.now(UTC))
