"""Named exceptions of PatNav: the one error tree, all under :class:`PatNavError`.

Every error a user can meet says what went wrong and where (file, row, field, param), so
the message alone tells them what to fix. ``patnav`` prints it as one line and exits with
the code of its kind (``pipeline.cli.EXIT_CODES``, listed in the README under "Errors and
exit codes"); anything else that escapes a command is a bug and shows its traceback.

The kinds:

- settings (``params.yaml``, a project definition, the taxonomy, a model's options):
  :class:`ConfigError`;
- input files that cannot be used as a whole: :class:`InputError` and its subclasses;
- tables and arguments handed to a function of the Python API: :class:`SchemaError`,
  :class:`ArgumentError` and its subclasses (one per module family);
- the database and the analyst's SQL: :class:`DatabaseError`, :class:`QueryError`;
- model and report files: :class:`ModelFileError`, :class:`ReportRenderError`;
- computations that cannot finish on these data with these settings:
  :class:`ConvergenceError`, :class:`PathCountOverflowError`, :class:`ProjectDataError`.

Errors about a bad value (:class:`ConfigError`, :class:`ArgumentError` and their
subclasses) are also :class:`ValueError`, as Python's own are: code that catches
``ValueError`` around a PatNav call keeps working, as it does for scikit-learn's invalid
parameters.
"""

__all__ = [
    "PatNavError",
    # settings
    "ConfigError",
    "AliasFileError",
    # input files
    "InputError",
    "UnreadableInputError",
    "UnsupportedFormatError",
    "RegisterFileError",
    "InputLimitError",
    # tables and arguments of the Python API
    "SchemaError",
    "ArgumentError",
    "LocateInputError",
    "RegionNameError",
    "ClassifierInputError",
    "GraphInputError",
    "MainPathInputError",
    "NotADAGError",
    "CentralityInputError",
    "ClusterInputError",
    "FlowInputError",
    "ExportInputError",
    "ScoreInputError",
    "PortfolioInputError",
    "RegionInputError",
    "TalentInputError",
    "ChartInputError",
    "LifecycleInputError",
    # the database and the analyst's SQL
    "DatabaseError",
    "QueryError",
    "QueryRefusedError",
    # model and report files
    "ModelFileError",
    "ReportRenderError",
    # computations these data and settings cannot finish
    "ConvergenceError",
    "PathCountOverflowError",
    "ProjectDataError",
]


class PatNavError(Exception):
    """Base class of all PatNav errors: catch it to catch every error PatNav names.

    Not raised itself; every error is of one of the kinds below.
    """


# --- settings ----------------------------------------------------------------------------


class ConfigError(PatNavError, ValueError):
    """A setting is invalid: ``params.yaml``, a project definition, the taxonomy file or an
    option of a model or stage function.

    Raised when a section, field or option is missing, unknown or out of range; the
    message names the field (``network.hits.max_iter``, ``project 'x': region``, a
    taxonomy branch) and what it must be.
    """


class AliasFileError(ConfigError):
    """The applicant alias file (``score.aliases``) is malformed.

    Raised when an entry is not a list of names or a name belongs to two groups; the
    message names the file and the entry.
    """


# --- input files -------------------------------------------------------------------------


class InputError(PatNavError):
    """An input file cannot be used as a whole.

    The message starts with the file's path, then the cause (``.path`` and ``.cause``).
    """

    def __init__(self, path, cause):
        self.path = str(path)
        self.cause = cause
        super().__init__(f"{self.path}: {cause}")


class UnreadableInputError(InputError):
    """The file is missing, empty, binary, not decodable or not a regular file.

    Raised by the readers of patent exports, registers, lists and reference data; the
    message names the file and what was found instead.
    """


class UnsupportedFormatError(InputError):
    """The file is of no format PatNav ingests, or a recognised patent format it does not
    ingest (yet); the message names the file and, when known, the format."""


class RegisterFileError(InputError):
    """An enterprise register has no known layout or no usable row; the message names the
    file and what is missing."""


class InputLimitError(InputError):
    """An input exceeds a limit of ``ingest.limits`` (a workbook that expands too far, a
    sheet of too many rows or cells).

    The message names the file, the limit and the param to raise if the file is genuine.
    """

    def __init__(self, path, what: str, limit: str, value):
        self.limit = limit
        self.value = value
        super().__init__(path, f"{what}, over the limit ingest.limits.{limit} = {value} in params.yaml "
                               "(the file is not read; raise the limit if the file is genuine)")


# --- tables and arguments of the Python API ----------------------------------------------


class SchemaError(PatNavError):
    """A canonical table does not match its schema at a stage boundary.

    Raised when a table lacks a column or holds a value of the wrong type; the message
    names the table and the columns.
    """


class ArgumentError(PatNavError, ValueError):
    """A function was given an argument it cannot use: a table lacking a column, ids out of
    range, an unknown option, values of the wrong kind.

    Each module family raises its own subclass; the message names the argument and the
    first offending values.
    """


class LocateInputError(ArgumentError):
    """Applicants cannot be located (:mod:`pipeline.locate`): an input lacks a column or
    an argument is invalid; the message names the column or argument."""


class RegionNameError(ArgumentError):
    """A region name cannot be resolved (:func:`pipeline.places.parse_region`).

    Raised for a name that is neither an ISO country code nor a complete Chinese place
    name, or a district name shared by several cities; the message quotes the name and
    says what to write instead.
    """


