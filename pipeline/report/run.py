"""The report stage: one project's PDF reports (per language), XLSX workbook, charts and
network exports in ``reports/<project>/``.

:func:`read_report_inputs` reads what a report needs from the industry database and the
project's stage outputs (the I/O edge); :func:`assemble_report_data` computes the report's
data from them (pure); :func:`pipeline.report.content.build_report`
turns it into a document; :func:`write_report` renders and writes the files.
"""

from __future__ import annotations

import dataclasses
import json
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd

from .. import db, io, schema
from ..config import project_dir
from ..yamlfile import parse_yaml
from ..errors import ConfigError
from ..ingest.normalize import normalize_names
from .charts import save_charts
from .content import build_report
from .pdf import render_pdf
from ..recommend import check_enterprise, data_cutoff
from ..classify.text import load_ipc_titles
from ..landscape import doubtful
from ..network.run import subset_clusters, subset_main_paths
from ..score.portfolio import applicant_groups, load_aliases
from ..places import in_region
from ..score.regions import nationality
from ..score.talent import teams
from ..ingest.merge import primary_source

__all__ = ["read_report_inputs", "assemble_report_data", "load_report_data", "enterprise_holdings", "write_report",
           "report_dir", "run_stage"]


def report_dir(name: str, root: Path) -> Path:
    """Where a project's deliverables go: ``reports/<name>/``."""
    return Path(root) / "reports" / name


def _version(root: Path) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        v = version("patnav")
    except PackageNotFoundError:  # pragma: no cover - running from a checkout without install
        v = "dev"
    try:
        rev = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=root, capture_output=True, text=True,
                             timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        rev = ""
    return f"{v} ({rev})" if rev else v


def _fingerprints(root: Path) -> dict[str, str]:
    """MD5 of every input the pipeline read, as recorded in ``dvc.lock`` (data files and
    the code and params that shaped them)."""
    lock = root / "dvc.lock"
    if not lock.exists():
        return {}
    stages = (parse_yaml(lock.read_text(encoding="utf-8")) or {}).get("stages", {})
    out = {}
    for name in ("ingest", "train", "classify", "network", "score"):
        for dep in (stages.get(name) or {}).get("deps", []):
            if dep.get("md5"):
                out.setdefault(dep["path"], dep["md5"])
    return dict(sorted(out.items()))


def enterprise_holdings(holders: pd.DataFrame, enterprise: str | None,
                        portfolios_branch: pd.DataFrame) -> tuple[str | None, list[str]]:
    """The applicant group of an enterprise project and the publications that group applies
    for or holds.

    ``holders`` are the database's applicant and assignee rows (``pub_id``, ``name_raw``,
    ``name_norm``, ``name_std``). The group is the one the enterprise's own name belongs to
    (its group key, see :func:`pipeline.locate.group_keys`: e.g. incoPat's standardised
    长安汽车 for 重庆长安汽车股份有限公司), else a portfolio group containing its normalised
    name.

    Examples
    --------
    >>> h = pd.DataFrame({"pub_id": ["p1", "p2", "p3"], "name_raw": ["重庆长安汽车股份有限公司", "长安福特", "吉利"],
    ...                   "name_norm": ["重庆长安汽车", "长安福特", "吉利"], "name_std": ["长安汽车", "长安汽车", "吉利"]})
    >>> enterprise_holdings(h, "重庆长安汽车股份有限公司", pd.DataFrame({"group": []}))
    ('长安汽车', ['p1', 'p2'])
    >>> enterprise_holdings(h, "不在数据中的公司", pd.DataFrame({"group": []}))
    (None, [])
    """
    from ..locate import group_keys

    if not enterprise:
        return None, []
    key = normalize_names(pd.Series([enterprise]))[0]
    keys = group_keys(holders)
    own = keys[(holders["name_norm"] == key).to_numpy()]
    if len(own):
        counts = own.value_counts()
        group = sorted(counts[counts == counts.max()].index)[0]
    else:
        names = set(portfolios_branch["group"])
        group = key if key in names else next((g for g in sorted(names, key=str) if isinstance(g, str) and key in g), None)
        if group is None:
            return None, []
    pubs = sorted(holders.loc[(keys == group).to_numpy(), "pub_id"].astype(str).unique())
    return group, pubs


