"""The ``patnav`` command line (also ``python -m pipeline``).

The CLI is the I/O edge: it reads params, calls the pure stage functions, writes the
outputs, shows progress and prints where everything went.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from . import io
from .config import ROOT, load_params
from .errors import PatNavError

app = typer.Typer(add_completion=False, help="PatNav — patent navigation (专利导航) pipeline.", no_args_is_help=True)
console = Console(stderr=True)
# Piped output (CI logs, `| tee`) would otherwise wrap the summary at 80 columns.
out_console = Console(width=None if sys.stdout.isatty() else 160)


def _fail(exc: Exception) -> None:
    console.print(f"[bold red]error:[/] {exc}", soft_wrap=True, highlight=False)
    raise typer.Exit(code=2)


@app.callback()
def main() -> None:
    """PatNav — patent navigation (专利导航) pipeline."""


@app.command()
def ingest(
    paths: Annotated[list[Path] | None, typer.Argument(help="Files or folders to ingest (default: ingest.inputs in params.yaml).")] = None,
    out: Annotated[Path | None, typer.Option("--out", help="Folder for the canonical Parquet tables.")] = None,
    report: Annotated[Path | None, typer.Option("--report", help="Ingest report JSON (default: OUT/ingest_report.json).")] = None,
    params_file: Annotated[Path, typer.Option("--params", help="params.yaml to read.")] = ROOT / "params.yaml",
) -> None:
    """Ingest patent files (USPTO XML, PatentsView TSV, Lens CSV, Chinese CSV/XLSX exports)."""
    from .ingest.run import ingest as run_ingest

    try:
        params = load_params(params_file)["ingest"]
    except PatNavError as exc:
        _fail(exc)
    paths = paths or [ROOT / p for p in params.inputs]
    out = out or ROOT / params.out
    report_path = report or out / "ingest_report.json"
    progress = Progress(
        TextColumn("[bold]ingest[/]"),
        TextColumn("{task.fields[source]}", style="cyan"),
        BarColumn(bar_width=None),
        MofNCompleteColumn(),
        TextColumn("records"),
        TimeElapsedColumn(),
        console=console,
        transient=True,
        disable=not console.is_terminal,
    )
    try:
        with progress:
            task = progress.add_task("ingest", total=None, source="")

            def on_batch(source: str, n: int) -> None:
                progress.update(task, advance=n, source=source)

            result = run_ingest(paths, limits=params.limits, batch_size=params.batch_size, relative_to=Path.cwd(), on_batch=on_batch)
    except PatNavError as exc:
        _fail(exc)
    written = io.write_tables(result.tables, out)
    io.write_json(result.report, report_path)
    _print_summary(result.report, written, report_path)
    if not result.report["reconciles"]:
        console.print("[bold red]error:[/] counts do not reconcile for some file (see report)")
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
    for s in report["skipped"]:
        out_console.print(f"[yellow]skipped[/] {s['file']}: {s['reason']}")
    out_console.print(f"tables → {Path(next(iter(written.values()))).parent if written else '-'}")
    out_console.print(f"report → {report_path}")


def run() -> None:  # pragma: no cover - console entry
    app()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(app())
