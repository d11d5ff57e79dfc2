"""`python -m runcard` runs the command line."""

from runcard.cli.app import main

main()
