"""ALS rules: one module per code."""