class ClassifierInputError(ArgumentError):
    """Texts or labels handed to the text classifier (:mod:`pipeline.classify.text`,
    :mod:`pipeline.classify.train`) cannot be used.

    Raised for an empty training set, labels that are not 0/1 per industry, a test or dev
    set lacking columns; the message names the argument (or the param of the file it
    came from) and the columns or shape.
    """


class GraphInputError(ArgumentError):
    """An edge or node list cannot be turned into a citation graph
    (:mod:`pipeline.network.graph`); the message names the columns or rows to fix."""


class MainPathInputError(ArgumentError):
    """Bad arguments to a main path function (:mod:`pipeline.network.mainpath`).

    Raised for node ids out of range, repeated edges, an unknown traversal method, a bad
    ``k`` or ``search``, weights not one finite value per edge; the message names the
    argument and the values.
    """


class NotADAGError(MainPathInputError):
    """The citation graph has a cycle, so no topological order exists.

    Break cycles upstream (e.g. drop the citation to the younger patent) before main path
    analysis; the message says how many nodes could not be levelled.
    """


class CentralityInputError(ArgumentError):
    """Bad arguments to a centrality function (:mod:`pipeline.network.centrality`): edge
    ids out of range, a bad personalization, ``alpha`` outside [0, 1]."""


class ClusterInputError(ArgumentError):
    """Bad arguments to a cluster function (:mod:`pipeline.network.clusters`): edge ids out
    of range, an asymmetric matrix, an unknown method.

    The message names the argument and the first offending values.
    """


class FlowInputError(ArgumentError):
    """Bad arguments to a flow function (:mod:`pipeline.network.flows`): edge ids out of
    range, an unknown level, an ambiguous region."""


class ExportInputError(ArgumentError):
    """Bad arguments to an export function (:mod:`pipeline.network.export`): duplicate
    node ids, edge ids out of range, an unknown language."""


class ScoreInputError(ArgumentError):
    """A table given to a scoring function (:mod:`pipeline.score.indicators`,
    :mod:`pipeline.score.value`) lacks columns or holds unusable values.

    The message names the table and the columns or values to fix.
    """


class PortfolioInputError(ArgumentError):
    """A portfolio input (:mod:`pipeline.score.portfolio`) lacks a column or has an invalid
    argument; the message names it."""


class RegionInputError(ArgumentError):
    """A regional input (:mod:`pipeline.score.regions`) lacks a column or has an invalid
    argument (an unknown level, an unresolvable region); the message names it."""


class TalentInputError(ArgumentError):
    """A table handed to the talent stage (:mod:`pipeline.score.talent`) lacks a column, or
    an argument is bad; the message names the table and column or the argument."""


class ChartInputError(ArgumentError):
    """A table given to a chart function (:mod:`pipeline.report.charts`) lacks a column or
    has an unknown option; the message names it."""


class LifecycleInputError(ArgumentError):
    """Years and counts given to a life-cycle function (:mod:`pipeline.lifecycle`)
    cannot be used.

    The message names the argument and the offending values.
    """


# --- the database and the analyst's SQL --------------------------------------------------


class DatabaseError(PatNavError):
    """The industry database cannot be built or opened.

    Raised when the canonical tables to build it from are missing, the database file does
    not exist yet or DuckDB cannot open it; the message names the file and the command to
    run.
    """


class QueryError(PatNavError):
    """The analyst's SQL failed (a syntax error, an unknown table or column); the message
    is ``query failed:`` and DuckDB's own."""


class QueryRefusedError(QueryError):
    """The analyst's SQL tried to leave the database (a file, an extension, a setting);
    ``patnav sql`` only reads the database and writes results with --csv / --xlsx."""


# --- model and report files --------------------------------------------------------------


class ModelFileError(PatNavError):
    """A model file cannot be loaded safely.

    Raised for a file that is not readable as skops, names a type outside the trusted
    list, or does not hold a fitted text classifier; the message names the file and
    the types.
    """


class ReportRenderError(PatNavError):
    """A report cannot be rendered (:mod:`pipeline.report.pdf`); the message names the
    block, file or field to fix (a missing figure or font, a malformed table)."""


# --- computations these data and settings cannot finish ----------------------------------


class ConvergenceError(PatNavError):
    """A power iteration did not reach ``tol`` within ``max_iter`` iterations.

    Attributes
    ----------
    what : str
        ``"PageRank"`` or ``"HITS"``.
    result : PageRankResult or HitsResult
        The last iterate, with ``converged=False``, its ``iterations`` and ``error``.

    The message ends with ``hint``: what to change (the network stage names its
    params.yaml settings).
    """

    def __init__(self, what: str, result, hint: str = "raise max_iter or tol"):
        self.what = what
        self.result = result
        super().__init__(
            f"{what} did not converge: L1 change {result.error:.3g} after {result.iterations} iterations "
            f"is above tol; {hint} (the last iterate is in this error's .result)"
        )


class PathCountOverflowError(PatNavError, OverflowError):
    """Unnormalised traversal counts exceed the float64 range; use ``normalize=True``.

    Raised by :mod:`pipeline.network.mainpath` on deep graphs; the message names the
    method and the argument to change.
    """


class ProjectDataError(PatNavError):
    """The data cannot support the project as defined (e.g. an enterprise with too few
    patents for an enterprise report).

    The message gives the count and what to change (the project or the param).
    """
