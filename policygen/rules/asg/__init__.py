"""ASG rules: one module per code."""
