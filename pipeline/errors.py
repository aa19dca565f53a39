"""Named exceptions of PatNav.

Every error a user can meet says what went wrong and where (file, row, field), so the
message alone tells them what to fix.
"""

__all__ = [
    "PatNavError",
    "InputError",
    "UnreadableInputError",
    "UnsupportedFormatError",
    "SchemaError",
    "ConfigError",
    "RegisterFileError",
    "LocateInputError",
    "InputLimitError",
    "QueryRefusedError",
]


class PatNavError(Exception):
    """Base class of all PatNav errors."""


class ConfigError(PatNavError):
    """``params.yaml`` or a project definition is invalid; the message names the field."""


class InputError(PatNavError):
    """An input file cannot be used as a whole."""

    def __init__(self, path, cause):
        self.path = str(path)
        self.cause = cause
        super().__init__(f"{self.path}: {cause}")


class UnreadableInputError(InputError):
    """The file is missing, empty, binary or not decodable."""


class UnsupportedFormatError(InputError):
    """The file is a recognised patent format that PatNav does not ingest (yet)."""


class SchemaError(PatNavError):
    """A canonical table does not match its schema at a stage boundary."""


class RegisterFileError(InputError):
    """An enterprise register has no known layout or no usable row; the message names the file."""


class LocateInputError(PatNavError, ValueError):
    """Applicants cannot be located: an input lacks a column or an argument is invalid."""


class ProjectDataError(PatNavError):
    """The data cannot support the project as defined (e.g. an enterprise with too few
    patents for an enterprise report); the message gives the count and what to change."""


class InputLimitError(InputError):
    """An input exceeds a limit of ``ingest.limits`` (a workbook that expands too far, a
    sheet of too many rows or cells); the message names the file, the limit and the
    param to raise if the file is genuine."""

    def __init__(self, path, what: str, limit: str, value):
        self.limit = limit
        self.value = value
        super().__init__(path, f"{what}, over the limit ingest.limits.{limit} = {value} in params.yaml "
                               "(the file is not read; raise the limit if the file is genuine)")


# --- outputs and safety (database, analyst SQL, network caps) ---------------------------


class QueryRefusedError(PatNavError):
    """The analyst's SQL tried to leave the database (a file, an extension, a setting);
    ``patnav sql`` only reads the database and writes results with --csv / --xlsx."""

