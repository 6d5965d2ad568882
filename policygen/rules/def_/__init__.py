"""DEF rules: one module per code."""
