"""The DVC pipeline, navigation projects, the database CLI and the notebooks, end to end.

Runs `dvc repro` once in a temporary copy of the repository (module fixture) and checks
what a user of a fresh clone would: outputs for every sample project, a second repro
that does nothing, a one-project param edit that reruns only that project, offline
metrics and plots, and the notebooks executed against the outputs. Last, every stage is
forced to run again under a clock 400 days on, then killed at a random moment and
recovered by `dvc repro`: each time every file and `dvc.lock` must be as before.
"""

import hashlib
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import nbformat
import pandas as pd
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def run(cmd, cwd, check=True):
    env = dict(os.environ, PATH=f"{BIN}{os.pathsep}{os.environ['PATH']}", CI="true")
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, env=env, timeout=600)
    if check and proc.returncode != 0:
        raise AssertionError(f"{cmd} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    return proc


@pytest.fixture(scope="module")
def repo(tmp_path_factory):
    """A copy of the repository (tracked and new files, no outputs) after one `dvc repro`."""
    dst = tmp_path_factory.mktemp("repo") / "patnav"
    # The demo reads ../shared/data beside the checkout: the copy gets the same neighbour.
    (dst.parent / "shared").symlink_to(ROOT.parent / "shared", target_is_directory=True)
    files = subprocess.run(["git", "ls-files", "-co", "--exclude-standard"], cwd=ROOT, capture_output=True,
                           text=True, check=True).stdout.splitlines()
    for f in files:
        src = ROOT / f
        if src.is_file():
            (dst / f).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dst / f)
    for cmd in (["git", "init", "-q"], ["git", "add", "-A"],
                ["git", "-c", "user.email=t@t", "-c", "user.name=t", "commit", "-qm", "copy"]):
        run(cmd, dst)
    repro = run([str(BIN / "dvc"), "repro"], dst)
    return dst, repro.stdout


def projects(root):
    return yaml.safe_load((root / "params.yaml").read_text(encoding="utf-8"))["projects"]


def stages_run(output):
    return sorted(line.split("'")[1] for line in output.splitlines() if line.startswith("Running stage"))


def test_repro_produces_every_stage_output_for_each_project(repo):
    root, out = repo
    names = list(projects(root))
    assert len(names) >= 2 and len({p["type"] for p in projects(root).values()}) >= 2
    assert stages_run(out) == sorted(["classify", "database", "ingest", "network", "score", "train",
                                      *[f"landscape@{n}" for n in names], *[f"report@{n}" for n in names]])
    assert (root / "models/text_classifier.skops").exists() and (root / "data/interim/labels.parquet").exists()
    train = json.loads((root / "metrics/train.json").read_text())
    for split in ("exports:en:title+abstract", "exports:zh:title+abstract", "us_grants:en:title+abstract",
                  "zh_dev:random:title+abstract"):
        assert train[split]["n"] > 50 and 0 <= train[split]["macro_f1"] <= 1, split
    assert (root / "data/interim/canonical/patents.parquet").exists()
    assert (root / "data/processed/patnav.duckdb").exists()
    net = json.loads((root / "metrics/network.json").read_text(encoding="utf-8"))
    assert net["edges_by_citing_source"]["uspto_xml"] > 1000 and net["largest_component"] > 100
    assert (root / "data/processed/network/exports/citations.gexf").exists()
    con = duckdb.connect(str(root / "data/processed/patnav.duckdb"), read_only=True)
    top = con.execute("SELECT node FROM network_nodes ORDER BY pagerank DESC, node LIMIT 1").fetchall()[0][0]
    assert top == pd.read_parquet(root / "data/processed/network/nodes.parquet").sort_values(
        ["pagerank", "node"], ascending=[False, True])["node"].iloc[0]
    con.close()
    for n in names:
        d = root / "data" / "processed" / n
        for f in ("scope.parquet", "filing_trend.csv", "top_applicants.csv", "top_inventors.csv", "regions.csv",
                  "search.parquet", "metrics.json"):
            assert (d / f).exists(), f"{n}/{f}"
        m = json.loads((d / "metrics.json").read_text())
        assert m["publications"] > 0 and "seconds" not in m  # wall time is printed, not stored
    ingest = json.loads((root / "metrics/ingest.json").read_text())
    assert ingest["records"] == ingest["patents"] + ingest["merged_duplicates"] + ingest["rejected_records"]