_VENDOR_TYPE_MARK = r"\s*-[A-Za-z]\s*$"  # incoPat's 标准化申请人 type mark: 东南大学-E, 小米科技-c


def group_names(first: pd.DataFrame, groups: pd.DataFrame) -> dict:
    """Publication → readable name of its first applicant's group.

    ``first`` holds one applicant row per publication (``pub_id``, ``name_raw``, ``name_std``),
    ``groups`` its :func:`~pipeline.score.portfolio.applicant_groups`. An alias group keeps its
    name; a vendor group shows the vendor's standardised name without its type mark
    (``东南大学-E`` → 东南大学), each group under its most frequent such name; otherwise the
    applicant's own name.

    Examples
    --------
    >>> first = pd.DataFrame({"pub_id": ["a", "b", "c"], "name_raw": ["Gm Global Technology Operations Llc",
    ...                       "通用汽车环球科技运作有限责任公司", "东南大学"], "name_std": ["通用汽车", "通用汽车", "东南大学-E"]})
    >>> groups = pd.DataFrame({"pub_id": ["a", "b", "c"], "group": ["通用汽车", "通用汽车", "东南大学E"],
    ...                        "aliased": False})
    >>> group_names(first, groups)
    {'a': '通用汽车', 'b': '通用汽车', 'c': '东南大学'}
    """
    g = groups.drop_duplicates("pub_id").merge(first[["pub_id", "name_raw", "name_std"]], on="pub_id", how="left")
    std = g["name_std"].astype("string").str.replace(_VENDOR_TYPE_MARK, "", regex=True).str.strip()
    shown = g["group"].where(g["aliased"], std.where(std.ne("").fillna(False), g["name_raw"].astype("string")))
    top = (pd.DataFrame({"group": g["group"], "shown": shown.fillna(g["group"])}).value_counts()
           .rename("n").reset_index().sort_values(["group", "n", "shown"], ascending=[True, False, True], kind="stable")
           .drop_duplicates("group").set_index("group")["shown"])
    return dict(zip(g["pub_id"], g["group"].map(top)))


def english_names(parties: pd.DataFrame, shown: dict, aliases: dict | None = None) -> dict:
    """Displayed Chinese group name → the English name the data gives the same group.

    ``parties`` are applicant rows (``pub_id``, ``name_raw``, ``name_norm``, ``name_std``);
    rows share a group by :func:`pipeline.locate.group_keys` (the vendor's standardised name,
    else the normalised name). A group's English name is its most frequent name without
    Chinese characters (ties: alphabetical). ``shown`` maps publication → displayed group
    name (:func:`group_names`). Only group names are translated: a vendor group may hold
    several organisations (中国电科 …), so a member's own name keeps its pinyin. An alias
    group (``aliases``: group → names) takes its first name without Chinese characters from
    its own list, never from the vendor's group.

    Examples
    --------
    >>> p = pd.DataFrame({"pub_id": ["a", "b", "c", "d"],
    ...     "name_raw": ["Gm Global Technology Operations Llc", "通用汽车环球科技运作有限责任公司",
    ...                  "Gm Global Technology Operations Llc", "东南大学"],
    ...     "name_norm": ["GM GLOBAL TECHNOLOGY OPERATIONS", "通用汽车环球科技运作", "GM GLOBAL TECHNOLOGY OPERATIONS",
    ...                   "东南大学"], "name_std": ["通用汽车", "通用汽车", "通用汽车", "东南大学-E"]})
    >>> english_names(p, {"b": "通用汽车", "d": "东南大学"})
    {'通用汽车': 'Gm Global Technology Operations Llc'}
    >>> english_names(p, {"b": "通用汽车环球", "c": "某合资"}, {"通用汽车环球": ["GM GLOBAL"], "某合资": ["某合资公司"]})
    {'通用汽车环球': 'GM GLOBAL'}
    """
    from ..locate import group_keys

    if parties.empty or not shown:
        return {}
    p = parties.assign(key=group_keys(parties).to_numpy(), name=parties["name_raw"].astype("string").str.strip())
    p = p[p["key"].notna() & p["name"].notna()]
    cjk = p["name"].str.contains(r"[\u4e00-\u9fff]", regex=True).fillna(False).astype(bool)
    latin = (p[~cjk].groupby(["key", "name"]).size().rename("n").reset_index()
             .sort_values(["key", "n", "name"], ascending=[True, False, True], kind="stable")
             .drop_duplicates("key").set_index("key")["name"])
    first = p.drop_duplicates("pub_id")  # rows come in applicant order: the first applicant's group
    key_of = dict(zip(first["pub_id"], first["key"]))
    out = {}
    aliases = aliases or {}
    for pub, name in sorted(shown.items()):
        if name in aliases:
            en = next((a for a in aliases[name] if not re.search(r"[\u4e00-\u9fff]", a)), None)
        else:
            en = latin.get(key_of.get(pub))
        if isinstance(name, str) and en is not None and re.search(r"[\u4e00-\u9fff]", name):
            out.setdefault(name, en)
    return out


