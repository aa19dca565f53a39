"""The report's data from hand-made database rows: :func:`assemble_report_data` is pure.

Seven publications in the scope of an enterprise project (an enterprise of Jiangbei with
patents p1–p3), its citations and inventors; every expected value below is worked out
from these rows by hand.
"""

from pathlib import Path

import pandas as pd
import pytest

from pipeline.config import load_params
from pipeline.errors import ProjectDataError
from pipeline.project import validate_project
from pipeline.report.run import assemble_report_data

ROOT = Path(__file__).resolve().parents[2]
PUBS = ["p1", "p2", "p3", "p4", "p5", "p6", "p7"]


def _params(min_enterprise_patents: int = 3):
    params = load_params(ROOT / "params.yaml")
    project = validate_project("demo", {"type": "enterprise", "industry": "nev", "region": "重庆市江北区",
                                        "compare": ["重庆市"], "years": [2015, 2023], "languages": ["zh"],
                                        "enterprise": "重庆甲汽车股份有限公司"})
    rules = params["report"]["recommend"]
    params["report"] = {**params["report"], "recommend": type(rules)(**{**rules.__dict__,
                                                                        "min_enterprise_patents": min_enterprise_patents})}
    params["projects"] = {"demo": project}
    return params


def _raw() -> dict:
    n = len(PUBS)
    patents = pd.DataFrame({
        "pub_id": PUBS, "country": "CN", "filing_year": [2016, 2017, 2018, 2018, 2019, 2020, 2021],
        "sources": ["cn_export"] * 5 + ["lens", "lens"],
        "applicant_country": ["CN"] * 4 + [None, "US", None], "inventor_country": [None] * 4 + ["JP", None, None],
        "priority_numbers": [None] * 6 + ["KR20210001A"],
        "title": [f"专利{i}" for i in range(n)], "value_index": [0.5] * n,
    })
    holders = pd.DataFrame({"pub_id": ["p1", "p2", "p3", "p4", "p4"],
                            "name_raw": ["重庆甲汽车股份有限公司", "重庆甲汽车股份有限公司", "甲汽车研究院", "乙公司", "甲汽车研究院"],
                            "name_norm": ["重庆甲汽车", "重庆甲汽车", "甲汽车研究院", "乙", "甲汽车研究院"],
                            "name_std": ["甲汽车", "甲汽车", "甲汽车", "乙公司", "甲汽车"]})
    first = holders.drop_duplicates("pub_id").assign(role="applicant")
    labels = pd.DataFrame({"pub_id": ["p1", "p2", "p5"], "industry": "nev", "branch": ["nev.battery"] * 3,
                           "flag": [None, "text_disagrees", None]})
    inventors = pd.DataFrame({"inventor_id": ["i1", "i2", "i3", "i4"], "name": ["张三", "李四", "王五", "赵六"],
                              "patents": [3, 5, 1, 2], "high_value": [0, 1, 0, 0],
                              "country": "CN", "province": ["重庆市", "重庆市", "北京市", "重庆市"],
                              "city": ["重庆市", "重庆市", "北京市", "重庆市"],
                              "district": ["江北区", "江北区", None, "渝北区"]})
    mentions = pd.DataFrame({"pub_id": ["p1", "p1", "p2", "p3", "p5"], "inventor_id": ["i1", "i2", "i2", "i3", None]})
    # p2 -> p1 -> p0 (outside the scope) and p4 -> p3; x9 cites p5.
    edges = pd.DataFrame({"citing": ["p2", "p1", "p4", "x9"], "cited": ["p1", "p0", "p3", "p5"]})
    edge_patents = pd.DataFrame({"pub_id": ["p0", "p1", "p2", "p3", "p4", "p5"],
                                 "title": ["源头", "专利0", "专利1", "专利2", "专利3", "专利4"],
                                 "title_en": [None] * 6, "filing_year": [2010, 2016, 2017, 2018, 2018, 2019]})
    return {
        "scope": pd.DataFrame({"pub_id": PUBS}), "patents": patents, "first_applicants": first,
        "applicants": holders, "holders": holders, "labels": labels, "mentions": mentions, "inventors": inventors,
        "portfolios_branch": pd.DataFrame({"group": ["甲汽车"], "branch": ["nev.battery"]}),
        "portfolios_industry": pd.DataFrame({"group": ["甲汽车"], "industry": ["nev"]}),
        "edges": edges, "edge_patents": edge_patents,
        "edge_classes": pd.DataFrame({"pub_id": ["p1", "p2", "p2"], "main_group": ["B60L58", "H01M10", "B60L58"]}),
        "publication_dates": pd.DataFrame({"sources": ["cn_export", "cn_export", "lens"],
                                           "pub_date": pd.to_datetime(["2024-03-28", "2023-01-01", "2016-12-31"])}),
        "metrics": {"n": 7}, "taxonomy": {"version": "t1"}, "aliases": {}, "ipc_titles": None, "located": None,
        "positioning": None, "talent": None, "train_metrics": {}, "fingerprints": {"a": "b"}, "version": "v",
    }


def test_report_data_from_hand_made_rows():
    d = assemble_report_data(_raw(), _params(), "demo")
    # Enterprise: every publication its group (甲汽车) applies for or holds, p4 through its co-applicant.
    assert d["enterprise_group"] == "甲汽车" and d["enterprise_pubs"] == ["p1", "p2", "p3", "p4"]
    # Cut-off: cn_export holds 5/7 >= 0.3 and lens 2/7 < 0.3, so cn_export's last publication.
    assert d["latest_publication"] == pd.Timestamp("2024-03-28")
    assert d["sources"] == {"cn_export": 5, "lens": 2}
    # Nationality: applicant country, else inventor's, else the priority office.
    assert d["patents"]["nationality"].tolist() == ["CN"] * 4 + ["JP", "US", "KR"]
    # The doubtful label (text disagrees) marks p2 only.
    assert d["doubtful"].tolist() == [False, True, False, False, False, False, False]
    # Local inventors: 江北区 only, most patents first.
    assert d["inventors_local"]["inventor_id"].tolist() == ["i2", "i1"]
    # Teams: i1 and i2 share p1 (2 patents: p1, p2); i3 alone on p3.
    assert d["teams"].values.tolist() == [[2, 2, "李四, 张三"], [1, 1, "王五"]]
    assert d["with_inventors"] == 4  # p5's mention names no inventor, but p5 has a mention row
    # Main paths of the scope's citations only: the global path p2 -> p1 -> p0 (the longest
    # chain); the local and key-route paths add p4 -> p3 and x9 -> p5 (x9 is not in the data).
    mp = d["main_paths"]
    assert mp.loc[mp["path"] == "global", ["citing", "cited"]].values.tolist() == [["p1", "p0"], ["p2", "p1"]]
    assert mp.loc[mp["path"] == "local", "citing"].tolist() == ["p2", "p1", "p4", "x9"]
    assert d["path_nodes"].values.tolist() == [["p0", "源头", None, 2010], ["p1", "专利0", None, 2016],
                                               ["p2", "专利1", None, 2017], ["p3", "专利2", None, 2018],
                                               ["p4", "专利3", None, 2018], ["p5", "专利4", None, 2019]]
    assert d["titles"]["p1"] == "专利0"
    assert d["param_rows"]["taxonomy.version"] == "t1" and d["version"] == "v"


def test_an_enterprise_with_too_few_patents_is_refused():
    with pytest.raises(ProjectDataError, match="min_enterprise_patents"):
        assemble_report_data(_raw(), _params(min_enterprise_patents=5), "demo")
