"""Errors a user can cause. The CLI and UI print their message as one line.

>>> str(BadFileError("x.bin", "binary file, not text"))
'x.bin: binary file, not text'
"""


class RagError(Exception):
    """Base class: the message says what went wrong and what to do."""


class ConfigError(RagError):
    """Bad configuration or usage (CLI exit code 2)."""


class ModelError(RagError):
    """A model is missing or broken; the message says how to provision it."""


class BadFileError(RagError):
    """One input file cannot be ingested; the rest of the batch goes on."""

    def __init__(self, path: str, reason: str):
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason
