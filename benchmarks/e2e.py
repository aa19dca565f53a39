"""The whole pipeline on GENERATED data: time and peak memory per stage as the input grows.

    python benchmarks/e2e.py --patents 100000 300000 1000000 [--format cn-csv] [--work DIR] [--keep] [--reuse]

ALL DATA HERE IS GENERATED (not real; :mod:`benchmarks.generate`, distributions fitted on
the real files). For each size a project folder is made in a temporary folder: the
generated export in ``data/raw``, this checkout's ``params.yaml`` with ``ingest.input``
pointed at it and one navigation project (``--project``, default ``jiangbei-nev``), the
trained text model of this checkout (``models/``: run ``dvc repro train`` first). Then the
stages run as ``dvc repro`` runs them — ``patnav ingest``, ``classify``, ``network``,
``score``, ``db build``, ``project run``, ``report`` — each in its own process, and the
benchmark prints each stage's wall time, CPU time (the stage's and its workers', a fairer
figure when other work shares the machine) and peak RSS (of the stage's largest process:
``wait4`` gives the maximum over the process and the workers it waited for, not their
sum — with ``ingest.workers: auto`` two ingest workers run beside the stage's process),
and, between sizes, the growth
exponent of each stage's time (1 = linear; log(t2/t1) / log(n2/n1)).

Targets (issue 16, this machine): 1M patents and 10M citations end to end ≤ 10 min and
≤ 8 GB peak. US formats carry ~20 references per patent as the real grants do; the
Chinese exports ~4 (``--internal-share`` sets how many point inside the set).
"""

from __future__ import annotations

import argparse
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks import generate as gen  # noqa: E402
from benchmarks.ingest import machine_line  # noqa: E402

STAGES = ("ingest", "classify", "network", "score", "db build", "project run {project}", "report {project}")


def _absolute(value, root: Path):
    """Paths of params that point into the checkout or beside it, made absolute."""
    if isinstance(value, str) and (value.startswith("../") or value.startswith("pipeline/")):
        return str((root / value).resolve())
    if isinstance(value, list):
        return [_absolute(v, root) for v in value]
    if isinstance(value, dict):
        return {k: _absolute(v, root) for k, v in value.items()}
    return value


def make_project(folder: Path, raw: Path, project: str) -> Path:
    """A project folder reading ``raw``, with this checkout's params, model and one project."""
    params = yaml.safe_load((ROOT / "params.yaml").read_text(encoding="utf-8"))
    params = _absolute(params, ROOT)
    params["ingest"]["input"] = [str(raw)]
    params["ingest"]["skip"] = {}
    params["projects"] = {project: params["projects"][project]}
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "params.yaml").write_text(yaml.safe_dump(params, allow_unicode=True, sort_keys=False), encoding="utf-8")
    shutil.copy(ROOT / "dvc.yaml", folder / "dvc.yaml")  # marks the project root
    model = ROOT / params["classify"]["model"]
    if not model.exists():
        sys.exit(f"{model} is missing: run `dvc repro train` in {ROOT} first")
    (folder / "models").mkdir(exist_ok=True)
    shutil.copy(model, folder / params["classify"]["model"])
    return folder


def run_stage(cmd: str, cwd: Path) -> dict:
    """One stage in its own process: wall seconds, peak RSS (MiB) and exit status."""
    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "pipeline", *cmd.split()], cwd=cwd,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    out = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    # CPU seconds of the stage and the workers it waited for: the fairer figure on a shared machine.
    return {"seconds": time.perf_counter() - t0, "cpu": usage.ru_utime + usage.ru_stime,
            "peak_mib": usage.ru_maxrss / 1024, "rc": proc.returncode,
            "tail": out.strip().splitlines()[-3:]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--patents", type=int, nargs="+", default=[100_000])
    ap.add_argument("--format", choices=gen.FORMATS, default="cn-csv")
    ap.add_argument("--project", default="jiangbei-nev", help="the navigation project of params.yaml to run")
    ap.add_argument("--internal-share", type=float, default=1.0)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--work", type=Path, help="folder for the generated projects (default: a temporary one)")
    ap.add_argument("--keep", action="store_true", help="keep the generated projects")
    ap.add_argument("--reuse", action="store_true",
                    help="with --work: read the generated input an earlier run kept there instead of generating it")
    args = ap.parse_args()

    print(machine_line().split(";")[0] + "; each stage a process of its own, both cores free to use")
    print(f"inputs: GENERATED ({args.format}, seed {args.seed}; benchmarks/generate.py, fitted on ../shared/data) "
          "— not real data\n")
    work = args.work or Path(tempfile.mkdtemp(prefix="patnav-e2e-"))
    prof = gen.load_profile(gen.OFFICE_OF[args.format])
    results: dict[int, dict] = {}
    try:
        for n in args.patents:
            folder = work / f"n{n}"
            raw_dir = folder / "data" / "raw"
            t0 = time.perf_counter()
            if args.reuse and raw_dir.is_dir() and any(raw_dir.iterdir()):
                print(f"GENERATED {n:,} patents: reusing {raw_dir} (made by an earlier run with --keep)")
            else:
                tables = gen.generate(n, prof, seed=args.seed, internal_share=args.internal_share)
                gen.write(tables, args.format, raw_dir)
                refs = len(tables["citations"])
                del tables
                print(f"GENERATED {n:,} patents, {refs:,} references in {time.perf_counter() - t0:.0f} s (not timed below)")
            entries = list(raw_dir.iterdir())  # a PatentsView folder is read as the folder it is
            make_project(folder, entries[0] if len(entries) == 1 and entries[0].is_dir() else raw_dir, args.project)
            rows = {}
            for stage in STAGES:
                cmd = stage.format(project=args.project)
                r = run_stage(cmd, folder)
                rows[stage.split()[0] if "{" in stage else stage] = r
                print(f"  {cmd:28} {r['seconds']:8.1f} s {r['peak_mib']:9,.0f} MiB {r['cpu']:8.1f} s CPU"
                      + ("" if r["rc"] == 0 else
                      f"   FAILED (exit {r['rc']}): {' / '.join(r['tail'])}"), flush=True)
                if r["rc"] != 0:
                    break
            total = sum(r["seconds"] for r in rows.values())
            peak = max(r["peak_mib"] for r in rows.values())
            cpu = sum(r["cpu"] for r in rows.values())
            print(f"  {'end to end':28} {total:8.1f} s {peak:9,.0f} MiB {cpu:8.1f} s CPU (peak of any stage)\n")
            results[n] = rows
            if not args.keep:
                shutil.rmtree(folder, ignore_errors=True)
        sizes = sorted(results)
        if len(sizes) > 1:
            print("growth of each stage's time between sizes (1 = linear, 2 = quadratic; generated data):")
            for a, b in zip(sizes, sizes[1:]):
                ratio = math.log(b / a)
                line = ", ".join(f"{s} {math.log(max(results[b][s]['seconds'], 1e-3) / max(results[a][s]['seconds'], 1e-3)) / ratio:.2f}"
                                 for s in results[a] if s in results[b])
                print(f"  {a:,} → {b:,}: {line}")
        print("\nTargets (issue 16): 1M patents + 10M citations end to end ≤ 600 s and ≤ 8,192 MiB peak.")
    finally:
        if not args.keep and not args.work:
            shutil.rmtree(work, ignore_errors=True)
        elif args.keep:
            print(f"projects kept in {work}")


if __name__ == "__main__":
    main()
