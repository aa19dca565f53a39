"""Rule classifier on hand-checked codes of the shipped taxonomy and on small taxonomies.

Expected branches were read off the SEI 2021 rules (``pipeline/data/taxonomy.yaml``) by
hand; the comments name the rule and pattern that decide each case.
"""

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml

from pipeline.classify.rules import (LABEL_COLUMNS, TAXONOMY_PATH, RuleSet, compile_rules, load_rules, parse_pattern,
                                     rule_labels, symbol_labels)
from pipeline.errors import ConfigError
from pipeline.classify.rules import industry_ids

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def rs():
    return load_rules()


def branches_of(symbol: str, rs, scheme=None) -> dict[str, tuple[str, str]]:
    """{branch: (rule_id, match)} fired by one bare symbol."""
    out = symbol_labels(pd.Series([symbol]), rs, scheme=scheme)
    return {r.branch: (r.rule_id, r.match) for r in out.itertuples()}


def cls(*rows) -> pd.DataFrame:
    """Classifications from (pub_id, scheme, symbol[, is_main]) tuples; seq in given order."""
    df = pd.DataFrame([r if len(r) == 4 else (*r, False) for r in rows],
                      columns=["pub_id", "scheme", "symbol", "is_main"])
    df["seq"] = df.groupby("pub_id").cumcount()
    return df


# --------------------------------------------------------------------------- wildcards
def test_main_group_wildcard_stops_at_the_group_boundary(rs):
    assert branches_of("H04L1/00", rs)["it.networks"] == ("1.1-r0", "main_group")      # H04L1*
    assert branches_of("H04L1/0045", rs)["it.networks"] == ("1.1-r0", "main_group")    # H04L1*
    # H04L12/28 is not under H04L1*; 1.1-r2 holds H04L12* but 不含 H04L12/28: no branch at all.
    assert branches_of("H04L12/28", rs) == {}
    assert branches_of("H04L12/40", rs) == {"it.networks": ("1.1-r2", "main_group")}   # H04L12*


def test_subclass_wildcard_minus_its_exclusions(rs):
    # 1.1-r1: G06F* 不含 G06F1*, G06F3*, G06F9/44 … (exact), G06F11* …
    assert branches_of("G06F7/00", rs)["it.networks"] == ("1.1-r1", "subclass")
    assert branches_of("G06F1/18", rs)["it.networks"] == ("1.1-r2", "main_group")      # excluded by r1, r2 has G06F1*
    # G06F1/16: excluded by r1 (G06F1*) and r2 (G06F1/16) -> only 1.5-r2 (wearables) holds it.
    assert branches_of("G06F1/16", rs) == {"it.ai": ("1.5-r2", "symbol")}
    # G06F9/44 (exact exclusion of r1) -> 1.5-r4; its subgroup G06F9/4401 is not excluded -> 1.1-r1.
    assert branches_of("G06F9/44", rs) == {"it.ai": ("1.5-r4", "symbol")}
    assert branches_of("G06F9/4401", rs) == {"it.networks": ("1.1-r1", "subclass")}


def test_exclusion_acts_within_its_rule_only(rs):
    # 1.1-r0 G06F11* 不含 G06F11/36; 1.1-r1 excludes G06F11*; 1.3-r1 holds G06F11/36.
    assert branches_of("G06F11/36", rs) == {"it.software": ("1.3-r1", "symbol")}
    assert branches_of("G06F11/30", rs) == {"it.networks": ("1.1-r0", "main_group")}
    # G06F11/14: excluded from 1.1-r0 but fires 1.2-r4 (another branch).
    assert branches_of("G06F11/14", rs) == {"it.electronics": ("1.2-r4", "symbol")}


