"""RULE rules: one module per code."""
