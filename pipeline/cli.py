"""The ``patnav`` command line (also ``python -m pipeline``).

The CLI is thin: it parses options and params, calls the stage's function (``run_stage``
of the stage's own module: what each stage reads and writes is there, which is why
``dvc.yaml`` declares those modules and not this one), shows progress, prints what the
function returns and maps errors to exit codes.

A PatNav error (:mod:`pipeline.errors`) raised anywhere in a command is printed as one
line, ``error: <message>``, and the command exits with the code of its kind
(:data:`EXIT_CODES`). Any other exception is a bug: it keeps its traceback.
"""

from __future__ import annotations

import re
import sys
import time
import warnings
from pathlib import Path
from typing import Annotated, NoReturn

import pandas as pd
import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text
from typer.core import TyperGroup

from .config import find_root, load_params, project_dir
from .errors import (
    ArgumentError,
    ConfigError,
    ConvergenceError,
    DatabaseError,
    InputError,
    ModelFileError,
    PathCountOverflowError,
    PatNavError,
    ProjectDataError,
    QueryError,
    ReportRenderError,
    SchemaError,
)

#: Exit code of each kind of error, found along the error's class hierarchy (the most
#: specific class listed wins). 1: the data cannot give what was asked (as ``ingest`` when a
#: file yields no record); 2: something to fix in the params, the input or the command.
EXIT_CODES: dict[type[BaseException], int] = {
    ConfigError: 2,             # params.yaml, a project, the taxonomy, an option (names the field)
    InputError: 2,              # an input file that cannot be used (names the file)
    SchemaError: 2,             # a table that does not match its schema
    ArgumentError: 2,           # a table or value a function cannot use (names the argument)
    DatabaseError: 2,           # no database yet, or it cannot be opened
    QueryError: 2,              # the SQL failed or was refused (QueryRefusedError): tests and scripts rely on 2
    ModelFileError: 2,          # a model file that cannot be loaded safely
    ReportRenderError: 2,       # a figure, font or block the report cannot render
    ConvergenceError: 2,        # names the params to change
    PathCountOverflowError: 2,
    ProjectDataError: 1,        # the data cannot support the project as defined
    PatNavError: 2,             # any other named error
    OSError: 2,                 # a file the system cannot read or write, where a command expects it
}

EXIT_CODES_HELP = (
    "Exit codes: 0 done; 1 the data cannot give what was asked (a file yields no record, counts do not "
    "reconcile, a project the data cannot support); 2 something to fix (params, input, arguments, the query), "
    "named in one 'error:' line. A traceback is a bug: please report it."
)


def exit_code(exc: BaseException) -> int:
    """The exit code of ``exc`` (:data:`EXIT_CODES`); 2 for an outside error a command
    catches where it is expected (a damaged database's ``duckdb.Error``)."""
    return next((EXIT_CODES[c] for c in type(exc).__mro__ if c in EXIT_CODES), 2)


def _one_line(exc: BaseException) -> str:
    """The message of ``exc`` on one line (DuckDB's and some OS messages span several)."""
    return re.sub(r"\s*\n\s*", " ", str(exc).strip()) or type(exc).__name__