def test_second_repro_does_nothing(repo):
    root, _ = repo
    out = run([str(BIN / "dvc"), "repro"], root).stdout
    assert stages_run(out) == [] and "up to date" in out


def test_editing_one_project_reruns_only_that_project(repo):
    root, _ = repo
    params = (root / "params.yaml").read_text(encoding="utf-8")
    name = list(projects(root))[0]
    data = yaml.safe_load(params)
    old = data["projects"][name]["years"]
    edited = params.replace(f"years: [{old[0]}, {old[1]}]", f"years: [{old[0] + 1}, {old[1]}]", 1)
    assert edited != params
    (root / "params.yaml").write_text(edited, encoding="utf-8")
    try:
        out = run([str(BIN / "dvc"), "repro"], root).stdout
        assert stages_run(out) == [f"landscape@{name}", f"report@{name}"]
    finally:
        (root / "params.yaml").write_text(params, encoding="utf-8")
        run([str(BIN / "dvc"), "repro"], root)


def test_metrics_and_plots_show_offline(repo, tmp_path):
    root, _ = repo
    out = run([str(BIN / "dvc"), "metrics", "show", "--json"], root).stdout
    metrics = json.loads(out)
    files = {f for ws in metrics.values() for f in ws["data"]}
    assert "metrics/ingest.json" in files and any(f.endswith("metrics.json") and "processed" in f for f in files)
    run([str(BIN / "dvc"), "plots", "show", "-o", str(tmp_path / "plots")], root)
    html = (tmp_path / "plots" / "index.html").read_text(encoding="utf-8")
    assert "cdn.jsdelivr" not in html and "<script src=" not in html  # nothing fetched
    assert "vegaEmbed(" in html and "filing_trend" in html
    assert re.search(r'"format":\s*"d"', html)  # years on the axis as 2014, not 2,014 (integer format)