def test_exact_symbol_patterns_do_not_cover_subgroups(rs):
    # G06F3/041 (touch digitisers): 1.2-r1 exactly; 1.1-r4 holds G06F3* 不含 G06F3/041.
    assert branches_of("G06F3/041", rs) == {"it.electronics": ("1.2-r1", "symbol")}
    assert branches_of("G06F3/0416", rs) == {"it.networks": ("1.1-r4", "main_group")}
    assert branches_of("G06F16/2458", rs) == {"it.cloud_bigdata": ("1.4-r2", "symbol")}


def test_corrected_rows(rs):
    # C3: G01S1/02 is no longer both included and excluded in one rule: it fires the fibre row 1.1-r3.
    assert branches_of("G01S1/02", rs) == {"it.networks": ("1.1-r3", "symbol")}
    # P1: G16* became G16C*/G16H*/G16Y*/G16Z*; G16B stays out of 1.3 and is in 4.2-r1.
    assert "it.software" in branches_of("G16Y10/75", rs)
    assert branches_of("G16B20/00", rs) == {"biomedicine.biomed_eng": ("4.2-r1", "subclass")}
    # S11: an IPC 2023 subgroup of the listed G06N3/04 is AI, not 1.4 (whose G06N* excludes it).
    assert branches_of("G06N3/0464", rs) == {"it.ai": ("1.5-r4", "symbol")}
    assert branches_of("G06N7/01", rs) == {"it.cloud_bigdata": ("1.4-r3", "subclass")}
    # S14: H01M50 (successor of H01M2) minus the separators.
    assert branches_of("H01M50/20", rs)["nev.components"][0] == "5.2-r4"
    assert "nev.components" not in branches_of("H01M50/409", rs)


# --------------------------------------------------------------------------- patents
def test_multi_label_patent_and_evidence(rs):
    df = cls(("p1", "IPC", "H01M10/0525", True), ("p1", "IPC", "G06N3/08"), ("p1", "IPC", "H01M10/613"),
             ("p1", "CPC", "H01M10/0525"))
    out = rule_labels(df, rs)
    assert list(out.columns) == LABEL_COLUMNS
    got = {r.branch: (r.rule_id, r.symbol, r.match, r.n_symbols) for r in out.itertuples()}
    assert got == {
        "it.ai": ("1.5-r5", "G06N3/08", "symbol", 1),
        # main symbol first; H01M10/613 fires 5.2-r1 too: 2 distinct symbols (the CPC copy counts once)
        "nev.components": ("5.2-r4", "H01M10/0525", "symbol", 2),
    }
    assert list(out["industry"]) == ["it", "nev"]
    row = out[out["branch"] == "nev.components"].iloc[0]
    assert row["explanation"].startswith("H01M10/0525 matches rule 5.2-r4 pattern H01M10/0525 (新能源汽车装置、配件制造)")
    assert "+1 more" in row["explanation"] and "[text check: 汽车相关关键词]" in row["explanation"]


def test_main_symbol_decides_the_reported_rule(rs):
    df = cls(("p", "IPC", "H04L1/00", False), ("p", "IPC", "H04L12/40", True))
    row = rule_labels(df, rs).iloc[0]
    assert (row["rule_id"], row["symbol"]) == ("1.1-r2", "H04L12/40")


def test_subclass_only_inputs_both_outcomes(rs):
    df = cls(("a", "CPC", "A61G"), ("b", "CPC", "B41J"), ("c", "CPC", "H03H"))
    out = rule_labels(df, rs).set_index(["pub_id", "branch"])
    # A61G* with no exclusion inside A61G (4.2-r1) -> a full subclass match
    assert out.loc[("a", "biomedicine.biomed_eng"), "match"] == "subclass"
    # B41J* 不含 B41J2* (1.1-r1) covers only part of B41J -> weak candidate; 2.1-r9 holds B41J2* only
    assert out.loc[("b", "it.networks"), "match"] == "subclass_only"
    assert out.loc[("b", "manufacturing.equipment"), "match"] == "subclass_only"
    assert out.loc[("c", "it.electronics"), "match"] == "subclass"                    # 1.2-r2 H03H*
    assert "(subclass only) partly covered by rule 1.1-r1 pattern B41J*" in out.loc[("b", "it.networks"), "explanation"]


