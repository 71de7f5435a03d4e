"""``python -m graphspec`` runs the command-line interface."""

from graphspec.cli import main

raise SystemExit(main())