def test_notebooks_execute_against_the_outputs(repo):
    import nbclient

    root, _ = repo
    for path in sorted((root / "notebooks").glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        nbclient.NotebookClient(nb, timeout=300, kernel_name="python3",
                                resources={"metadata": {"path": str(path.parent)}}).execute()
        errors = [o for c in nb.cells for o in c.get("outputs", []) if o.get("output_type") == "error"]
        assert not errors, path.name
        assert sum(len(c.get("outputs", [])) for c in nb.cells if c.cell_type == "code") > 3


def test_committed_notebooks_have_no_outputs():
    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        for cell in nb.cells:
            if cell.cell_type == "code":
                assert not cell.outputs and cell.execution_count is None, path.name
        assert "import pipeline" in "".join(c.source for c in nb.cells)


def test_python_api_matches_the_database(repo, monkeypatch):
    import pipeline

    root, _ = repo
    monkeypatch.chdir(root / "notebooks")
    name = next(n for n, p in projects(root).items() if "search" not in p)
    project = pipeline.load_project(name)
    assert project.root == root
    first, last = project.config.years
    key = "branch" if "." in project.config.industry else "industry"
    with pipeline.db.connect() as con:
        n = con.execute(
            f"SELECT count(DISTINCT o.pub_id) FROM patent_overview o JOIN patent_industries i USING (pub_id) "
            f"WHERE o.filing_year BETWEEN {first} AND {last} AND i.{key} = '{project.config.industry}' "
            f"AND i.confidence >= 0.5 "
            # doubtful labels are not counted (landscape.exclude_doubtful)
            f"AND NOT regexp_matches(coalesce(i.flag, ''), 'text_disagrees|keyword_missing|off_scope')").fetchall()[0][0]
        with pytest.raises(Exception, match="read-only"):
            con.execute("CREATE TABLE x (a INT)")
    assert project.metrics["scope"] == "industry labels"
    assert project.metrics["publications"] == n == len(project.scope) == len(project.patents()) > 0
    assert project.trend["publications"].sum() == n


def test_search_project_reports_its_expansion(repo):
    import pipeline

    root, _ = repo
    name = next((n for n, p in projects(root).items() if "search" in p), None)
    assert name, "the sample defines a project with a search strategy"
    project = pipeline.load_project(name, root=root)
    assert project.metrics["scope"] == "search"
    search = pd.read_parquet(root / "data" / "processed" / name / "search.parquet")
    assert search.loc[search.level == 0, "in_set"].all()  # seeds always stay
    assert 0 < project.metrics["publications"] <= search["in_set"].sum()  # the set, cut to the filing window
    q = project.metrics["search"]
    assert q["sample"] > 0 and 0 <= q["precision"] <= 1 and "judged_by" in q


def test_score_explain_prints_top_patents_and_portfolios(repo):
    root, _ = repo
    out = run([str(BIN / "patnav"), "score", "--explain", "--top", "3"], root).stdout
    assert "Top patents" in out and "Top portfolios" in out and "metrics →" in out
    con = duckdb.connect(str(root / "data/processed/patnav.duckdb"), read_only=True)
    n = con.execute("SELECT count(*) FROM score_patents WHERE high_value").fetchall()[0][0]
    con.close()
    assert json.loads((root / "metrics/score.json").read_text(encoding="utf-8"))["high_value"] == n
    for name in projects(root):
        assert (root / "data/processed" / name / "positioning.csv").exists()
        dep = json.loads((root / "data/processed" / name / "metrics.json").read_text(encoding="utf-8"))[
            "knowledge_dependence"]
        assert dep["citations"] == dep["inside"] + dep["outside"]


def test_sql_cli_prints_and_exports_neutralised(repo, tmp_path):
    root, _ = repo
    q = "SELECT '=cmd|'' /C calc''!A0' AS evil, '@SUM(1)' AS at, 'ok' AS fine, 42 AS n"
    out = run([str(BIN / "patnav"), "sql", q, "--csv", str(tmp_path / "r.csv"), "--xlsx", str(tmp_path / "r.xlsx")], root).stdout
    assert "1 rows" in out and "r.csv" in out and "r.xlsx" in out
    csv = pd.read_csv(tmp_path / "r.csv", encoding="utf-8-sig")
    assert csv.loc[0, "evil"] == "'=cmd|' /C calc'!A0" and csv.loc[0, "at"] == "'@SUM(1)" and csv.loc[0, "fine"] == "ok"
    from openpyxl import load_workbook

    ws = load_workbook(tmp_path / "r.xlsx").active
    assert ws["A2"].value == "'=cmd|' /C calc'!A0" and ws["A2"].data_type == "s" and ws["D2"].value == 42
    bad = run([str(BIN / "patnav"), "sql", "SELEC nonsense"], root, check=False)
    assert bad.returncode == 2 and "query failed" in bad.stderr


@pytest.mark.parametrize(
    "args, field",
    [
        (["bad/../name", "--industry", "nev", "--region", "重庆市江北区"], "name"),
        (["../etc", "--industry", "nev", "--region", "重庆市江北区"], "name"),
        (["Upper", "--industry", "nev", "--region", "重庆市江北区"], "name"),
        (["ok-name", "--industry", "aerospace", "--region", "重庆市江北区"], "industry"),
        (["ok-name", "--industry", "nev", "--region", "重庆市火星区"], "region"),
        (["ok-name", "--industry", "nev", "--region", "江北区"], "region"),
        (["ok-name", "--industry", "nev", "--region", "重庆市", "--compare", "Atlantis"], "compare[0]"),
        (["ok-name", "--type", "enterprise", "--industry", "nev", "--region", "重庆市"], "enterprise"),
        (["ok-name", "--type", "portfolio", "--industry", "nev", "--region", "重庆市"], "type"),
        (["ok-name", "--industry", "nev", "--region", "重庆市", "--from", "2024", "--to", "2010"], "years"),
        (["ok-name", "--industry", "nev", "--region", "重庆市", "--lang", "fr"], "languages"),
    ],
)
def test_project_new_rejects_invalid_definitions_naming_the_field(repo, args, field):
    root, _ = repo
    before = (root / "params.yaml").read_text(encoding="utf-8")
    proc = run([str(BIN / "patnav"), "project", "new", *args], root, check=False)
    assert proc.returncode == 2
    assert f": {field}:" in proc.stderr.replace("\n", " ")
    assert (root / "params.yaml").read_text(encoding="utf-8") == before


def test_project_new_adds_a_valid_entry_and_list_shows_state(repo):
    root, _ = repo
    before = (root / "params.yaml").read_text(encoding="utf-8")
    existing = list(projects(root))[0]
    try:
        proc = run([str(BIN / "patnav"), "project", "new", "yubei-talent", "--type", "talent", "--industry", "it.ai",
                    "--region", "重庆市渝北区", "--compare", "四川省成都市", "--from", "2012", "--to", "2022", "--lang", "zh",
                    "--lang", "en"], root)
        assert "landscape@yubei-talent" in proc.stdout
        after = (root / "params.yaml").read_text(encoding="utf-8")
        assert after.startswith(before.split("\n", 1)[0])  # comments kept
        assert "# Navigation projects" in after
        spec = projects(root)["yubei-talent"]
        assert spec == {"type": "talent", "industry": "it.ai", "region": "重庆市渝北区", "compare": ["四川省成都市"],
                        "years": [2012, 2022], "languages": ["zh", "en"]}
        dup = run([str(BIN / "patnav"), "project", "new", existing, "--industry", "nev", "--region", "重庆市"], root, check=False)
        assert dup.returncode == 2 and ": name: a project with this name already exists" in dup.stderr
        listing = run([str(BIN / "patnav"), "project", "list"], root).stdout
        assert "yubei-talent" in listing and "never" in listing and "up to date" in listing
    finally:
        (root / "params.yaml").write_text(before, encoding="utf-8")


def test_classify_a_list_from_elsewhere(repo, tmp_path):
    root, _ = repo
    src = tmp_path / "list.csv"
    src.write_text(
        "导出清单 2026-11-25\n"
        "序号,标题,摘要,IPC\n"
        "1,一种锂离子动力电池的热管理系统,本发明公开了一种电动汽车动力电池热管理系统。,H01M 10/613(2014.01)\n"
        "2,\"=cmd|' /C calc'!A0\",,\n"
        "3,Wireless network base station scheduling,A method for scheduling user terminals in a cellular network.,\n",
        encoding="utf-8-sig")
    out = run([str(BIN / "patnav"), "classify", str(src)], root).stdout
    dest = tmp_path / "list.classified.csv"
    assert str(dest) in out.replace("\n", "")
    df = pd.read_csv(dest, encoding="utf-8-sig", dtype=str)
    assert list(df.columns)[:4] == ["序号", "标题", "摘要", "IPC"]
    assert {"industry", "branch", "confidence", "reason"} <= set(df.columns)
    assert df.loc[0, "industry"] == "nev" and "nev.components" in df.loc[0, "branch"]  # H01M10/613 rule
    assert "H01M10/613" in df.loc[0, "reason"]
    assert df.loc[1, "标题"].startswith("'=")  # written back neutralised
    assert len(df) == 3
    bad = run([str(BIN / "patnav"), "classify", str(tmp_path / "missing.csv")], root, check=False)
    assert bad.returncode == 2 and "missing.csv" in bad.stderr


# ----------------------------------------------------------------------------- reports


def _pdfs(root):
    return sorted((root / "reports").glob("*/*.pdf"))


def _text(pdf):
    return subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True,
                          check=True).stdout


