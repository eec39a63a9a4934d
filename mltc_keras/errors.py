"""The errors users see as one line (the CLI prints them as `error: ...` and exits non-zero).

The convention: code below the options and commands raises ValueError saying what is wrong with a
value; `mltc_keras.options` and `mltc_keras.commands` name the flag (InputError), with `reraise`.
Reading a user's file (`mltc_keras.data`) raises InputError naming the file, row and column.
"""

import contextlib


class InputError(Exception):
    """Bad user input: a file, row or column that cannot be used, and what to do about it."""

    exit_code = 2


class Interrupted(Exception):
    """The user stopped a run (Ctrl-C: exit 130, SIGTERM: 143); the message says how to resume."""

    def __init__(self, message, exit_code=130):
        super().__init__(message)
        self.exit_code = exit_code


@contextlib.contextmanager
def reraise(flag, value):
    """Turn a ValueError from the code inside into an InputError about the option `flag`: lower
    layers say what is wrong with a value, and only options and commands know which flag gave it."""
    try:
        yield
    except ValueError as exc:
        raise InputError(f"{flag} {value}: {exc}") from None
