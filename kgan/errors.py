"""Errors a user can cause, each carrying a one-line message that says what to do."""


class KganError(Exception):
    """A problem with the user's input, files or environment (not a bug in kgan).

    Command lines print the message on one line, without a stack trace, and exit 1.
    """


class ConfigError(KganError):
    """A bad option or config-file value; command lines exit 2 for these."""