class _Commands(TyperGroup):
    """The ``patnav`` command group: a PatNav error from any command (or subcommand) is
    printed as one line and ends the run with its exit code; other exceptions pass."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except PatNavError as exc:
            _fail(exc)


app = typer.Typer(cls=_Commands, add_completion=False, help="PatNav — patent navigation (专利导航) pipeline.",
                  epilog=EXIT_CODES_HELP, no_args_is_help=True)
# Markup off everywhere: paths, cell values and error texts are printed as they are (a file
# named "evil[/b].xml" would otherwise crash Rich, "b[bold red]x.xml" print as "bx.xml");
# the few styled words are Text spans (_styled).
console = Console(stderr=True, markup=False)
# Piped output (CI logs, `| tee`) would otherwise wrap the summary at 80 columns.
out_console = Console(width=None if sys.stdout.isatty() else 160, markup=False)


def _styled(label: str, style: str, rest: str = "") -> Text:
    """``label`` in ``style`` followed by ``rest``, both literal (no markup parsed)."""
    return Text.assemble((label, style), " " + rest if rest else "")


def _took(start: float) -> None:
    """Print a command's wall time (a property of the run, so never in the metrics files,
    whose bytes must not change when nothing else does)."""
    out_console.print(f"done in {time.perf_counter() - start:.1f} s")


def _fail(exc: BaseException) -> NoReturn:
    """Print ``exc`` as one literal line on stderr and exit with its code."""
    console.print(_styled("error:", "bold red", _one_line(exc)), soft_wrap=True, highlight=False)
    raise typer.Exit(code=exit_code(exc))


@app.callback()
def main() -> None:
    """PatNav — patent navigation (专利导航) pipeline."""


def _params(params_file: Path | None) -> dict:
    return load_params(params_file or find_root() / "params.yaml")


def duckdb_error():
    import duckdb

    return duckdb.Error


def _root(params_file: Path | None) -> Path:
    return params_file.resolve().parent if params_file else find_root()


ParamsOpt = Annotated[Path | None, typer.Option("--params", help="params.yaml to read (default: the project folder's, found from the working directory).")]


@app.command()
def ingest(
    paths: Annotated[list[Path] | None, typer.Argument(help="Files or folders to ingest (default: ingest.input in params.yaml).")] = None,
    out: Annotated[Path | None, typer.Option("--out", help="Folder for the canonical Parquet tables.")] = None,
    report: Annotated[Path | None, typer.Option("--report", help="Ingest report JSON (default: ingest.report, or OUT/ingest_report.json with --out).")] = None,
    allow_empty: Annotated[bool, typer.Option("--allow-empty", help="A file that yields no record (all rejected, or none) is a warning, not an error.")] = False,
    params_file: ParamsOpt = None,
) -> None:
    """Ingest patent files (USPTO XML, PatentsView TSV, Lens CSV; incoPat / PatSnap / Patentics / CNIPA
    exports as XLSX, XLS, HTML-as-XLS or CSV).

    Exits 1 when a file yields no record or an input folder holds a file of unknown
    format (list it under ingest.skip in params.yaml to skip it on purpose), or when
    counts do not reconcile; 2 on unusable input or params.
    """
    from .ingest.run import run_and_write

    params = _params(params_file)["ingest"]
    progress = Progress(
        TextColumn("ingest", style="bold", markup=False),
        TextColumn("{task.fields[source]}", style="cyan", markup=False),
        BarColumn(bar_width=None),
        MofNCompleteColumn(),
        TextColumn("records", markup=False),
        TimeElapsedColumn(),
        console=console,
        transient=True,
        disable=not console.is_terminal,
    )
    start = time.perf_counter()
    with progress:
        task = progress.add_task("ingest", total=None, source="")

        def on_batch(source: str, n: int) -> None:
            progress.update(task, advance=n, source=source)

        run = run_and_write(params, _root(params_file), paths=paths, out=out, report=report, on_batch=on_batch)
    _print_summary(run.result.report, run.written, run.report_path)
    if run.metrics_path:
        out_console.print(f"metrics → {run.metrics_path}")
    _took(start)
    failed = False
    for f in run.result.report.get("failures", []):
        level = ("warning:", "yellow") if (allow_empty or params.allow_empty) else ("error:", "bold red")
        console.print(_styled(*level, f"{f['file']}: {f['reason']}"), soft_wrap=True, highlight=False)
        failed = failed or not (allow_empty or params.allow_empty)
    if not run.result.report["reconciles"]:
        console.print(_styled("error:", "bold red", "counts do not reconcile for some file (see report)"))
        failed = True
    if failed:
        raise typer.Exit(code=1)


def _short(text: str, width: int = 48) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def _print_summary(report: dict, written: dict, report_path: Path) -> None:
    table = Table(title="Ingest summary", show_lines=False)
    for col, just in [("file", "left"), ("format", "left"), ("records", "right"), ("accepted", "right"),
                      ("merged", "right"), ("rejected", "right"), ("top reject reasons", "left")]:
        table.add_column(col, justify=just, overflow="fold")
    for f in report["files"]:
        reasons = "; ".join(f"{_short(r)} ×{n}" for r, n in list(f["top_reject_reasons"].items())[:3])
        table.add_row(f["file"], f["format"], str(f["records"]), str(f["accepted"]), str(f["merged_duplicates"]),
                      str(f["rejected"]), reasons)
    out_console.print(table)
    t = report["totals"]
    out_console.print(
        f"{t['patents']} publications in {t['families']} families ({t['utility_grants']} US utility grants, "
        f"{t['design_grants']} design grants); {t['citations']} patent citations ({t['citations_resolved']} resolved), "
        f"{t['npl']} NPL; {t['inventors']} inventors, {t['assignees']} assignees, {t['applicants']} applicants; "
        f"{t['rejects']} reject rows."
    )
    if located := report.get("located"):
        routes = ", ".join(f"{k} {v}" for k, v in located["by_route"].items())
        out_console.print(f"applicant groups located ({located['groups']}): {routes} (routes: docs/data-model.md, parties.located_by)")
    for s in report["skipped"]:
        out_console.print(_styled("skipped", "yellow", f"{s['file']}: {s['reason']}"), highlight=False)
    out_console.print(f"tables → {Path(next(iter(written.values()))).parent if written else '-'}", highlight=False)
    out_console.print(f"report → {report_path}", highlight=False)


@app.command()
def train(params_file: ParamsOpt = None) -> None:
    """Fit and evaluate the text classifier; save it (skops) and its evaluation metrics."""
    from .classify.train import run_stage

    params = _params(params_file)
    try:
        run = run_stage(params, _root(params_file), progress=lambda msg: console.print(msg, highlight=False))
    except OSError as exc:  # a reference file missing or unreadable
        _fail(exc)
    metrics = run["metrics"]
    for split, res in metrics.items():
        if isinstance(res, dict) and "macro_f1" in res:
            ci = res.get("macro_f1_ci95")
            out_console.print(f"{split}: macro-F1 {res['macro_f1']}" + (f" ({ci[0]}-{ci[1]})" if ci else "")
                              + f" on {res['n']}", markup=False)
    out_console.print(f"thresholds (validation): {metrics['thresholds']}", markup=False)
    for lang, c in (metrics.get("label_noise") or {}).items():
        if isinstance(c, dict):
            out_console.print(f"label noise [{lang}]: {c['label_error']} of {c['drawn']} drawn disagreements are label "
                              f"errors, {c['model_error']} model errors, {c['unclear']} unclear", markup=False)
    out_console.print(f"model → {run['model']}")
    out_console.print(f"metrics → {run['metrics_path']}")
    out_console.print(f"confusion → {run['confusion']}")


@app.command()
def classify(
    file: Annotated[Path | None, typer.Argument(help="A CSV/XLSX list with a title column (abstract, IPC optional). Without it: the pipeline stage over the canonical tables.")] = None,
    out: Annotated[Path | None, typer.Option("--out", help="Where to write the classified list (default: FILE.classified.csv/xlsx).")] = None,
    explain: Annotated[bool, typer.Option("--explain", help="With FILE: add columns 'terms' (the text model's top terms per industry) and 'rule' (the rule that fired, and on which code).")] = False,
    params_file: ParamsOpt = None,
) -> None:
    """Classify patents into the focus industries (rules on IPC/CPC codes + the text model)."""
    from .classify.run import classify_file, run_stage

    params = _params(params_file)
    root = _root(params_file)
    start = time.perf_counter()
    if file is not None:
        run = classify_file(params, root, file, out, explain=explain)
        out_console.print(f"{run['rows']} rows, {run['placed']} placed in a focus industry (columns industry, branch, confidence, reason)")
        out_console.print(f"classified list → {run['dest']}")
        return
    run = run_stage(params, root)
    metrics = run["metrics"]
    out_console.print(f"{run['labels']} labels on {metrics['publications_labelled']} publications: {metrics['by_industry']}")
    for name, block in metrics["vendor_agreement"].items():
        f1 = {k: v["f1"] for k, v in block["per_industry"].items()}
        out_console.print(f"rules vs incoPat SEI [{name}] n={block['n']}: macro-F1 {block['macro_f1']}, F1 {f1}", markup=False)
    out_console.print(f"labels → {run['path']}")
    out_console.print(f"metrics → {run['metrics_path']}")
    _took(start)


@app.command()
def network(
    edges: Annotated[Path | None, typer.Argument(help="A CSV edge list 'citing,cited' (dates optional: citing_date, cited_date). Without it: the pipeline stage over the canonical tables.")] = None,
    out: Annotated[Path | None, typer.Option("--out", help="Output folder for an edge list (default: EDGES.network/).")] = None,
    nodes_file: Annotated[Path | None, typer.Option("--nodes", help="Optional node CSV: node, label/title, applicant, date, country, province, city, district.")] = None,
    params_file: ParamsOpt = None,
) -> None:
    """Citation-network analytics: core patents, main paths, clusters, knowledge flows, exports."""
    from .network.clusters import LeidenNotStableWarning
    from .network.run import run_stage, run_user_files

    params = _params(params_file)
    start = time.perf_counter()
    last = {"step": None, "t": start}

    def progress(step: str) -> None:
        now = time.perf_counter()
        if last["step"]:
            console.print(f"  {last['step']}: {now - last['t']:.1f} s", highlight=False)
        last.update(step=step, t=now)

    if edges is not None:
        run = run_user_files(params, edges, out=out, nodes=nodes_file, progress=progress)
    else:
        run = run_stage(params, _root(params_file), progress=progress)
    for w in run["warnings"]:  # the cap's warning in the CLI's words; any other warning as Python shows it
        if issubclass(w.category, LeidenNotStableWarning):
            console.print(_styled("warning:", "yellow", str(w.message)), soft_wrap=True, highlight=False)
        else:
            warnings.showwarning(w.message, w.category, w.filename, w.lineno)
    metrics = run["metrics"]
    out_console.print(f"{metrics['nodes']} nodes ({metrics['nodes_in_data']} in the data), {metrics['edges']} edges, "
                      f"cycle edges removed {metrics['cycle_edges_removed']}, largest component "
                      f"{metrics['largest_component']}, {metrics['clusters']} clusters", highlight=False)
    out_console.print(f"tables ({', '.join(run['tables'])}) → {run['dest']}")
    out_console.print(f"exports → {', '.join(str(p) for p in run['exports'])}")
    out_console.print(f"metrics → {run['metrics_path']}")
    _took(start)


@app.command()
def score(
    explain: Annotated[bool, typer.Option("--explain", help="Print the top patents and portfolios with the reasons behind their scores.")] = False,
    top: Annotated[int, typer.Option("--top", help="How many patents / portfolios --explain prints.")] = 10,
    params_file: ParamsOpt = None,
) -> None:
    """Score patents (value index, CNIPA high-value flags), portfolios, regions and inventors."""
    from .score.run import run_stage

    params = _params(params_file)
    start = time.perf_counter()
    try:
        with console.status(Text("scoring patents, portfolios, regions and inventors …")):
            run = run_stage(params, _root(params_file), explain_top=top if explain else None)
    except OSError as exc:  # a stage output missing or unreadable
        _fail(exc)
    if explain:
        shown = run["explained"]
        for title, df in (("Top patents (value index; * = synthetic fixture record)", shown["patents"]),
                          ("Top portfolios (applicant group × industry, by PAI)", shown["portfolios"])):
            table = Table(title=title, show_lines=False)
            for col in df.columns:
                table.add_column(str(col), overflow="fold")
            for row in df.itertuples(index=False):
                table.add_row(*["" if pd.isna(v) else (f"{v:.3f}" if isinstance(v, float) else str(v)) for v in row])
            out_console.print(table)
    metrics = run["metrics"]
    out_console.print(f"{metrics['patents_scored']} patents scored ({metrics['high_value']} CNIPA high-value), "
                      f"{metrics['portfolios']} portfolios ({metrics['high_value_portfolios']} pass the high-value "
                      f"test), {metrics['inventors']} inventors", highlight=False)
    out_console.print(f"tables ({', '.join(run['tables'])}) → {run['dest']}")
    out_console.print(f"metrics → {run['metrics_path']}")
    _took(start)


@app.command()
def report(
    name: Annotated[str, typer.Argument(help="Project name (params.yaml, section projects).")],
    params_file: ParamsOpt = None,
) -> None:
    """Write a project's navigation report: PDF per language, XLSX workbook, charts, network exports."""
    from .report.run import run_stage

    params = _params(params_file)
    start = time.perf_counter()
    try:
        with console.status(Text(f"writing the reports of {name} …")):
            written = run_stage(params, _root(params_file), name)
    except (duckdb_error(), OSError) as exc:  # a damaged database, a file missing or unreadable
        _fail(exc)
    for path in written:
        if path.suffix in (".pdf", ".xlsx"):
            out_console.print(f"→ {path}")
    charts = [p for p in written if p.parent.name == "charts"]
    net = [p for p in written if p.parent.name == "network"]
    if charts:
        out_console.print(f"→ {charts[0].parent}/ ({len(charts)} chart files, PNG + SVG)")
    if net:
        out_console.print(f"→ {net[0].parent}/ (Gephi and VOSviewer files)")
    out_console.print(f"{len(written)} files in {time.perf_counter() - start:.1f} s")


