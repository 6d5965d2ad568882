"""PAR rules: one module per code."""
