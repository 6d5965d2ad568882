"""MODE rules: one module per code."""