db_app = typer.Typer(help="The industry patent database (DuckDB).", no_args_is_help=True)
app.add_typer(db_app, name="db")


@db_app.command("build")
def db_build(params_file: ParamsOpt = None) -> None:
    """(Re)build the database from the canonical tables (readers keep the old file until the
    new one is swapped in; a content fingerprint is written beside it)."""
    from .db import run_stage

    start = time.perf_counter()
    run = run_stage(_params(params_file), _root(params_file))
    out_console.print(", ".join(f"{t} {n}" for t, n in run["counts"].items()))
    out_console.print(f"database → {run['path']}")
    out_console.print(f"contents → {run['contents']}")
    out_console.print(f"metrics → {run['metrics_path']}")
    _took(start)


@app.command()
def sql(
    query: Annotated[str, typer.Argument(help="One SQL query, e.g. \"SELECT * FROM yearly_counts\".")],
    csv: Annotated[Path | None, typer.Option("--csv", help="Also write the full result as CSV.")] = None,
    xlsx: Annotated[Path | None, typer.Option("--xlsx", help="Also write the full result as XLSX.")] = None,
    limit: Annotated[int, typer.Option("--limit", help="Rows shown on screen.")] = 50,
    db_path: Annotated[Path | None, typer.Option("--db", help="Database file (default: database.path).")] = None,
    params_file: ParamsOpt = None,
) -> None:
    """Query the industry patent database and print or export the result.

    The query runs sandboxed: it reads the database only (no file, extension or setting);
    --csv / --xlsx are the only files written.

    Tables: patents, parties, classifications, citations, npl, events, rejects.
    Views: patent_overview, yearly_counts, region_counts, top_applicants.
    """
    from . import db, io

    path = db_path or _root(params_file) / _params(params_file)["database"].path
    df = db.query(query, path)
    table = Table(show_lines=False)
    for col in df.columns:
        table.add_column(str(col), overflow="fold")
    for row in df.head(limit).itertuples(index=False):
        table.add_row(*["" if pd.isna(v) else str(v) for v in row])
    out_console.print(table)
    out_console.print(f"{len(df)} rows" + (f" (first {limit} shown)" if len(df) > limit else ""))
    if csv:
        out_console.print(f"csv → {io.write_export(df, csv)}")
    if xlsx:
        out_console.print(f"xlsx → {io.write_export(df, xlsx)}")


