"""Render intents into REST-form Azure Policy JSON (`compile_pack`) and write it (`write_build`)."""

from policygen.render.compile import WriteSummary, compile_pack, write_build

__all__ = ["compile_pack", "write_build", "WriteSummary"]
