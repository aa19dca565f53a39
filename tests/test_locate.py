"""Locating applicants without an address: routes, precedence, registers (hand-built and real)."""

from __future__ import annotations

import json
import time

import pandas as pd
import pytest

from pipeline.errors import UnreadableInputError
from pipeline.locate import (
    GROUP_COLUMNS,
    REGISTER_COLUMNS,
    LocateInputError,
    RegisterFileError,
    load_register,
    locate,
    name_places,
    route_counts,
)
from pipeline.places import parse_region
from tests.shared_data import shared_path


# --------------------------------------------------------------------------- helpers
def reg(rows, register="r"):
    """A register frame as load_register returns it, from (name, province, district[, zone, aliases])."""
    from pipeline.ingest.normalize import normalize_names

    recs = []
    for i, r in enumerate(rows):
        name, prov, dist, *rest = r
        zone = rest[0] if rest else None
        aliases = rest[1] if len(rest) > 1 else None
        recs.append({"name": name, "aliases": aliases, "province": prov,
                     "city": prov if prov in ("重庆市", "北京市", "上海市", "天津市") else None,
                     "district": dist, "zone": zone, "register": register, "row": i})
    df = pd.DataFrame(recs)
    df["key"] = normalize_names(df["name"])
    return df


def parties(names, *, role="applicant", **cols):
    """One applicant row per name, each on its own patent unless ``pub_id`` is given."""
    n = len(names)
    df = pd.DataFrame({"pub_id": cols.pop("pub_id", [f"CN{i}A" for i in range(n)]), "role": role,
                       "seq": 0, "name_raw": names})
    for c, v in cols.items():
        df[c] = v
    return df


def row(out, name):
    hit = out[out["name_raw"] == name]
    assert len(hit) >= 1, name
    return hit.iloc[0]


# --------------------------------------------------------------------------- name route
def test_name_route_proves_only_what_is_written():
    t = name_places(pd.Series([
        "重庆市江北区某某有限公司",      # province + district with suffix
        "重庆长安汽车股份有限公司",      # municipality at the start: province/city only
        "中国汽车工程研究院",            # a country is not a province
        "华北电力大学",                  # a region is not a province
        "长安大学",                      # 长安 is not 长安区
        "重庆江北机械厂",                # 江北 without 区: city level only
        "江北区某厂",                    # 江北区 exists in 重庆 and 宁波: proves nothing alone
        "四川外国语大学重庆南方翻译学院",  # two provinces named
        "英业达(重庆)有限公司",          # the place in brackets after the trade name
        "国网重庆市电力公司",            # municipality written with its suffix
        "上海佳吉快运有限公司万州分公司",  # a branch: the parent's place is not the branch's
        "重庆禄福建设集团有限公司",       # 福建 inside a word: no second province after 重庆市…
    ]))
    got = t[["province", "city", "district"]].astype(object).where(t[["province", "city", "district"]].notna(), None)
    assert got.values.tolist() == [
        ["重庆市", "重庆市", "江北区"],
        ["重庆市", "重庆市", None],
        [None, None, None],
        [None, None, None],
        [None, None, None],
        ["重庆市", "重庆市", None],
        [None, None, None],
        [None, None, None],
        ["重庆市", "重庆市", None],
        ["重庆市", "重庆市", None],
        [None, None, None],
        [None, None, None],  # lead short name + 福建 elsewhere: doubtful, refused
    ]


# --------------------------------------------------------------------------- routes
def test_address_route_is_left_as_it_is():
    p = parties(["甲乙公司"], province=["重庆市"], city=["重庆市"], district=["渝北区"],
                address_raw=["重庆市渝北区某路1号"])
    out, groups = locate(p, reg([("甲乙公司", "重庆市", "江北区")]))
    r = out.iloc[0]
    assert (r["district"], r["located_by"], r["location_match"], r["location_score"]) == (
        "渝北区", "address", "重庆市渝北区某路1号", 1.0)
    g = groups.iloc[0]
    assert g["located_by"] == "address" and g["district"] == "渝北区"
    assert "register place disagrees" in g["note"]  # the register's 江北区 was not applied


