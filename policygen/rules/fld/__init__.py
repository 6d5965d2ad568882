"""FLD rules: one module per code."""