project_app = typer.Typer(help="Navigation projects (the projects: section of params.yaml).", no_args_is_help=True)
app.add_typer(project_app, name="project")


@project_app.command("new")
def project_new(
    name: Annotated[str, typer.Argument(help="Project name (a-z, 0-9, -, _): its folder under data/processed/.")],
    type_: Annotated[str, typer.Option("--type", help="industry | enterprise | talent")] = "industry",
    industry: Annotated[str, typer.Option("--industry", help="Focus industry or branch, e.g. nev or nev.components.")] = ...,
    region: Annotated[str, typer.Option("--region", help="Region of the project, e.g. 重庆市江北区 or CN.")] = ...,
    compare: Annotated[list[str] | None, typer.Option("--compare", help="Comparison region (repeatable).")] = None,
    first_year: Annotated[int, typer.Option("--from", help="First filing year.")] = 2005,
    last_year: Annotated[int, typer.Option("--to", help="Last filing year.")] = 2024,
    enterprise: Annotated[str | None, typer.Option("--enterprise", help="Target enterprise (type enterprise).")] = None,
    languages: Annotated[list[str] | None, typer.Option("--lang", help="Report language zh / en (repeatable).")] = None,
    params_file: ParamsOpt = None,
) -> None:
    """Add a validated navigation project to params.yaml."""
    from .project import add_project

    spec = {"type": type_, "industry": industry, "region": region, "compare": list(compare or []),
            "years": [first_year, last_year], "enterprise": enterprise, "languages": list(languages or ["zh"])}
    config = add_project(_root(params_file) / "params.yaml", name, spec)
    out_console.print(f"project {config.name!r} ({config.type}, {config.industry}, {config.region.label}) added to {_root(params_file) / 'params.yaml'}")
    out_console.print(f"run it: dvc repro landscape@{config.name}   outputs → {project_dir(config.name, _root(params_file))}")


@project_app.command("list")
def project_list(params_file: ParamsOpt = None) -> None:
    """List projects with their last run state."""
    from .api import run_state

    params = _params(params_file)
    root = _root(params_file)
    table = Table(title="Navigation projects")
    for col in ("name", "type", "industry", "region", "years", "last run", "state"):
        table.add_column(col)
    for name, p in params["projects"].items():
        last, state = run_state(name, root)
        table.add_row(name, p.type, p.industry, p.region.label, f"{p.years[0]}–{p.years[1]}", last or "never", state)
    out_console.print(table)


@project_app.command("run")
def project_run(name: Annotated[str, typer.Argument(help="Project name.")], params_file: ParamsOpt = None) -> None:
    """Run one project's landscape stage (what `dvc repro landscape@NAME` calls)."""
    from .landscape import run_stage

    params = _params(params_file)
    start = time.perf_counter()
    try:
        written = run_stage(params, _root(params_file), name)
    except duckdb_error() as exc:  # a damaged database
        _fail(exc)
    for path in written:
        out_console.print(f"→ {path}")
    _took(start)


def run() -> None:  # pragma: no cover - console entry
    app()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(app())
