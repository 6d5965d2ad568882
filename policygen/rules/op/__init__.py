"""OP rules: one module per code."""