def test_strong_match_beats_subclass_only_in_the_same_branch(rs):
    out = rule_labels(cls(("p", "CPC", "G06F"), ("p", "IPC", "G06F11/30")), rs)
    row = out[out["branch"] == "it.networks"].iloc[0]
    assert (row["symbol"], row["match"], row["n_symbols"]) == ("G06F11/30", "main_group", 2)


def test_nev_intelligent_extension(rs):
    assert branches_of("B60W60/00", rs) == {"nev.intelligent": ("nev.intelligent-r0", "main_group")}
    assert branches_of("G01S17/931", rs) == {"nev.intelligent": ("nev.intelligent-r2", "symbol")}
    # V2V: the extension and the SEI fibre/mobile row 1.1-r3 (H04W4*, 不含 H04W4/42 …)
    assert branches_of("H04W4/46", rs) == {"nev.intelligent": ("nev.intelligent-r3", "symbol"),
                                           "it.networks": ("1.1-r3", "main_group")}
    assert branches_of("H04W4/42", rs) == {}                                            # mass transport: left out
    # B60W30/14 (cruise control): SEI 5.2-r0 and the extension
    assert set(branches_of("B60W30/14", rs)) == {"nev.components", "nev.intelligent"}
    ext = load_rules().rules.set_index("rule_id")
    assert ext.loc["nev.intelligent-r4", "extension"] and ext.loc["nev.intelligent-r4", "text_condition"] == "require_keywords"


def test_cpc_symbols(rs):
    # CPC-only form (indexing group >= 1000): fires on CPC rows only.
    out = rule_labels(cls(("c", "CPC", "B60W2420/42"), ("i", "IPC", "B60W2420/42")), rs)
    assert out[["pub_id", "branch", "rule_id"]].values.tolist() == [["c", "nev.intelligent", "nev.intelligent-r5"]]
    # A CPC pattern of IPC form (G06V20/588) matches both schemes.
    out = rule_labels(cls(("c", "CPC", "G06V20/588"), ("i", "IPC", "G06V20/588")), rs)
    assert set(out.loc[out["branch"] == "nev.intelligent", "pub_id"]) == {"c", "i"}
    # CPC indexing G01S2013/9342 is not in main group G01S13 (no prefix matching).
    assert branches_of("G01S2013/9342", rs) == {}
    # An IPC pattern matches the same symbol on a CPC row.
    assert rule_labels(cls(("c", "CPC", "H04L1/0045")), rs)["rule_id"].tolist() == ["1.1-r0"]


def test_empty_and_malformed_input(rs):
    empty = rule_labels(pd.DataFrame(columns=["pub_id", "scheme", "symbol", "is_main", "seq"]), rs)
    assert list(empty.columns) == LABEL_COLUMNS and empty.empty
    bad = cls(("p", "IPC", "x"), ("p", "IPC", "H01M10/"), ("p", "IPC", "H01M 10/0525"), ("q", "IPC", "H04L1/00"))
    bad.loc[len(bad)] = ["r", "IPC", None, False, 0]
    assert rule_labels(bad, rs)["pub_id"].tolist() == ["q"]
    assert symbol_labels(pd.Series([], dtype="string"), rs).empty
    # only pub_id and symbol given
    out = rule_labels(pd.DataFrame({"pub_id": ["z"], "symbol": ["H03H9/02"]}), rs)
    assert out[["branch", "match"]].values.tolist() == [["it.electronics", "subclass"]]