def test_group_route_takes_the_most_frequent_place_with_a_stable_tie_break():
    names = ["乙科技有限公司"] * 5
    p = parties(names, province=["重庆市", "重庆市", "重庆市", "重庆市", None],
                city=["重庆市", "重庆市", "重庆市", "重庆市", None],
                district=["渝北区", "江北区", "渝北区", "江北区", None],
                address_raw=["a", "b", "c", "d", None])
    out, groups = locate(p, [])
    last = out.iloc[4]
    # 2 × 江北区 vs 2 × 渝北区: the alphabetically first wins, every time
    assert (last["district"], last["located_by"]) == ("江北区", "group")
    assert out["located_by"].tolist()[:4] == ["address"] * 4
    assert groups.iloc[0]["located_by"] == "group"
    shuffled, groups2 = locate(p.sample(frac=1, random_state=3), [])
    assert groups2.equals(groups)


def test_register_route_exact_and_normalised_names():
    r = reg([("力帆实业(集团)股份有限公司", "重庆市", "沙坪坝区"), ("丙电子有限公司", "重庆市", "南岸区")])
    p = parties(["力帆实业（集团）股份有限公司", "力帆实业集团有限公司", "丙电子", "丙电子(重庆)有限公司"])
    out, groups = locate(p, r)
    assert out["district"].tolist()[:3] == ["沙坪坝区", "沙坪坝区", "南岸区"]
    assert out["located_by"].tolist()[:3] == ["register"] * 3
    assert out.loc[0, "location_match"] == "力帆实业(集团)股份有限公司 (r:0)"
    assert out.loc[0, "location_score"] == 1.0
    # a different name (a place in brackets) is another key: the name route proves the city only
    assert out.loc[3, "located_by"] == "name" and pd.isna(out.loc[3, "district"])
    assert out["country"].tolist()[:3] == ["CN"] * 3


def test_register_rows_that_disagree_are_ambiguous():
    r = reg([
        ("丁大学", "重庆市", "九龙坡区"), ("丁大学", "重庆市", "巴南区"),      # campuses in two districts
        ("戊戌有限公司", "重庆市", "江北区"), ("戊戌有限公司", "四川省", None),     # two provinces
    ])
    out, groups = locate(parties(["丁大学", "戊戌有限公司"]), r)
    g = groups.set_index("group")
    assert (g.loc["丁大学", "province"], g.loc["丁大学", "city"]) == ("重庆市", "重庆市")
    assert pd.isna(g.loc["丁大学", "district"])
    assert g.loc["丁大学", "located_by"] == "register"
    assert "九龙坡区" in g.loc["丁大学", "candidates"] and "巴南区" in g.loc["丁大学", "candidates"]
    assert g.loc["丁大学", "note"] == "register rows disagree on district"
    assert pd.isna(g.loc["戊戌", "province"]) and pd.isna(g.loc["戊戌", "located_by"])
    assert g.loc["戊戌", "note"] == "register rows disagree on province"
    assert out.loc[1, ["province", "city", "district"]].isna().all()


def test_former_names_only_through_an_aliases_column(tmp_path):
    path = tmp_path / "aliases.csv"
    path.write_text("name,address,aliases\n赛力斯集团股份有限公司,重庆市沙坪坝区五云湖路7号,"
                    "重庆小康工业集团股份有限公司;小康股份\n", encoding="utf-8")
    with_aliases = load_register(path)
    assert with_aliases.loc[0, "aliases"] == "重庆小康工业集团股份有限公司;小康股份"
    p = parties(["重庆小康工业集团股份有限公司", "小康股份"])
    out, _ = locate(p, with_aliases)
    assert out["district"].tolist() == ["沙坪坝区", "沙坪坝区"]
    assert out["location_match"].tolist()[0] == "赛力斯集团股份有限公司 (aliases:0)"
    without = with_aliases.assign(aliases=pd.NA)
    out, _ = locate(p, without)
    assert out["located_by"].tolist()[0] == "name" and pd.isna(out["district"].tolist()[0])
    assert pd.isna(out["located_by"].tolist()[1])


def test_subsidiary_is_not_its_parent():
    r = reg([("重庆长安汽车股份有限公司", "重庆市", "江北区")])
    p = parties(["重庆长安汽车国际销售服务有限公司"])
    out, groups = locate(p, r, accept=["重庆长安汽车股份有限公司"])
    x = out.iloc[0]
    assert x["located_by"] == "name" and x["province"] == "重庆市" and pd.isna(x["district"])
    assert pd.isna(groups.iloc[0]["candidates"])  # not even a fuzzy suggestion


