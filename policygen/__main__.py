"""`python -m policygen` runs the CLI."""

from policygen.cli import main

main()