def test_deterministic_whatever_the_row_order(rs):
    df = cls(("a", "IPC", "H01M10/0525", True), ("a", "IPC", "G06F1/16"), ("b", "CPC", "G06F"),
             ("b", "IPC", "B60W30/14"), ("c", "CPC", "Y02T10/70"))
    one = rule_labels(df, rs)
    two = rule_labels(df.sample(frac=1, random_state=7), rs)
    pd.testing.assert_frame_equal(one, two)
    assert one.equals(one.sort_values(["pub_id", "industry", "branch"]).reset_index(drop=True))


# --------------------------------------------------------------------------- the taxonomy file
def test_shipped_taxonomy_patterns_are_valid(rs):
    tax = yaml.safe_load(TAXONOMY_PATH.read_text(encoding="utf-8"))
    n = 0
    for ind in tax["industries"].values():
        for bid, br in ind["branches"].items():
            assert br["rules"], bid
            assert {"zh", "en"} <= set(br["description"]) and 10 <= len(br["keywords"]["zh"]) <= 30
            assert 10 <= len(br["keywords"]["en"]) <= 30
            for rule in br["rules"]:
                for item in rule["include"] + rule.get("exclude", []):
                    p, scheme = (item["pattern"], item.get("scheme", "IPC")) if isinstance(item, dict) else (item, "IPC")
                    parse_pattern(p, scheme)
                    assert re.fullmatch(r"[A-HY]\d{2}[A-Z](\d+(/\d+)?)?\*?", p), p
                    n += 1
    assert n == len(rs.patterns) > 1000
    assert rs.version == str(tax["version"])
    assert not any("UNEXPLAINED" in x for x in tax["ipc_check"]["not_in_title_lists"])
    assert {c["id"] for c in tax["corrections"]} >= {f"C{i}" for i in range(1, 10)}
    assert tax["industries"]["nev"]["branches"]["intelligent"]["extension"] is True


def test_industry_ids_still_list_branches():
    ids = industry_ids()
    assert {"it", "nev", "it.networks", "nev.components", "nev.intelligent", "manufacturing.equipment"} <= set(ids)


