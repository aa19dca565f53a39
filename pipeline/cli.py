"""The ``patnav`` command line (also ``python -m pipeline``).

The CLI is the I/O edge: it reads params, calls the pure stage functions, writes the
outputs, shows progress and prints where everything went.

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

from . import io
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
    from .ingest.run import ingest as run_ingest
    from .ingest.run import run_stage

    params = _params(params_file)["ingest"]
    root = _root(params_file)
    default_run = not paths and out is None
    report_path = report or (root / params.report if out is None else out / "ingest_report.json")
    out = out or root / params.out
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

        if paths:  # files named on the command line: no registers unless the stage runs
            result = run_ingest(paths, limits=params.limits, batch_size=params.batch_size, relative_to=root,
                                table_batch_size=params.table_batch_size, on_batch=on_batch, skip=params.skip)
        else:
            result = run_stage(params, root, on_batch=on_batch)
    written = io.write_tables(result.tables, out)
    io.write_json(result.report, report_path)
    metrics_note = ""
    if default_run:  # the DVC stage: metrics for `dvc metrics show`
        t = result.report["totals"]
        metrics = {k: t[k] for k in ("records", "patents", "merged_duplicates", "rejected_records", "rejects",
                                     "families", "citations", "inventors", "assignees")}
        metrics_note = str(io.write_json(metrics, root / params.metrics))
    _print_summary(result.report, written, report_path)
    if metrics_note:
        out_console.print(f"metrics → {metrics_note}")
    _took(start)
    failed = False
    for f in result.report.get("failures", []):
        level = ("warning:", "yellow") if (allow_empty or params.allow_empty) else ("error:", "bold red")
        console.print(_styled(*level, f"{f['file']}: {f['reason']}"), soft_wrap=True, highlight=False)
        failed = failed or not (allow_empty or params.allow_empty)
    if not result.report["reconciles"]:
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
    from .classify.corpus import read_uspto_latam
    from .classify.rules import load_rules
    from .classify.text import load_ipc_titles, save_model
    from .classify.train import check_train_params
    from .classify.train import train as run_train

    params = _params(params_file)
    root = _root(params_file)
    tp, cp = params["train"], params["classify"]
    check_train_params(tp.model, tp.evaluation)  # a bad option fails now, not after the data is read
    try:
        tables = io.read_tables(root / params["ingest"].out)
        titles = load_ipc_titles(root / tp.ipc_titles_zh, root / tp.ipc_titles_en)
        cn_dev = pd.read_csv(root / tp.cn_dev, dtype={"id": str})
        latam = read_uspto_latam(root / tp.en_text) if tp.en_text else None
        model, metrics, confusion, predictions = run_train(
            tables["patents"], tables["classifications"], load_rules(root / cp.taxonomy), titles, cn_dev,
            latam=latam, source_labels=tables.get("source_labels"), random_state=tp.random_state,
            model_params=tp.model, evaluation=tp.evaluation, taxonomy=root / cp.taxonomy,
            progress=lambda msg: console.print(msg, highlight=False))
    except OSError as exc:  # a reference file missing or unreadable
        _fail(exc)
    if tp.label_noise:
        from .classify.evaluation import label_noise_counts

        judged = pd.read_csv(root / tp.label_noise)
        metrics["label_noise"] = {"file": tp.label_noise, **label_noise_counts(judged)}
    path = save_model(model, root / cp.model)
    mpath = io.write_json(metrics, root / tp.metrics)
    cpath = root / tp.confusion
    io.write_export(confusion, cpath, bom=False)
    if tp.predictions:
        (root / tp.predictions).parent.mkdir(parents=True, exist_ok=True)
        predictions.to_parquet(root / tp.predictions, index=False)
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
    out_console.print(f"model → {path}")
    out_console.print(f"metrics → {mpath}")
    out_console.print(f"confusion → {cpath}")


@app.command()
def classify(
    file: Annotated[Path | None, typer.Argument(help="A CSV/XLSX list with a title column (abstract, IPC optional). Without it: the pipeline stage over the canonical tables.")] = None,
    out: Annotated[Path | None, typer.Option("--out", help="Where to write the classified list (default: FILE.classified.csv/xlsx).")] = None,
    explain: Annotated[bool, typer.Option("--explain", help="With FILE: add columns 'terms' (the text model's top terms per industry) and 'rule' (the rule that fired, and on which code).")] = False,
    params_file: ParamsOpt = None,
) -> None:
    """Classify patents into the focus industries (rules on IPC/CPC codes + the text model)."""
    from .classify.labels import classify_list, label_patents
    from .classify.rules import load_rules
    from .classify.text import load_model

    params = _params(params_file)
    root = _root(params_file)
    cp = params["classify"]
    start = time.perf_counter()
    rules = load_rules(root / cp.taxonomy)
    model = load_model(root / cp.model)
    if file is not None:
        df, cols = io.read_list(file)
        out_df = classify_list(df, cols["title"], rules, model, cp.labels, cols["abstract"], cols["ipc"],
                               title_en_col=cols.get("title_en"), abstract_en_col=cols.get("abstract_en"),
                               code_cols=[c for c in (cols.get("ipc_main"), cols.get("cpc")) if c],
                               explain=explain)
        dest = out or file.with_name(f"{file.stem}.classified{'.xlsx' if file.suffix.lower() == '.xlsx' else '.csv'}")
        io.write_export(out_df, dest)
        n = out_df["industry"].notna().sum()
        out_console.print(f"{len(out_df)} rows, {n} placed in a focus industry (columns industry, branch, confidence, reason)")
        out_console.print(f"classified list → {dest}")
        return
    tables = io.read_tables(root / params["ingest"].out)
    from .classify.text import condition_terms, off_scope_terms

    labels = label_patents(tables["patents"], tables["classifications"], rules, model, cp.labels,
                           condition_terms=condition_terms(rules, root / cp.taxonomy),
                           off_scope=off_scope_terms(root / cp.taxonomy))
    agreement = {}
    if "source_labels" in tables:
        import yaml

        from .classify.agreement import vendor_agreement

        agreement = vendor_agreement(tables["patents"], tables["classifications"], tables["source_labels"], rules,
                                     yaml.safe_load((root / cp.taxonomy).read_text(encoding="utf-8")))
    path = root / cp.out
    path.parent.mkdir(parents=True, exist_ok=True)
    labels.to_parquet(path, index=False)
    counted = labels[labels["flag"].fillna("") != "codes_disagree"]
    metrics = {
        "publications_labelled": int(counted["pub_id"].nunique()),
        "by_industry": counted.groupby("industry")["pub_id"].nunique().to_dict(),
        "by_source": counted["source"].value_counts().sort_index().to_dict(),
        "flags": labels["flag"].value_counts().sort_index().to_dict(),
        # PatNav's rule labels against incoPat's own SEI labels (新兴产业分类), the vendor as reference.
        "vendor_agreement": agreement,
    }
    mpath = io.write_json(metrics, root / cp.metrics)
    out_console.print(f"{len(labels)} labels on {metrics['publications_labelled']} publications: {metrics['by_industry']}")
    for name, block in agreement.items():
        f1 = {k: v["f1"] for k, v in block["per_industry"].items()}
        out_console.print(f"rules vs incoPat SEI [{name}] n={block['n']}: macro-F1 {block['macro_f1']}, F1 {f1}", markup=False)
    out_console.print(f"labels → {path}")
    out_console.print(f"metrics → {mpath}")
    _took(start)


@app.command()
def network(
    edges: Annotated[Path | None, typer.Argument(help="A CSV edge list 'citing,cited' (dates optional: citing_date, cited_date). Without it: the pipeline stage over the canonical tables.")] = None,
    out: Annotated[Path | None, typer.Option("--out", help="Output folder for an edge list (default: EDGES.network/).")] = None,
    nodes_file: Annotated[Path | None, typer.Option("--nodes", help="Optional node CSV: node, label/title, applicant, date, country, province, city, district.")] = None,
    params_file: ParamsOpt = None,
) -> None:
    """Citation-network analytics: core patents, main paths, clusters, knowledge flows, exports."""
    from .network import run as net
    from .network.graph import from_tables, with_forward_citations

    params = _params(params_file)
    root = _root(params_file)
    npar = params["network"]
    start = time.perf_counter()
    last = {"step": None, "t": start}

    def progress(step: str) -> None:
        now = time.perf_counter()
        if last["step"]:
            console.print(f"  {last['step']}: {now - last['t']:.1f} s", highlight=False)
        last.update(step=step, t=now)

    from .network.clusters import LeidenNotStableWarning

    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always", LeidenNotStableWarning)
        if edges is not None:
            node_attrs = net.read_node_list(nodes_file) if nodes_file else None
            progress("graph")
            graph, regions = net.graph_from_user_files(net.read_edge_list(edges), node_attrs)
            tables = net.analyse(graph, npar, node_regions=regions, progress=progress)
            dest = out or edges.with_name(f"{edges.stem}.network")
            exports = dest
        else:
            from .classify.text import load_ipc_titles

            tp = params["train"]
            t = io.read_tables(root / params["ingest"].out)
            progress("graph")
            citations = with_forward_citations(t["citations"], t.get("forward_citations"))
            graph = from_tables(t["patents"], citations, t["parties"], level=npar.level)
            titles = load_ipc_titles(root / tp.ipc_titles_zh, root / tp.ipc_titles_en)
            tables = net.analyse(graph, npar, patents=t["patents"], classifications=t["classifications"],
                                 parties=t["parties"], ipc_titles=titles, progress=progress)
            dest, exports = root / npar.out, root / npar.exports
        progress("exports")
        written = net.write_exports(tables, exports, top=npar.export_top, lang=npar.lang)
        progress("")
    for w in seen:  # the cap's warning in the CLI's words; any other warning as Python shows it
        if issubclass(w.category, LeidenNotStableWarning):
            console.print(_styled("warning:", "yellow", str(w.message)), soft_wrap=True, highlight=False)
        else:
            warnings.showwarning(w.message, w.category, w.filename, w.lineno)
    dest.mkdir(parents=True, exist_ok=True)
    for name, df in tables.items():
        df.to_parquet(dest / f"{name}.parquet", index=False)
    metrics = net.summary(graph, tables)
    mpath = io.write_json(metrics, dest / "metrics.json" if edges is not None else root / npar.metrics)
    out_console.print(f"{metrics['nodes']} nodes ({metrics['nodes_in_data']} in the data), {metrics['edges']} edges, "
                      f"cycle edges removed {metrics['cycle_edges_removed']}, largest component "
                      f"{metrics['largest_component']}, {metrics['clusters']} clusters", highlight=False)
    out_console.print(f"tables ({', '.join(tables)}) → {dest}")
    out_console.print(f"exports → {', '.join(str(p) for p in written)}")
    out_console.print(f"metrics → {mpath}")
    _took(start)


@app.command()
def score(
    explain: Annotated[bool, typer.Option("--explain", help="Print the top patents and portfolios with the reasons behind their scores.")] = False,
    top: Annotated[int, typer.Option("--top", help="How many patents / portfolios --explain prints.")] = 10,
    params_file: ParamsOpt = None,
) -> None:
    """Score patents (value index, CNIPA high-value flags), portfolios, regions and inventors."""
    from .score import run as sc

    params = _params(params_file)
    root = _root(params_file)
    spar = params["score"]
    start = time.perf_counter()
    try:
        tables = io.read_tables(root / params["ingest"].out)
        labels = pd.read_parquet(root / params["classify"].out)
        nodes = root / params["network"].out / "nodes.parquet"
        forward = pd.read_parquet(nodes, columns=["node", "forward", "forward_window"]) if nodes.exists() else None
        with console.status(Text("scoring patents, portfolios, regions and inventors …")):
            result = sc.score(tables, labels, spar, forward=forward, root=root)
    except OSError as exc:  # a stage output missing or unreadable
        _fail(exc)
    dest = root / spar.out
    dest.mkdir(parents=True, exist_ok=True)
    for name, df in result.items():
        df.to_parquet(dest / f"{name}.parquet", index=False)
    metrics = sc.summary(result)
    mpath = io.write_json(metrics, root / spar.metrics)
    if explain:
        shown = sc.explain(result, top)
        for title, df in (("Top patents (value index; * = synthetic fixture record)", shown["patents"]),
                          ("Top portfolios (applicant group × industry, by PAI)", shown["portfolios"])):
            table = Table(title=title, show_lines=False)
            for col in df.columns:
                table.add_column(str(col), overflow="fold")
            for row in df.itertuples(index=False):
                table.add_row(*["" if pd.isna(v) else (f"{v:.3f}" if isinstance(v, float) else str(v)) for v in row])
            out_console.print(table)
    out_console.print(f"{metrics['patents_scored']} patents scored ({metrics['high_value']} CNIPA high-value), "
                      f"{metrics['portfolios']} portfolios ({metrics['high_value_portfolios']} pass the high-value "
                      f"test), {metrics['inventors']} inventors", highlight=False)
    out_console.print(f"tables ({', '.join(result)}) → {dest}")
    out_console.print(f"metrics → {mpath}")
    _took(start)


@app.command()
def report(
    name: Annotated[str, typer.Argument(help="Project name (params.yaml, section projects).")],
    params_file: ParamsOpt = None,
) -> None:
    """Write a project's navigation report: PDF per language, XLSX workbook, charts, network exports."""
    from .report.run import write_report

    params = _params(params_file)
    root = _root(params_file)
    if name not in params["projects"]:
        raise ConfigError(f"no project {name!r} in {root / 'params.yaml'}; known: {', '.join(params['projects'])}")
    start = time.perf_counter()
    try:
        with console.status(Text(f"writing the reports of {name} …")):
            written = write_report(root, params, name, network_exports=root / params["network"].exports)
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


