"""Subcommands of the ``emg`` command line, one module per job."""
