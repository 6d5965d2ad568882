"""Output views: how findings, plans and results are printed (one module per format)."""