def test_name_route_fills_only_proven_levels_and_never_overwrites():
    r = reg([("己亥有限公司", "重庆市", "渝北区")])
    p = parties(["重庆市江北区己亥有限公司", "己亥有限公司", "重庆庚子有限公司", "重庆市南岸区辛丑厂"],
                pub_id=["A", "B", "C", "D"], name_std=["己亥", "己亥", None, None])
    out, groups = locate(p, r)
    # group 己亥: the register (route c) says 渝北区; the name's 江北区 (route d) cannot overwrite it
    assert out["district"].tolist()[:2] == ["渝北区", "渝北区"]
    assert out["located_by"].tolist()[:2] == ["register", "register"]
    g = groups.set_index("group")
    assert pd.isna(g.loc["己亥", "note"])  # the district was known: the name was not even consulted
    assert (g.loc["重庆庚子", "located_by"], g.loc["重庆庚子", "province"]) == ("name", "重庆市")
    assert pd.isna(g.loc["重庆庚子", "district"])
    assert (g.loc["重庆市南岸区辛丑厂", "district"], g.loc["重庆市南岸区辛丑厂", "location_match"]) == (
        "南岸区", "重庆市南岸区")


def test_a_later_route_fills_a_level_an_earlier_one_left_empty():
    r = reg([("重庆市江北区壬寅有限公司", "重庆市", None)])  # the register knows the city only
    out, groups = locate(parties(["重庆市江北区壬寅有限公司"]), r)
    assert (out.loc[0, "district"], out.loc[0, "located_by"]) == ("江北区", "name")


def test_fuzzy_is_a_suggestion_unless_accepted():
    r = reg([("华远精密机械制造有限公司", "重庆市", "江北区")])
    p = parties(["华远精密机械制造厂有限公司"])
    out, groups = locate(p, r)
    x = out.iloc[0]
    assert x["located_by"] == "fuzzy"
    assert x[["province", "city", "district"]].isna().all()
    assert x["location_match"] == "华远精密机械制造有限公司"
    assert x["location_score"] == pytest.approx(16 / 17, abs=0.005)
    assert "华远精密机械制造有限公司: 重庆市/江北区 (r:0) 0.94" == groups.iloc[0]["candidates"]
    out, groups = locate(p, r, accept=["华远精密机械制造有限公司"])
    x = out.iloc[0]
    assert (x["located_by"], x["district"]) == ("fuzzy_accepted", "江北区")
    assert x["location_score"] == pytest.approx(0.94, abs=0.005)
    out, groups = locate(p, r, fuzzy_min=95)
    assert pd.isna(out.iloc[0]["located_by"]) and pd.isna(groups.iloc[0]["candidates"])


def test_fuzzy_searches_only_the_province_already_known():
    r = reg([("重庆华远精密机械制造有限公司", "四川省", "青羊区")])
    out, groups = locate(parties(["重庆华远精密机械制造厂有限公司"]), r)
    assert out.iloc[0]["located_by"] == "name"
    assert pd.isna(groups.iloc[0]["candidates"])


def test_inventors_and_other_columns_pass_through_and_rerun_is_stable():
    p = pd.concat([parties(["重庆市江北区某某有限公司"]), parties(["张三"], role="inventor")], ignore_index=True)
    p["extra"] = ["x", "y"]
    out, groups = locate(p, [])
    assert out.loc[1, ["province", "located_by"]].isna().all() and out["extra"].tolist() == ["x", "y"]
    assert len(groups) == 1 and list(groups.columns) == list(GROUP_COLUMNS)
    again, groups2 = locate(out, [])
    pd.testing.assert_frame_equal(again, out)
    pd.testing.assert_frame_equal(groups2, groups)


def test_group_key_uses_the_standardised_name():
    r = reg([("重庆长安汽车股份有限公司", "重庆市", "江北区")])
    p = parties(["重庆长安汽车股份有限公司", "长安汽车"], name_std=["长安汽车-C", "长安汽车-C"])
    out, groups = locate(p, r)
    assert out["district"].tolist() == ["江北区", "江北区"]
    # one group; its name is the most frequent raw name (a tie: the first in code-point order)
    assert groups[["group", "name", "n_patents"]].values.tolist() == [["长安汽车C", "重庆长安汽车股份有限公司", 2]]


def test_locate_input_errors():
    with pytest.raises(LocateInputError, match="name_raw"):
        locate(pd.DataFrame({"pub_id": ["A"], "role": ["applicant"]}), [])
    with pytest.raises(LocateInputError, match="fuzzy_min"):
        locate(parties(["甲"]), [], fuzzy_min=0)
    with pytest.raises(LocateInputError, match="load_register"):
        locate(parties(["甲"]), [pd.DataFrame({"name": ["甲"]})])


