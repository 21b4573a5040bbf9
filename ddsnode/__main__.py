"""`python -m ddsnode` runs the command-line interface."""

from ddsnode.cli import main

raise SystemExit(main())
