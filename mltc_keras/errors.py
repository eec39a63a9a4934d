"""The one exception type users see as a one-line message (the CLI prints it and exits 2)."""


class InputError(Exception):
    """Bad user input: a file, row or column that cannot be used, and what to do about it."""

    exit_code = 2


class Interrupted(Exception):
    """The user stopped a run (Ctrl-C); the message says how to resume."""

    exit_code = 130