def test_every_project_has_its_report_type_in_each_language(repo):
    root, _ = repo
    for name, spec in projects(root).items():
        for lang in spec.get("languages", ["zh"]):
            assert (root / "reports" / name / f"{name}_{spec['type']}_{lang}.pdf").exists()
        assert (root / "reports" / name / f"{name}_tables.xlsx").exists()
    assert {p["type"] for p in projects(root).values()} == {"industry", "enterprise", "talent"}


def test_report_fonts_are_embedded_and_pages_render(repo, tmp_path):
    root, _ = repo
    for pdf in _pdfs(root):
        fonts = subprocess.run(["pdffonts", str(pdf)], capture_output=True, text=True, check=True).stdout
        rows = fonts.splitlines()[2:]
        assert rows and all(" yes " in r for r in rows), f"{pdf.name}: {fonts}"
        out = tmp_path / pdf.stem
        proc = subprocess.run(["pdftoppm", "-r", "30", "-png", str(pdf), str(out)], capture_output=True, text=True)
        assert proc.returncode == 0, proc.stderr
        pages = int(re.search(r"Pages:\s+(\d+)", subprocess.run(["pdfinfo", str(pdf)], capture_output=True,
                                                                 text=True, check=True).stdout).group(1))
        assert len(list(tmp_path.glob(f"{pdf.stem}*.png"))) == pages >= 4


