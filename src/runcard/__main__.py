"""`python -m runcard` runs the command line."""

from runcard.cli.entry import main

main()
