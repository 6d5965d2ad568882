"""What `policygen check` deploys — the entry point `tasks.check` uses; the readers live in `check_inputs`.

Templates go through the one template expander, `policygen.templates` (the emulator deploys with it too),
with nothing to resolve reference()/list*(); what-if/validate output and azapi Terraform plans give the
bodies directly. `reference()`, `list*()` and values known only after apply are never guessed: the property
they feed keeps a SYMBOLIC placeholder and is listed per resource, and `check` reports the resource as
undecidable when a policy's outcome reads it.
"""

from __future__ import annotations

from policygen.tasks.check_inputs import SYMBOLIC, Placed, is_template, load
from policygen.templates.expressions import MAX_COPY

__all__ = ["MAX_COPY", "SYMBOLIC", "Placed", "is_template", "load"]
