"""FN rules: one module per code."""