# --------------------------------------------------------------------------- route counts
def test_route_counts_by_region():
    groups = pd.DataFrame({
        "located_by": ["register", "name", "name", "group", None, "fuzzy"],
        "province": ["重庆市", "重庆市", "重庆市", "重庆市", None, None],
        "city": ["重庆市"] * 4 + [None, None],
        "district": ["江北区", "江北区", None, "渝北区", None, None],
        "n_patents": [5, 1, 2, 3, 4, 1],
    })
    by = route_counts(groups, parse_region("重庆市江北区")).set_index("route")
    assert by["groups"].to_dict() == {"address": 0, "group": 0, "register": 1, "name": 1,
                                      "fuzzy_accepted": 0, "unlocated": 1}
    whole = route_counts(groups, {"province": "重庆市"}).set_index("route")
    assert whole.loc[["register", "name", "group", "unlocated"], "groups"].tolist() == [1, 1, 1, 1]
    assert whole.loc["register", "patents"] == 5
    assert route_counts(groups, ("重庆市", "重庆市", "江北区")).equals(
        route_counts(groups, parse_region("重庆市江北区")))
    with pytest.raises(LocateInputError, match="province"):
        route_counts(groups, parse_region("CN"))


# --------------------------------------------------------------------------- register files
def test_generic_register_layouts_and_encodings(tmp_path):
    text = ("单位名称,区县,地址,统一社会信用代码\n"
            "甲机械有限公司,江北,,915001051234567890\n"
            "乙电子有限公司,,重庆市北部新区金渝大道9号,\n"
            "丙科技有限公司,高新区,重庆市九龙坡区科园一路1号,\n")
    csv_gbk = tmp_path / "gbk.csv"
    csv_gbk.write_bytes(text.encode("gb18030"))
    csv_bom = tmp_path / "bom.csv"
    csv_bom.write_bytes(text.encode("utf-8-sig"))
    a, b = load_register(csv_gbk), load_register(csv_bom)
    assert list(a.columns) == list(REGISTER_COLUMNS)
    pd.testing.assert_frame_equal(a.drop(columns="register"), b.drop(columns="register"))
    # no province column: 江北 alone is ambiguous (重庆 / 宁波) and proves nothing
    assert a["name"].tolist() == ["乙电子有限公司", "丙科技有限公司"]
    assert a.attrs["dropped"] == 1
    assert (a.loc[0, "province"], a.loc[0, "zone"]) == ("重庆市", "北部新区") and pd.isna(a.loc[0, "district"])
    assert a.loc[1, ["district", "zone"]].tolist() == ["九龙坡区", "高新区"]
    assert a["row"].tolist() == [1, 2]

    pd.DataFrame({"name": ["甲机械有限公司"], "province": ["重庆"], "district": ["江北"]}).to_excel(
        tmp_path / "sheet.xlsx", index=False)
    x = load_register(tmp_path / "sheet.xlsx")
    assert x.loc[0, ["key", "province", "city", "district", "register"]].tolist() == [
        "甲机械", "重庆市", "重庆市", "江北区", "sheet"]

    (tmp_path / "list.json").write_text(json.dumps({"data": [
        {"name": "甲机械有限公司", "province": "重庆市", "district": "北部新区"}]}, ensure_ascii=False),
        encoding="utf-8")
    j = load_register(tmp_path / "list.json")
    assert pd.isna(j.loc[0, "district"]) and j.loc[0, "zone"] == "北部新区"


