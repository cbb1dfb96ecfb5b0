"""Errors a user can act on. The command line prints them without a traceback."""


class EtlError(Exception):
    """An error with a message meant for the user; `report`: the failed import's report, when
    the import had started (etl import --json prints it)."""

    report: dict | None = None


class SpecError(EtlError):
    """The import spec is invalid."""


class InputError(EtlError):
    """An input file cannot be read as its format: names the file, line and column."""


class StoreLockedError(EtlError):
    """Another process holds the store."""


class ImportCancelled(EtlError):
    """The user pressed Ctrl-C."""
