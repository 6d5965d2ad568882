"""The pieces a policy rule is flattened into by the one walk (policygen.rules.model): conditions, counts, expressions.

Condition keys are case-insensitive in Azure, so each node keeps the author's spelling by lower-case key;
objects with the same key set share one `Shape` (the corpus repeats a few dozen shapes millions of times).
"""

from __future__ import annotations

from policygen.arm.conditions import LOGICAL, OPERATORS
from policygen.rules.expr_facts import analyse

OPERANDS = frozenset({"field", "value", "count"})


# Regions: where a string is evaluated. "template" (DINE embedded ARM template) is ARM's, not Policy's.
POLICY_REGIONS = frozenset({"if", "existence", "effect", "details", "deploymentParameters", "operation"})


def esc(key: str) -> str:
    """JSON-pointer escape of one reference token."""
    if "~" in key or "/" in key:
        return key.replace("~", "~0").replace("/", "~1")
    return key


class Shape:
    """What a condition object's key set means; shared by every node with the same keys (memoised)."""

    __slots__ = ("keys", "logical", "operands", "ops", "regular")

    def __init__(self, names: tuple[str, ...]):
        self.keys = {k.lower(): k for k in names}
        self.logical = [k for k in self.keys if k in LOGICAL]
        self.operands = [k for k in self.keys if k in OPERANDS]
        self.ops = [k for k in self.keys if k in OPERATORS]
        # One operand, one known operator, nothing else: the leaves grammar rules can skip.
        self.regular = len(self.operands) == 1 and len(self.ops) == 1 and len(self.keys) == 2


_SHAPES: dict[tuple[str, ...], Shape] = {}


def shape_of(node: dict) -> Shape:
    names = tuple(node)
    shape = _SHAPES.get(names)
    if shape is None:
        if len(_SHAPES) > 4096:
            _SHAPES.clear()
        shape = _SHAPES[names] = Shape(names)
    return shape


class Count:
    """A `count` operand: field count (`[*]` alias) or value count (array)."""

    __slots__ = ("ptr", "node", "keys", "kind", "target", "name", "where", "parents", "cond")

    def __init__(self, ptr: str, node: dict, parents: tuple[Count, ...]):
        self.ptr = ptr
        self.node = node
        self.keys = {k.lower(): k for k in node}
        self.kind = "field" if "field" in self.keys else "value" if "value" in self.keys else None
        self.target = node[self.keys[self.kind]] if self.kind else None
        name_key = self.keys.get("name")
        self.name = node[name_key] if name_key else None
        where_key = self.keys.get("where")
        self.where = node[where_key] if where_key else None
        self.parents = parents
        self.cond: Cond | None = None


class Cond:
    """A leaf condition: one operand (`field` / `value` / `count`) and its operator(s)."""

    __slots__ = (
        "ptr",
        "node",
        "keys",
        "operand",
        "operand_key",
        "operand_value",
        "ops",
        "op",
        "op_key",
        "op_value",
        "region",
        "counts",
        "count",
    )

    def __init__(self, ptr: str, node: dict, shape: Shape, region: str, counts: tuple[Count, ...]):
        self.ptr = ptr
        self.node = node
        self.keys = keys = shape.keys  # shared between nodes: read-only
        self.region = region
        self.counts = counts  # enclosing counts, innermost last (non-empty = inside a `where`)
        operands = shape.operands
        ops = shape.ops
        if len(operands) == 1:
            operand = operands[0]
            self.operand = operand
            self.operand_key = key = keys[operand]
            self.operand_value = node[key]
        else:
            self.operand = self.operand_key = self.operand_value = None
        self.ops = ops
        if len(ops) == 1:
            op = ops[0]
            self.op = op
            self.op_key = key = keys[op]
            self.op_value = node[key]
        else:
            self.op = self.op_key = self.op_value = None
        self.count: Count | None = None


class Expr:
    """An expression string found in a region Azure Policy evaluates."""

    __slots__ = ("ptr", "text", "info", "region", "counts", "cond")

    def __init__(self, ptr: str, text: str, region: str, counts: tuple[Count, ...], cond: Cond | None):
        self.ptr = ptr
        self.text = text
        self.info = analyse(text)
        self.region = region
        self.counts = counts
        self.cond = cond