# Network stage tables loaded into the database as network_<name>.
NETWORK_DB_TABLES = ("nodes", "edges", "main_paths", "removed", "clusters", "flows_applicants", "flows_regions",
                     "ipc_cooccurrence")

db_app = typer.Typer(help="The industry patent database (DuckDB).", no_args_is_help=True)
app.add_typer(db_app, name="db")


@db_app.command("build")
def db_build(params_file: ParamsOpt = None) -> None:
    """(Re)build the database from the canonical tables (readers keep the old file until the
    new one is swapped in; a content fingerprint is written beside it)."""
    from . import db

    params = _params(params_file)
    root = _root(params_file)
    start = time.perf_counter()
    extra = {"labels": root / params["classify"].out}
    net_dir = root / params["network"].out
    extra.update({f"network_{t}": net_dir / f"{t}.parquet" for t in NETWORK_DB_TABLES})
    from .score.run import TABLES as SCORE_TABLES

    score_dir = root / params["score"].out
    extra.update({f"score_{t}": score_dir / f"{t}.parquet" for t in SCORE_TABLES})
    counts = db.build(root / params["ingest"].out, root / params["database"].path,
                      extra={k: v for k, v in extra.items() if v.exists()})
    metrics = {"rows": counts}
    mpath = io.write_json(metrics, root / params["database"].metrics)
    out_console.print(", ".join(f"{t} {n}" for t, n in counts.items()))
    out_console.print(f"database → {root / params['database'].path}")
    out_console.print(f"contents → {db.manifest_path(root / params['database'].path)}")
    out_console.print(f"metrics → {mpath}")
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
    from . import db

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
    from .project import run_state

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
    from . import db
    from .landscape import landscape

    params = _params(params_file)
    root = _root(params_file)
    if name not in params["projects"]:
        raise ConfigError(f"no project {name!r} in {root / 'params.yaml'}; known: {', '.join(params['projects'])}")
    start = time.perf_counter()
    try:
        project = params["projects"][name]
        with db.connect(root / params["database"].path) as con:
            overview = con.sql("SELECT * FROM patent_overview").df()
            parties = con.sql("SELECT * FROM parties").df()
            has_labels = con.execute("SELECT count(*) FROM information_schema.tables "
                                     "WHERE table_name = 'patent_industries'").fetchall()[0][0] > 0
            industries = con.sql("SELECT * FROM patent_industries").df() if has_labels else None
            search = None
            if project.search:  # the landscape expansion needs texts, codes and citations
                search = {t: con.sql(f"SELECT * FROM {t}").df() for t in ("patents", "classifications", "citations")}
            tables = {t[0] for t in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
            # The project's own citations, for its region's dependence on outside technology.
            net_edges = con.sql("SELECT citing, cited FROM network_edges ORDER BY src, dst").df() \
                if "network_edges" in tables else None
            scored = None
            if {"score_patents", "score_inventors", "labels"} <= tables:
                scored = {
                    "scores": {"patents": con.sql("SELECT pub_id, high_value FROM score_patents").df(),
                               "inventors": con.sql("SELECT * FROM score_inventors").df()},
                    # positioning needs each publication's filing year: the overview has it
                    "tables": {"patents": overview[["pub_id", "filing_year"]], "parties": parties},
                    "labels": con.sql("SELECT * FROM labels").df(),
                }
    except duckdb_error() as exc:  # a damaged database
        _fail(exc)
    result = landscape(overview, parties, project, params["landscape"], industries=industries, search_tables=search)
    if scored is not None:
        from .score.run import project_views

        result.update(project_views(project, scored["scores"], scored["tables"], scored["labels"], params["score"]))
    if net_edges is not None:
        from .network.run import project_dependence

        result["metrics"]["knowledge_dependence"] = project_dependence(
            net_edges, parties, overview["pub_id"], result["scope"]["pub_id"], project.region)
    written = io.write_project_outputs(result, project_dir(name, root))
    for path in written:
        out_console.print(f"→ {path}")
    _took(start)


def run() -> None:  # pragma: no cover - console entry
    app()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(app())