def _located(root: Path, params: dict, project) -> dict | None:
    """How the region's applicant groups were located (routes of :mod:`pipeline.locate`)."""
    from ..locate import route_counts

    path = root / params["ingest"].out / "locations.parquet"
    if not project.region.province or not path.exists():
        return None
    groups = io.read_table(path.parent, "locations")
    if groups.empty:
        return None
    counts = route_counts(groups, project.region)
    return {str(r): int(g) for r, g in zip(counts["route"], counts["groups"])}


def _flat(values: dict, prefix: str = "") -> dict:
    """Nested parameters as dotted keys (``score.weights.claims: 0.1``), lists joined."""
    out = {}
    for k, v in values.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict):
            out.update(_flat(v, key + "."))
        else:
            out[key] = ", ".join(map(str, v)) if isinstance(v, (list, tuple)) else v
    return out


def read_report_inputs(root: Path, params: dict, name: str) -> dict:
    """Every file and database row one project's report reads (the stage's I/O edge).

    Returns a dict of DataFrames and plain values, the input of
    :func:`assemble_report_data`: the project's scope, its patents as the database shows
    them, applicant, inventor, label, portfolio and citation rows, the nodes of the
    scope's citations with their titles, years and IPC groups, the landscape's figures
    and tables, the taxonomy, the classifier's metrics, the alias file, IPC titles, and
    the provenance (``dvc.lock`` fingerprints, the package version and commit).
    """
    project = params["projects"][name]
    out_dir = project_dir(name, root)
    scope = pd.read_parquet(out_dir / "scope.parquet", columns=["pub_id"])
    metrics_path = out_dir / io.PROJECT_FILES["metrics"]  # the landscape's figures (of its outputs, only these)
    ind = project.industry.split(".")[0]
    with db.connect(root / params["database"].path) as con:
        con.register("scope_ids", scope)
        q = lambda sql, args=None: db.frame(con, sql, args)  # noqa: E731
        raw = {
            "patents": q("""
                SELECT o.*, p.abstract, p.title_en, p.sources, p.priority_numbers, p.earliest_priority_date,
                       s.value_index, s.high_value, s.alive, s.alive_presumed, s.synthetic, inv.inventor_country
                FROM patent_overview o JOIN scope_ids USING (pub_id)
                LEFT JOIN patents p USING (pub_id) LEFT JOIN score_patents s USING (pub_id)
                LEFT JOIN (SELECT pub_id, arg_min(country, seq) AS inventor_country FROM parties
                           WHERE role = 'inventor' AND country IS NOT NULL GROUP BY pub_id) inv USING (pub_id)
                ORDER BY o.pub_id"""),
            "first_applicants": q(
                "SELECT pub_id, role, name_raw, name_norm, name_std FROM parties JOIN scope_ids USING (pub_id) "
                "WHERE role = 'applicant' QUALIFY row_number() OVER (PARTITION BY pub_id ORDER BY seq) = 1 "
                "ORDER BY pub_id"),
            "applicants": q("SELECT pub_id, name_raw, name_norm, name_std FROM parties "
                            "WHERE role = 'applicant' ORDER BY pub_id, seq"),
            # Every applicant and owner: read for an enterprise project only (its holdings).
            "holders": q("SELECT pub_id, name_raw, name_norm, name_std FROM parties "
                         "WHERE role IN ('applicant', 'assignee') " + ("" if project.enterprise else "AND false ")
                         + "ORDER BY pub_id, role, seq"),
            # The project's industry only: another industry's branches never enter its tables.
            "labels": q("SELECT l.* FROM patent_industries l JOIN scope_ids USING (pub_id) WHERE industry = ? "
                        "ORDER BY pub_id, industry, branch", [ind]),
            "mentions": q("SELECT m.pub_id, m.inventor_id FROM score_inventor_mentions m JOIN scope_ids USING (pub_id)"),
            "inventors": q("SELECT * FROM score_inventors WHERE inventor_id IN "
                           "(SELECT inventor_id FROM score_inventor_mentions JOIN scope_ids USING (pub_id))"),
            "portfolios_branch": q('SELECT * FROM score_portfolios_branch WHERE branch LIKE ? ORDER BY "group", branch',
                                   [f"{ind}.%"]),
            "portfolios_industry": q('SELECT * FROM score_portfolios_industry WHERE industry = ? ORDER BY "group"',
                                     [ind]),
            # The citations of the project's patents, in either direction (never the whole
            # database's network), and what is known of the patents at their ends.
            "edges": q("SELECT citing, cited FROM network_edges e WHERE citing IN (SELECT pub_id FROM scope_ids) "
                       "OR cited IN (SELECT pub_id FROM scope_ids) ORDER BY src, dst"),
        }
        con.register("edge_nodes", pd.DataFrame({"pub_id": pd.unique(pd.concat([raw["edges"]["citing"],
                                                                                raw["edges"]["cited"]]))}))
        raw["edge_patents"] = q(f"SELECT pub_id, title, title_en, year({schema.FILING_DATE_SQL}) AS filing_year "
                                "FROM patents JOIN edge_nodes USING (pub_id) ORDER BY pub_id")
        raw["edge_classes"] = q("SELECT c.pub_id, c.main_group FROM classifications c JOIN edge_nodes USING (pub_id) "
                                "ORDER BY pub_id, seq")
        raw["publication_dates"] = q("SELECT sources, pub_date FROM patents WHERE pub_date IS NOT NULL")
    sp, tp = params["score"], params["train"]
    csv = {key: out_dir / f"{key}.csv" for key in ("positioning", "talent_candidates")}
    train_metrics = root / tp.metrics
    return {
        **raw, "scope": scope,
        "metrics": json.loads(metrics_path.read_text(encoding="utf-8")) if metrics_path.exists() else {},
        "taxonomy": parse_yaml((root / params["classify"].taxonomy).read_text(encoding="utf-8")),
        "aliases": load_aliases(root / sp.aliases) if sp.aliases else {},
        # Cluster labels look up main groups' titles only (``H01M10`` → ``H01M10/00``).
        "ipc_titles": load_ipc_titles(root / tp.ipc_titles_zh, root / tp.ipc_titles_en,
                                      symbols=raw["edge_classes"]["main_group"].dropna().unique() + "/00")
        if len(raw["edges"]) else None,
        "located": _located(root, params, project),
        "positioning": pd.read_csv(csv["positioning"]) if csv["positioning"].exists() else None,
        "talent": pd.read_csv(csv["talent_candidates"]) if csv["talent_candidates"].exists() else None,
        "train_metrics": json.loads(train_metrics.read_text(encoding="utf-8")) if train_metrics.exists() else {},
        "fingerprints": _fingerprints(root), "version": _version(root),
    }


