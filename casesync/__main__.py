"""python -m casesync: the same as the casesync command."""

from casesync.cli import main

main()