def test_chongqing_layout_zone_and_former_district(tmp_path):
    path = tmp_path / "cq.csv"
    path.write_text(
        "企业名称,统一社会信用代码,注册日期,企业类型,法人代表,注册资金,经营范围,所在省份,地区,注册地址\n"
        "甲有限公司,1,,,,,,重庆,北部新区,重庆市北部新区金渝大道9号\n"
        "乙有限公司,2,,,,,,重庆,北部新区,重庆市渝北区黄山大道1号\n"
        "丙有限公司,3,,,,,,重庆,万盛,重庆市万盛区万东路1号\n"
        "丁有限公司,4,,,,,,重庆,江北,重庆市渝中区解放碑1号\n"
        "\ufffd\ufffd有限公司,5,,,,,,重庆,江北,重庆市江北区\n"
        "戊有限公司,6,,,,,,600(万),,\n", encoding="utf-8")
    r = load_register(path)
    assert r.attrs["layout"] == "cn_registrations"
    assert r.attrs["dropped"] == 2
    t = r.set_index("name")
    assert pd.isna(t.loc["甲有限公司", "district"]) and t.loc["甲有限公司", "zone"] == "北部新区"
    assert t.loc["乙有限公司", ["district", "zone"]].tolist() == ["渝北区", "北部新区"]
    assert t.loc["丙有限公司", ["district", "zone"]].tolist() == ["綦江区", "万盛经开区"]
    assert pd.isna(t.loc["丁有限公司", "district"]) and "disagrees" in t.loc["丁有限公司", "note"]


def test_register_file_errors(tmp_path):
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    with pytest.raises(UnreadableInputError, match="empty.csv"):
        load_register(empty)
    odd = tmp_path / "odd.csv"
    odd.write_text("foo,bar\n1,2\n", encoding="utf-8")
    with pytest.raises(RegisterFileError, match="odd.csv: cannot tell the register layout"):
        load_register(odd)
    useless = tmp_path / "useless.csv"
    useless.write_text("name,address\n某某公司,建新东路1号\n", encoding="utf-8")
    with pytest.raises(RegisterFileError, match="useless.csv: no usable row"):
        load_register(useless)
    with pytest.raises(UnreadableInputError, match="missing.csv"):
        load_register(tmp_path / "missing.csv")


# --------------------------------------------------------------------------- real registers
@pytest.fixture(scope="module")
def registers():
    names = ["listed_companies_2015.csv", "chongqing_registrations_1980_2004.csv", "universities_poi_2019.json"]
    return {n.split(".")[0]: load_register(shared_path("registers", n)) for n in names}


def test_real_listed_companies(registers):
    listed = registers["listed_companies_2015"]
    assert listed.attrs["layout"] == "listed_companies"
    ca = listed[listed["name"] == "重庆长安汽车股份有限公司"].iloc[0]
    assert ca[["key", "province", "city", "district", "address"]].tolist() == [
        "重庆长安汽车", "重庆市", "重庆市", "江北区", "重庆市江北区建新东路260号"]
    caeri = listed[listed["name"] == "中国汽车工程研究院股份有限公司"].iloc[0]
    assert (caeri["province"], caeri["zone"]) == ("重庆市", "北部新区") and pd.isna(caeri["district"])
    # area says 四川 but the registered address is in Chongqing: the address wins, noted
    sansheng = listed[listed["name"] == "重庆三圣特种建材股份有限公司"].iloc[0]
    assert (sansheng["province"], sansheng["district"]) == ("重庆市", "北碚区") and "addr_reg used" in sansheng["note"]
    out, groups = locate(parties(["重庆长安汽车股份有限公司", "中国汽车工程研究院股份有限公司"]), list(registers.values()))
    assert out.loc[0, ["district", "located_by"]].tolist() == ["江北区", "register"]
    assert "listed_companies_2015:" in out.loc[0, "location_match"]
    g = groups.set_index("group").loc["中国汽车工程研究院"]
    assert (g["province"], g["zone"], g["located_by"]) == ("重庆市", "北部新区", "register")
    assert pd.isna(g["district"])


def test_real_chongqing_registration_row(registers):
    cq = registers["chongqing_registrations_1980_2004"]
    assert cq.attrs["layout"] == "cn_registrations" and cq.attrs["dropped"] >= 25
    # row 3214: 重庆长安汽车国际销售服务有限公司, 地区 江北, 注册地址 重庆市江北区建新东路260号
    r = cq[cq["row"] == 3214].iloc[0]
    assert r[["name", "uscc", "province", "city", "district", "address"]].tolist() == [
        "重庆长安汽车国际销售服务有限公司", "91500105202820998Y", "重庆市", "重庆市", "江北区", "重庆市江北区建新东路260号"]
    # row 116: 地区 北部新区, address names no district
    z = cq[cq["row"] == 116].iloc[0]
    assert (z["name"], z["zone"]) == ("重庆清平机械有限责任公司", "北部新区") and pd.isna(z["district"])
    assert cq["name"].str.contains("\ufffd").sum() == 0
    # the subsidiary finds its own row, never its parent's
    out, _ = locate(parties(["重庆长安汽车国际销售服务有限公司"]), list(registers.values()))
    assert out.loc[0, "location_match"] == "重庆长安汽车国际销售服务有限公司 (chongqing_registrations_1980_2004:3214)"