def assemble_report_data(raw: dict, params: dict, name: str) -> dict:
    """Everything one project's report needs, computed from :func:`read_report_inputs`'s
    rows: pure (no file, database or clock is read), so each figure can be checked on a
    hand-made input.
    """
    project = params["projects"][name]
    net, rules, p = params["network"], params["report"]["recommend"], params
    scope, edges = raw["scope"], raw["edges"]
    patents = raw["patents"]
    patents = pd.concat([patents, nationality(patents)], axis=1)
    # The first applicant's group (alias file, else the vendor's standardised name): one
    # competitor under its Chinese and English names (通用汽车 for GM's two spellings).
    groups = applicant_groups(raw["first_applicants"], raw["aliases"])
    shown = group_names(raw["first_applicants"], groups)
    patents["first_group"] = patents["pub_id"].map(shown)
    # English names of Chinese applicants, from their groups' other spellings in the whole database.
    names_en = english_names(raw["applicants"], shown, raw["aliases"])
    labels, inventors, mentions = raw["labels"], raw["inventors"], raw["mentions"]
    portfolios_branch = raw["portfolios_branch"]
    # Main paths of the project's own part of the network.
    main_paths = subset_main_paths(edges, np.ones(len(edges), dtype=bool), method=net.main_path_weight,
                                   k=net.key_routes)
    on_path = set(main_paths["citing"]) | set(main_paths["cited"])
    ep = raw["edge_patents"]
    path_nodes = ep.loc[ep["pub_id"].isin(on_path), ["pub_id", "title", "title_en", "filing_year"]] \
        .rename(columns={"filing_year": "year"}).reset_index(drop=True)
    titles = dict(zip(path_nodes["pub_id"], path_nodes["title"]))
    # Clusters of the project's own part of the network (bibliographic coupling of its
    # patents), labelled from their own titles and IPC groups in each report language.
    cites = edges["citing"].isin(set(scope["pub_id"])).to_numpy()
    in_clusters = set(edges.loc[cites, "citing"]) | set(edges.loc[cites, "cited"])
    ec = raw["edge_classes"]
    node_cls = ec[ec["pub_id"].isin(in_clusters)].reset_index(drop=True)
    node_pats = ep.loc[ep["pub_id"].isin(in_clusters), ["pub_id", "title", "filing_year"]].reset_index(drop=True)
    if "." in project.industry:
        portfolios_branch = portfolios_branch[portfolios_branch["branch"] == project.industry]
    enterprise_group, enterprise_pubs = enterprise_holdings(raw["holders"], project.enterprise, portfolios_branch)
    ends = raw["publication_dates"]
    source_latest = ends.groupby(primary_source(ends["sources"]).to_numpy())["pub_date"].max()
    ipc_titles = raw["ipc_titles"] if cites.any() else None
    clusters = {lang: subset_clusters(edges, cites, net.clusters, node_cls, node_pats, scope_ids=scope["pub_id"],
                                      lang=lang, ipc_titles=ipc_titles) for lang in project.languages}
    if project.type == "enterprise":
        check_enterprise(project.enterprise, int(patents["pub_id"].isin(set(enterprise_pubs)).sum()), rules)
    sources = primary_source(patents["sources"]).value_counts().sort_index()
    # The set's data cut-off: sources end on different dates (see recommend.data_cutoff).
    latest_publication = data_cutoff(sources / max(sources.sum(), 1), source_latest, rules.cutoff_min_share)
    local = inventors[in_region(inventors, project.region).to_numpy()] if len(inventors) else inventors
    local = local.sort_values(["patents", "high_value", "inventor_id"], ascending=[False, False, True], kind="stable")
    taxonomy = raw["taxonomy"]
    param_rows = _flat({"project": project.raw, "analysis.min_confidence": p["landscape"].min_confidence,
                        "analysis.growth_window": p["score"].growth_window,
                        "classify.thresholds": p["classify"].labels.thresholds,
                        "network.main_path_weight": p["network"].main_path_weight,
                        "network.pagerank": p["network"].pagerank, "network.clusters": p["network"].clusters,
                        "score.as_of": p["score"].as_of, "score.weights": p["score"].weights,
                        "score.min_cohort": p["score"].min_cohort,
                        "score.high_value_portfolio": p["score"].high_value_portfolio,
                        "report.recommend": dataclasses.asdict(rules),
                        "taxonomy.version": taxonomy.get("version")})
    # A label of the project's industry the text contradicts (landscape.doubtful, the rule
    # the project's set is drawn with): kept, never offered as its technology.
    doubtful_ids = labels.loc[doubtful(labels), "pub_id"]
    return {
        "patents": patents, "labels": labels, "taxonomy": taxonomy, "metrics": raw["metrics"],
        "rules": rules, "latest_publication": latest_publication,
        "doubtful": patents["pub_id"].isin(set(doubtful_ids)).to_numpy(dtype=bool),
        "positioning": raw["positioning"] if raw["positioning"] is not None else pd.DataFrame(
            columns=["region", "branch", "count", "share", "rta", "high_value", "growth"]),
        "talent": raw["talent"] if raw["talent"] is not None else pd.DataFrame(),
        "inventors_scope": inventors, "inventors_local": local,
        "teams": teams(mentions, inventors),
        "portfolios_branch": portfolios_branch, "portfolios_industry": raw["portfolios_industry"],
        "clusters": clusters, "main_paths": main_paths, "titles": titles, "path_nodes": path_nodes,
        "edges": edges, "names_en": names_en,
        "sources": {str(k): int(v) for k, v in sources.items()}, "enterprise_group": enterprise_group,
        "located": raw["located"],
        "with_inventors": int(mentions["pub_id"].nunique()) if len(mentions) else 0,
        "enterprise_pubs": enterprise_pubs,
        "train_metrics": raw["train_metrics"],
        "params": {"analysis": {"min_confidence": p["landscape"].min_confidence,
                                "growth_window": p["score"].growth_window}},
        "param_rows": param_rows, "fingerprints": raw["fingerprints"],
        "generated": p["score"].as_of,  # the data's reference date, not the wall clock: reruns agree
        "version": raw["version"],
    }


