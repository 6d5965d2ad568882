"""Azure side of policygen: read remote state, plan, apply, remediate and report compliance (Azure or emulator)."""
