"""Subcommands of the ``ddsnode`` command line, one module per group."""
