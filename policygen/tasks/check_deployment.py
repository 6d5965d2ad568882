"""What `policygen check` deploys — the entry point `tasks.check` uses; the readers live in `check_inputs`.

Templates go through the emulator's expression engine (parameters, variables, `copy`, `condition`, the pure
template functions) without an emulator behind it; what-if/validate output and azapi Terraform plans give the
bodies directly. `reference()`, `list*()` and values known only after apply are never guessed: the property
they feed keeps a SYMBOLIC placeholder and is listed per resource, and `check` reports the resource as
undecidable when a policy's outcome reads it.
"""

from __future__ import annotations

from policygen.tasks.check_inputs import SYMBOLIC, Placed, is_template, load
from policygen.tasks.check_inputs.template import MAX_COPY

__all__ = ["MAX_COPY", "SYMBOLIC", "Placed", "is_template", "load"]
