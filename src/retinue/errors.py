"""Errors a user can act on. The CLI prints them without a traceback and exits non-zero."""


class RetinueError(Exception):
    """A problem with the user's input, files or environment, stated so the user can fix it."""


class ConfigError(RetinueError):
    """A configuration file or value is invalid; the message names the field."""