def test_report_headings_and_numbers_match_the_database(repo):
    from pipeline.report.content import t

    root, _ = repo
    chapters = {"industry": ["summary", "scope", "direction", "positioning", "paths_dev", "appendix"],
                "enterprise": ["summary", "scope", "enterprise_position", "risks", "licensing", "appendix"],
                "talent": ["summary", "scope", "inventors", "candidates", "teams", "appendix"]}
    con = duckdb.connect(str(root / "data/processed/patnav.duckdb"), read_only=True)
    for name, spec in projects(root).items():
        scope = pd.read_parquet(root / "data/processed" / name / "scope.parquet")
        con.register("scope_ids", scope[["pub_id"]])
        n = con.execute("SELECT count(*) FROM patent_overview JOIN scope_ids USING (pub_id)").fetchall()[0][0]
        top = con.execute("SELECT first_applicant, count(*) AS c FROM patent_overview JOIN scope_ids USING (pub_id) "
                          "WHERE first_applicant IS NOT NULL GROUP BY 1 ORDER BY c DESC, 1 LIMIT 1").fetchall()
        for lang in spec.get("languages", ["zh"]):
            text = re.sub(r"\s+", " ", _text(root / "reports" / name / f"{name}_{spec['type']}_{lang}.pdf"))
            for key in chapters[spec["type"]]:
                assert t(f"h.{key}", lang) in text, (name, lang, key)
            # The patent count of the summary is the database's.
            assert f"{n:,}" in text, (name, lang, n)
            if spec["type"] == "industry" and top:
                assert top[0][0][:12] in text and str(top[0][1]) in text
    con.close()


def test_reports_print_no_missing_value_markers_or_unfilled_templates(repo):
    root, _ = repo
    for pdf in _pdfs(root):
        bad = re.findall(r"\bnan\b|\bNone\b|<NA>|\bNaT\b|\{[a-z_]+\}", _text(pdf))
        assert not bad, (pdf.name, bad[:5])


def test_report_workbook_holds_the_tables_neutralised(repo):
    from openpyxl import load_workbook

    root, _ = repo
    wb = load_workbook(root / "reports" / "jiangbei-nev" / "jiangbei-nev_tables.xlsx", read_only=True)
    assert {"trend", "branches", "positioning", "parameters", "fingerprints"} <= set(wb.sheetnames)
    for ws in wb.worksheets:
        for row in ws.iter_rows(values_only=True):
            for v in row:
                assert not (isinstance(v, str) and v[:1] in "=+@"), (ws.title, v)


def test_every_sentence_and_its_numbers_match_the_workbook(repo):
    """One number, one source: each sentence of the workbook's text sheets is printed as is
    in its PDF (pdftotext), and each number in it is held by a table of the workbook."""
    from tests.report.consistency import check

    root, _ = repo
    problems = [p for name in projects(root) for p in check(root / "reports" / name)]
    assert not problems, "\n".join(problems[:20])


def test_no_raw_branch_code_reaches_a_report_page(repo):
    # Readers see branch names (nev.components was printed in tables of inventors).
    root, _ = repo
    for pdf in sorted((root / "reports").glob("*/*.pdf")):
        text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
        codes = re.findall(r"\b(?:it|nev|manufacturing|biomedicine)\.[a-z_]+", text)
        assert not codes, f"{pdf.name}: {sorted(set(codes))[:5]}"


def test_report_cli_prints_where_files_went_and_is_reproducible(repo):
    root, _ = repo
    pdf = root / "reports" / "jiangbei-nev" / "jiangbei-nev_industry_zh.pdf"
    before = pdf.read_bytes()
    out = run([str(BIN / "patnav"), "report", "jiangbei-nev"], root).stdout
    assert str(pdf) in out and "tables.xlsx" in out
    assert pdf.read_bytes() == before