def test_real_university_with_several_campuses_is_ambiguous(registers):
    uni = registers["universities_poi_2019"]
    campuses = uni[uni["key"] == "重庆理工大学"]
    assert sorted(campuses["district"]) == ["九龙坡区", "巴南区", "渝北区"]
    out, groups = locate(parties(["重庆理工大学", "重庆大学"]), list(registers.values()))
    g = groups.set_index("group")
    assert g.loc["重庆理工大学", ["province", "city", "located_by"]].tolist() == ["重庆市", "重庆市", "register"]
    assert pd.isna(g.loc["重庆理工大学", "district"]) and pd.isna(g.loc["重庆理工大学", "zone"])
    assert g.loc["重庆理工大学", "candidates"].count("universities_poi_2019:") == 3
    # 重庆大学: both places of the register are in 沙坪坝区
    assert g.loc["重庆大学", "district"] == "沙坪坝区"


@pytest.fixture(scope="module")
def incopat_chongqing():
    from python_calamine import CalamineWorkbook

    path = shared_path("cn-exports", "incopat_autonomous_driving_10000.xlsx")
    rows = CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0).to_python()
    head, body = rows[0], rows[1:]
    col = {h: i for i, h in enumerate(head)}
    recs = []
    for r in body:
        names = [x.strip() for x in str(r[col["申请人"]] or "").split("; ") if x.strip()]
        std = str(r[col["标准化申请人"]] or "").strip().strip("[]")
        stds = [x.strip() for x in std.split("; ")] if std else []
        if len(stds) != len(names):
            stds = [None] * len(names)
        for seq, (name, s) in enumerate(zip(names, stds)):
            if "重庆" in name:
                recs.append({"pub_id": r[col["公开（公告）号"]], "role": "applicant", "seq": seq,
                             "name_raw": name, "name_std": s})
    return pd.DataFrame(recs)


def test_real_incopat_chongqing_applicants(registers, incopat_chongqing):
    from pipeline.ingest.normalize import normalize_names

    p = incopat_chongqing.assign(name_norm=lambda d: normalize_names(d["name_raw"]))
    assert (len(p), p["pub_id"].nunique(), p["name_raw"].nunique()) == (164, 154, 79)
    start = time.perf_counter()
    out, groups = locate(p, list(registers.values()))
    seconds = time.perf_counter() - start
    counts = route_counts(groups, parse_region("重庆市"))
    jiangbei = route_counts(groups, parse_region("重庆市江北区"))
    print(f"\nlocate: {len(p)} rows, {len(groups)} groups in {seconds:.2f} s")
    print("rows by route:", out["located_by"].value_counts(dropna=False).to_dict())
    print("groups by route:", groups["located_by"].value_counts(dropna=False).to_dict())
    print("重庆市:\n", counts.to_string(index=False))
    print("重庆市江北区:\n", jiangbei.to_string(index=False))

    ca = out[out["name_raw"] == "重庆长安汽车股份有限公司"]
    assert len(ca) == 32
    assert (ca["located_by"] == "register").all() and (ca["district"] == "江北区").all()
    cqu = row(out, "重庆大学")
    assert (cqu["located_by"], cqu["district"]) == ("register", "沙坪坝区")
    # never guessed: no fuzzy match applied, and suggestions carry no place
    assert not out["located_by"].eq("fuzzy_accepted").any()
    assert out.loc[out["located_by"].eq("fuzzy").fillna(False), ["province", "district"]].isna().all().all()
    sugg = groups.set_index("group").loc["重庆医药高等专科学校"]
    assert "重庆三峡医药高等专科学校" in sugg["candidates"] and pd.isna(sugg["district"])
    # the measured routes (79 groups: 17 with a district, 59 in Chongqing without, 3 nowhere)
    assert counts.set_index("route")["groups"].to_dict() == {
        "address": 0, "group": 0, "register": 17, "name": 0, "fuzzy_accepted": 0, "unlocated": 59}
    assert jiangbei.set_index("route").loc["register", "groups"] == 2
    assert set(groups.loc[groups["province"].isna(), "name"]) == {
        "北京理工大学重庆创新中心", "中冶建工集团重庆钢结构有限公司", "国网重庆市电力公司北碚供电分公司"}
    assert seconds < 30
