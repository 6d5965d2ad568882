"""Adopt an existing estate: read Azure (or the emulator), an EPAC `Definitions/` tree or an ALZ library
folder and write a pack whose build reproduces it (the reverse of policygen.export)."""
