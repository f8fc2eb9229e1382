"""``python -m exophone`` runs the command line."""

from exophone.cli import main

main()
