"""EFF rules: one module per code."""