def load_report_data(root: Path, params: dict, name: str) -> dict:
    """Everything one project's report needs: :func:`assemble_report_data` of
    :func:`read_report_inputs`."""
    return assemble_report_data(read_report_inputs(root, params, name), params, name)


def write_report(root: Path, params: dict, name: str, *, network_exports: Path | None = None) -> list[Path]:
    """Render one project's reports (every language of the project) and workbook.

    Returns the paths written.
    """
    project = params["projects"][name]
    data = load_report_data(root, params, name)
    out = report_dir(name, root)
    if out.exists():
        shutil.rmtree(out)  # stale charts of an older run must not linger
    charts_dir = out / "charts"
    written = []
    workbook: dict[str, pd.DataFrame] = {}
    for lang in project.languages:
        report, tables = build_report(data, project, lang)
        pdf = render_pdf(save_charts(report, charts_dir), out / f"{name}_{project.type}_{lang}.pdf")
        written.append(pdf)
        for key, df in tables.items():
            # Tables hold the same numbers in every language; the sentences differ.
            workbook.setdefault(f"text_{lang}" if key == "text" else key, df)
    xlsx = out / f"{name}_tables.xlsx"
    _write_workbook(workbook, xlsx)
    written.append(xlsx)
    written += sorted(charts_dir.glob("*"))
    if network_exports and Path(network_exports).exists():
        dest = out / "network"
        shutil.copytree(network_exports, dest)
        written += sorted(dest.glob("*"))
    return written


def run_stage(params: dict, root: Path, name: str) -> list[Path]:
    """One project's report stage as ``dvc repro report@NAME`` runs it (``patnav report
    NAME``): :func:`write_report`, with the network stage's Gephi / VOSviewer files
    (``network.exports``) copied beside the reports.

    Raises :class:`~pipeline.errors.ConfigError` when ``name`` is not a project of params.
    """
    if name not in params["projects"]:
        raise ConfigError(f"no project {name!r} in {root / 'params.yaml'}; known: {', '.join(params['projects'])}")
    return write_report(root, params, name, network_exports=root / params["network"].exports)


def _write_workbook(tables: dict[str, pd.DataFrame], path: Path) -> Path:
    """Every table of the report, one sheet each, through the project's one safe writer."""
    return io.write_workbook(tables, path)