def _copy(tmp_path: Path, edit) -> Path:
    tax = yaml.safe_load(TAXONOMY_PATH.read_text(encoding="utf-8"))
    edit(tax)
    path = tmp_path / "taxonomy.yaml"
    path.write_text(yaml.safe_dump(tax, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def test_user_added_branch_works_without_code_changes(tmp_path):
    def add(tax):
        tax["industries"]["nev"]["branches"]["hydrogen"] = {
            "zh": "氢能与燃料电池", "en": "Hydrogen and fuel cells",
            "rules": [{"id": "H2-r0", "include": ["C01B3*", "H01M8*"], "exclude": ["H01M8/18"]}]}

    path = _copy(tmp_path, add)
    rs2 = load_rules(path)
    out = rule_labels(cls(("p", "IPC", "C01B3/02"), ("q", "IPC", "H01M8/18")), rs2)
    assert out[["pub_id", "branch", "rule_id"]].values.tolist()[0] == ["p", "nev.hydrogen", "H2-r0"]
    assert "nev.hydrogen" not in set(out.loc[out["pub_id"] == "q", "branch"])           # excluded in H2-r0
    assert "nev.hydrogen" in industry_ids(path)


@pytest.mark.parametrize("edit, message", [
    (lambda t: t["industries"]["nev"]["branches"]["components"].__setitem__("colour", "red"),
     r"branch 'nev\.components': unknown field 'colour'"),
    (lambda t: t["industries"]["nev"]["branches"]["components"]["rules"][0].__setitem__("include", ["H01M10/*"]),
     r"branch 'nev\.components': rules\[0\]\.include\[0\]: .*H01M10/\*"),
    (lambda t: t["industries"]["it"]["branches"]["ai"]["rules"][6]["include"].append("G16H"),
     r"branch 'it\.ai': rules\[6\]\.include\[\d+\]: bare subclass 'G16H': write G16H\*"),
    (lambda t: t["industries"]["it"]["branches"]["networks"]["rules"][0]["exclude"].append("H04L1*"),
     r"branch 'it\.networks': rules\[0\]: H04L1\* is both included and excluded"),
    (lambda t: t["industries"]["it"]["branches"]["networks"]["rules"][1].__setitem__("id", "1.1-r0"),
     r"branch 'it\.networks': rules\[1\]\.id: '1\.1-r0' already used"),
    (lambda t: t["industries"]["nev"]["branches"]["vehicles"]["rules"][0]["include"].append("G06V20/56*"),
     r"branch 'nev\.vehicles': rules\[0\]\.include\[\d+\]: subgroup wildcard"),
    (lambda t: t["industries"]["nev"]["branches"]["vehicles"]["rules"][0]["include"].append("Y02T10*"),
     r"branch 'nev\.vehicles'.*add scheme: CPC"),
    (lambda t: t["industries"]["nev"]["branches"]["vehicles"].pop("en"),
     r"branch 'nev\.vehicles': en: missing name"),
    (lambda t: t["industries"]["nev"]["branches"]["vehicles"].__setitem__("short", {"zh": "整车"}),
     r"branch 'nev\.vehicles': short: must be a mapping"),
])
def test_malformed_taxonomy_raises_config_error(tmp_path, edit, message):
    with pytest.raises(ConfigError, match=message):
        load_rules(_copy(tmp_path, edit))


def test_config_error_for_missing_or_broken_file(tmp_path):
    with pytest.raises(ConfigError, match="cannot read"):
        load_rules(tmp_path / "none.yaml")
    (tmp_path / "bad.yaml").write_text("industries: [", encoding="utf-8")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_rules(tmp_path / "bad.yaml")
    with pytest.raises(ConfigError, match="industries"):
        compile_rules({"version": "x"})


def test_generator_builds_a_valid_taxonomy(shared_data, tmp_path):
    # Users edit taxonomy.yaml directly afterwards, so the committed file may drift from the
    # generator's output (`build_taxonomy.py --check` reports drift); it must still build and
    # compile, and the committed file must keep every correction it records.
    out = tmp_path / "taxonomy.yaml"
    res = subprocess.run([sys.executable, str(ROOT / "scripts" / "build_taxonomy.py"), "--shared", str(shared_data),
                          "--out", str(out)], capture_output=True, text=True)
    assert res.returncode == 0, res.stdout + res.stderr
    assert "UNEXPLAINED" not in res.stdout
    generated = load_rules(out)
    assert len(generated.rules) == 93 and generated.rules["branch"].nunique() == 16
    ids = {c["id"] for c in yaml.safe_load(out.read_text(encoding="utf-8"))["corrections"]}
    committed = {c["id"] for c in yaml.safe_load(TAXONOMY_PATH.read_text(encoding="utf-8"))["corrections"]}
    assert ids <= committed


@pytest.mark.slow
def test_sample_labels(rs, sample_tables):
    c = sample_tables["classifications"]
    out = rule_labels(c, rs)
    assert not out.duplicated(["pub_id", "industry", "branch"]).any()
    assert set(out["match"]) <= {"symbol", "main_group", "subclass", "subclass_only"}
    assert out["branch"].nunique() == 16 and out["pub_id"].isin(c["pub_id"]).all()


def test_hand_built_ruleset_with_the_documented_columns_only():
    rs = RuleSet(pd.DataFrame({
        "rule_id": ["x", "x"], "industry": ["nev", "nev"], "branch": ["nev.b", "nev.b"], "kind": ["include", "exclude"],
        "level": ["main_group", "symbol"], "key": ["H01M10", "H01M10/06"], "pattern": ["H01M10*", "H01M10/06"]}), "v")
    out = rule_labels(pd.DataFrame({"pub_id": ["a", "b", "c"], "symbol": ["H01M10/05", "H01M10/06", "H01M"]}), rs)
    assert out[["pub_id", "match"]].values.tolist() == [["a", "main_group"], ["c", "subclass_only"]]