def test_ingest_stage_declares_every_input_and_register_of_params():
    # DVC cannot interpolate a list into deps: dvc.yaml repeats params' inputs, kept in step here.
    params = yaml.safe_load((ROOT / "params.yaml").read_text(encoding="utf-8"))["ingest"]
    deps = yaml.safe_load((ROOT / "dvc.yaml").read_text(encoding="utf-8"))["stages"]["ingest"]["deps"]
    inputs = [params["input"]] if isinstance(params["input"], str) else params["input"]
    assert set(inputs) | set(params.get("registers") or []) <= set(deps)
    shared = {d for d in deps if d.startswith("../")}
    assert shared == set(inputs) | set(params.get("registers") or [])  # nothing stale left behind


# --- the same bytes on a forced re-run and a later day; recovery from a killed stage ---------


def _stage_order(root):
    """Every stage, in the order `dvc repro` runs them."""
    out = run([str(BIN / "dvc"), "repro", "--dry", "-f"], root).stdout
    return [line.split("'")[1] for line in out.splitlines() if line.startswith("Running stage")]


def _tree(root):
    """Digest of every file of the checkout but git's and DVC's own (cache, locks, run cache)."""
    files = {}
    for p in sorted(root.rglob("*")):
        rel = p.relative_to(root)
        if rel.parts[0] not in (".git", ".dvc") and p.is_file() and not p.is_symlink():
            files[rel.as_posix()] = hashlib.md5(p.read_bytes()).hexdigest()
    return files


def _differences(before, after):
    changed = sorted(f for f in before.keys() & after.keys() if before[f] != after[f])
    return {"changed": changed, "missing": sorted(before.keys() - after.keys()),
            "left behind": sorted(after.keys() - before.keys())}


@pytest.fixture(scope="module")
def forced(repo):
    """Each stage forced to run again, one by one, under a clock 400 days on (libfaketime);
    returns dvc.lock and the checkout's files before, and each stage's seconds."""
    root, _ = repo
    faketime = shutil.which("faketime")
    assert faketime, "faketime is missing: `make test` installs it (Makefile SYSTEM_PACKAGES)"
    lock, tree = (root / "dvc.lock").read_text(encoding="utf-8"), _tree(root)
    seconds = {}
    for stage in _stage_order(root):
        start = time.perf_counter()
        run([faketime, "-f", "+400d", str(BIN / "dvc"), "repro", "-f", "-s", stage], root)
        seconds[stage] = time.perf_counter() - start
    return lock, tree, seconds


def test_forced_repro_on_a_later_day_leaves_every_output_unchanged(repo, forced):
    root, _ = repo
    lock, tree, seconds = forced
    assert len(seconds) >= 10
    assert _differences(tree, _tree(root)) == {"changed": [], "missing": [], "left behind": []}
    assert (root / "dvc.lock").read_text(encoding="utf-8") == lock  # every output's digest


def test_a_stage_killed_at_a_random_point_recovers_to_the_same_bytes(repo, forced):
    # SIGKILL to the stage's whole process group (dvc and the patnav command it runs) at a
    # seeded random moment of its run; then a plain `dvc repro` must restore every file.
    root, _ = repo
    lock, tree, seconds = forced
    rng = random.Random(14)
    env = dict(os.environ, PATH=f"{BIN}{os.pathsep}{os.environ['PATH']}", CI="true")
    killed = []
    for stage, secs in seconds.items():
        delay = rng.uniform(0.15, 0.9) * secs
        proc = subprocess.Popen([str(BIN / "dvc"), "repro", "-f", "-s", stage], cwd=root, env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        try:
            proc.wait(timeout=delay)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            killed.append(stage)
        run([str(BIN / "dvc"), "repro"], root)
        assert _differences(tree, _tree(root)) == {"changed": [], "missing": [], "left behind": []}, \
            f"{stage} killed after {delay:.1f} s"
        assert (root / "dvc.lock").read_text(encoding="utf-8") == lock, stage
    assert len(killed) >= len(seconds) // 2, killed  # most kills land inside the stage's run
