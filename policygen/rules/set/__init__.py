"""SET rules: one module per code."""
