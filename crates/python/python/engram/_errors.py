"""The exceptions of engram: the CLI's messages, with their parts as attributes."""


class EngramError(Exception):
    """Base class of engram's errors. ``str(e)`` is the message ``engram`` prints after
    ``error:``."""


class InputError(EngramError, ValueError):
    """Bad input other than a config error (the CLI exits with code 2): an output file that
    exists, a file that is not an engram output, a bad option."""


class ConfigError(InputError):
    """A config that cannot be used, as ``engram run`` reports it (exit code 2).

    Attributes: ``file`` (the config file, ``<string>`` for TOML text, ``<dict>`` for a
    dict), ``line`` (1-based, or None), ``path`` (the dotted field path, empty for syntax
    errors), ``message`` (what is wrong and what is allowed) and ``kind`` (``"invalid"``,
    or ``"memory"`` when the model needs more memory than the machine has).
    """

    def __init__(self, text, file=None, line=None, path="", message="", kind="invalid"):
        super().__init__(text)
        self.file = file
        self.line = line
        self.path = path
        self.message = message
        self.kind = kind


class RunFailed(EngramError, RuntimeError):
    """A failure while running or writing (the CLI exits with code 1)."""
