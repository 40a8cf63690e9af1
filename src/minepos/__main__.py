"""`python -m minepos` runs the command line."""

from minepos.cli import main

main()
