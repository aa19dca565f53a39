"""Normalisation: every spelling in DOMAIN.md §4 maps to one canonical form."""

import pandas as pd
import pytest

from pipeline.ingest import normalize as nz


@pytest.mark.parametrize(
    "raw, country, kind, expected",
    [
        ("CN112345678A", None, None, ("CN112345678A", "CN112345678")),
        ("CN 112345678 B", None, None, ("CN112345678B", "CN112345678")),
        ("CN212345678U", None, None, ("CN212345678U", "CN212345678")),
        ("US10123456B2", None, None, ("US10123456B2", "US10123456")),
        ("US 10,123,456 B2", None, None, ("US10123456B2", "US10123456")),
        ("US2010018287A1", None, None, ("US2010018287A1", "US2010018287")),
        ("US 2010/0018287 A1", None, None, ("US2010018287A1", "US2010018287")),
        ("US20100018287A1", None, None, ("US2010018287A1", "US2010018287")),
        ("USD656296S", None, None, ("USD656296S", "USD656296")),
        ("D0656308", "US", "S1", ("USD656308S1", "USD656308")),
        ("08418361", "US", "B2", ("US8418361B2", "US8418361")),
        ("RE045123", "US", "E", ("USRE45123E", "USRE45123")),
        ("WO2019123456A1", None, None, ("WO2019123456A1", "WO2019123456")),
        ("WO 2019/123456 A1", None, None, ("WO2019123456A1", "WO2019123456")),
        ("WO 97/12345", None, None, ("WO1997012345", "WO1997012345")),
        ("EP1234567B1", None, None, ("EP1234567B1", "EP1234567")),
        ("EP 0123456 A1", None, None, ("EP0123456A1", "EP0123456")),
        ("AT 399980 B", None, None, ("AT399980B", "AT399980")),
        ("ＣＮ１１２３４５６７８Ａ", None, None, ("CN112345678A", "CN112345678")),
        # real Lens spellings: amended EP with a date, letters inside the number
        ("EP 0259054 B9 20031217", None, None, ("EP0259054B9", "EP0259054")),
        ("IN 1442CH2015 A", None, None, ("IN1442CH2015A", "IN1442CH2015")),
        ("TW M415289 U", None, None, ("TWM415289U", "TWM415289")),
        ("AU PO505497 D0", None, None, ("AUPO505497D0", "AUPO505497")),
    ],
)
def test_publication_number_spellings(raw, country, kind, expected):
    out = nz.normalize_pub_numbers(pd.Series([raw]), pd.Series([country]), pd.Series([kind]))
    assert (out.pub_id[0], out.doc_key[0]) == expected


def test_unreadable_publication_number_is_null():
    out = nz.normalize_pub_numbers(pd.Series(["not a number", "", None]))
    assert out.pub_id.isna().all()


def test_cn_check_digit_hand_computed():
    # 2·2+0·3+1·4+7·5+1·6+0·7+6·8+0·9+1·2+8·3+6·4+2·5 = 157; 157 mod 11 = 3
    assert nz.cn_check_digit("201710601862") == "3"
    # 8-digit (pre-2003) body: 9·2+7·3+1·4+0·5+1·6+7·7+6·8+5·9 = 191; 191 mod 11 = 4
    assert nz.cn_check_digit("97101765") == "4"
    # remainder 10 is written X: 5·2 = 10
    assert nz.cn_check_digit("500000000000") == "X"


def test_cn_application_numbers():
    out = nz.normalize_app_numbers(
        pd.Series(["2017106018623", "CN201710601862.3", "ZL 201710601862.3", "2017106018624", "97101765.4", "20171060186"]),
        "CN",
    )
    assert out.app_id.tolist()[:3] == ["CN201710601862.3"] * 3
    assert pd.isna(out.app_id[3]) and "check digit" in out.problem[3]
    assert out.app_id[4] == "CN97101765.4"
    assert pd.isna(out.app_id[5]) and "12 digits" in out.problem[5]


def test_patent_types_cn_from_number_and_kind_us_from_prefix():
    pubs = nz.normalize_pub_numbers(pd.Series(["CN112345678A", "CN212345678U", "CN305123456S", "USD656296S", "USPP12345P2", "US8418361B2", "DE202015001234U1"]))
    apps = pd.Series(["CN202010123456.7", None, None, None, None, None, None])
    types = nz.patent_types(pubs.country, pubs.kind, pubs.pub_number, apps)
    assert types.tolist() == ["invention", "utility_model", "design", "design", "plant", "invention", "utility_model"]
    # the application number's type digit wins over the kind code
    t = nz.patent_types(pd.Series(["CN"]), pd.Series(["A"]), pd.Series(["1"]), pd.Series(["CN202020123456.1"]))
    assert t[0] == "utility_model"


def test_dates_all_forms_and_impossible():
    d, bad = nz.parse_dates(pd.Series(["20120327", "2012-03-27", "2012/3/27", "2012.03.27", "2012年3月27日", "2012-03-27 00:00:00", "2012-02-30", "19870600", "abc", ""]))
    assert d[:6].dt.strftime("%Y-%m-%d").tolist() == ["2012-03-27"] * 6
    assert bad.tolist() == [False] * 6 + [True, True, True, False]
    d, bad = nz.parse_dates(pd.Series(["19870600"]), partial=True)
    assert d[0] == pd.Timestamp("1987-06-01") and not bad[0]


def test_dates_accept_datetime_values():
    import datetime as dt

    d, bad = nz.parse_dates(pd.Series([dt.datetime(2020, 5, 1), "2020-05-02"], dtype=object))
    assert d.dt.day.tolist() == [1, 2] and not bad.any()


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("H01M 10/0525", "H01M10/0525"),
        ("H01M10/0525", "H01M10/0525"),
        ("H01M0010052500", "H01M10/0525"),
        ("H01M 10/0525(2010.01)", "H01M10/0525"),
        ("H01M 10/0525 (2010.01)", "H01M10/0525"),
        ("H04L 1/00", "H04L1/00"),
        ("G06F 3/041", "G06F3/041"),
        ("A63F2009/241", "A63F2009/241"),
        ("G06F0003041000", "G06F3/041"),
        ("H01M 10", "H01M10/00"),
        ("H01M", "H01M"),
        ("ｈ０１Ｍ　１０／０５２５", "H01M10/0525"),
        ("Y02E 10/50", "Y02E10/50"),  # CPC Y section
        ("Y10S", "Y10S"),
        ("not a class", None),
    ],
)
def test_ipc_symbols(raw, expected):
    out = nz.normalize_ipc(pd.Series([raw]))[0]
    assert (None if pd.isna(out) else out) == expected


def test_uspto_ipc7_fixed_width():
    assert nz.uspto_ipc7_symbol("F25D 2312") == "F25D23/12"
    assert nz.uspto_ipc7_symbol("H05K  720") == "H05K7/20"
    assert nz.uspto_ipc7_symbol("F28D 1500") == "F28D15/00"


def test_subclass_and_main_group():
    s = pd.Series(["H01M10/0525", "H01M"], dtype="string")
    assert nz.ipc_subclass(s).tolist() == ["H01M", "H01M"]
    main = nz.ipc_main_group(s)
    assert main[0] == "H01M10" and pd.isna(main[1])


def test_names_group_spellings_within_a_language():
    names = pd.Series([
        "BOE Technology Group Co., Ltd.", "BOE TECHNOLOGY GROUP CO LTD", "Boe Technology Group Co.,Ltd",
        "京东方科技集团股份有限公司", "京东方科技集团股份有限公司 ", "京东方科技集团有限公司",
        "Dell Products L.P.", "DELL PRODUCTS LP", "Robert Bosch GmbH", "ＲＯＢＥＲＴ　ＢＯＳＣＨ　ＧＭＢＨ",
    ])
    n = nz.normalize_names(names).tolist()
    assert n[0] == n[1] == n[2] == "BOE TECHNOLOGY GROUP"
    assert n[3] == n[4] == n[5] == "京东方科技集团"
    assert n[6] == n[7] == "DELL PRODUCTS"
    assert n[8] == n[9] == "ROBERT BOSCH"


def test_party_types_from_names_and_hint():
    names = pd.Series(["重庆大学", "中国科学院重庆绿色智能技术研究院", "重庆医科大学附属第一医院", "长安汽车股份有限公司",
                       "重庆市江北区人民政府", "张三", "Massachusetts Institute of Technology", "Fraunhofer-Gesellschaft",
                       "Mayo Clinic Hospital", "Dell Products L.P.", "Smith"])
    t = nz.party_types(names, pd.Series([None] * 10 + ["individual"]))
    assert t.tolist() == ["university", "research_institute", "hospital", "enterprise", "government", "individual",
                          "university", "research_institute", "hospital", "enterprise", "individual"]


def test_split_multi_all_separators():
    s = pd.Series(["a;;b", "c；d|e", "f; g", None, ""])
    out = nz.split_multi(s)
    assert out.tolist() == ["a", "b", "c", "d", "e", "f", "g"]
    assert out.index.get_level_values("row").tolist() == [0, 0, 1, 1, 1, 2, 2]
    assert out.index.get_level_values("seq").tolist() == [0, 1, 0, 1, 2, 0, 1]


def test_formula_cells_are_neutralised():
    s = pd.Series(["=cmd|' /C calc'!A0", "+1", "-2", "@SUM(A1)", "ok", None])
    assert nz.neutralize_formula(s).tolist()[:5] == ["'=cmd|' /C calc'!A0", "'+1", "'-2", "'@SUM(A1)", "ok"]


def test_organisation_hint_lets_the_name_decide():
    names = pd.Series(["Stanford University", "Acme Widgets", "Mayo Foundation Hospital", "Jane Roe"])
    hint = pd.Series(["organisation", "organisation", "organisation", "individual"])
    assert nz.party_types(names, hint).tolist() == ["university", "enterprise", "hospital", "individual"]


def test_alphanumeric_numbers_with_country_given_apart():
    out = nz.normalize_pub_numbers(pd.Series(["IN 4304DEN2015 A", "TW M461037 U"]), pd.Series(["IN", "TW"]), pd.Series(["A", "U"]))
    assert out.pub_id.tolist() == ["IN4304DEN2015A", "TWM461037U"]


def test_vectorised_publication_numbers_agree_with_the_value_by_value_parser(sample_tables):
    # The fast path ("CC" + digits + kind) must give exactly what the per-value parser gives,
    # on every number spelling of the real data (citation, forward and family lists) and a few
    # hand-picked ones (DOCDB US pre-grant, EP zero padding, D prefix, WO year/serial).
    from pipeline.ingest.normalize import _split_pub

    t = sample_tables
    vals = pd.concat([t["citations"]["cited_raw"], t["forward_citations"]["citing_raw"],
                      t["family_members"]["member_raw"],
                      pd.Series(["US20190320115A1", "US 2010/0018287 A1", "EP0001234B1", "USD0656308S", "WO 97/12345",
                                 "us123", "US0001234", "XX", "EP1", None, "US00000", "TWI624754"])],
                     ignore_index=True).astype("string")
    for country in (None, "US", "CN"):
        fast = nz.normalize_pub_numbers(vals, pd.Series([country] * len(vals), dtype="string"))
        slow = pd.DataFrame([(None if pd.isna(v) else _split_pub(v, country, None)) or (None,) * 5 for v in vals],
                            columns=fast.columns).astype("string")
        pd.testing.assert_frame_equal(fast, slow)


def test_collapse_whitespace_equals_the_regular_expression_on_every_whitespace_character():
    # Every character Python counts as whitespace, alone, doubled, at the ends and between words
    spaces = [chr(i) for i in range(0x110000) if chr(i).isspace()]
    values = [f"a{c}b" for c in spaces] + [f"{c}x{c}{c}y{c}" for c in spaces]
    values += ["clean text", "中文　标题", "", "   ", None, "tab\there", "x" * 5000 + "  y"]
    s = pd.Series(values, dtype=object)
    expected = s.astype("string").str.replace(r"\s+", " ", regex=True).str.strip()
    expected = expected.where(expected != "")
    got = nz.collapse_whitespace(s)
    assert got.tolist() == expected.tolist()
    assert got.tolist()[:2] == ["a b", "a b"]


def test_parse_dates_by_distinct_value_equals_parsing_each_value():
    import datetime
    one = ["20120327", "2012年3月7日", "20120231", None, "43739", datetime.date(2020, 1, 2), "", pd.NaT, "1987-06-00"]
    many = pd.Series(one * 4, dtype=object)  # 4 copies: the distinct-value path
    for partial in (False, True):
        d1, b1 = nz.parse_dates(pd.Series(one, dtype=object), partial=partial)
        d4, b4 = nz.parse_dates(many, partial=partial)
        assert d4.tolist() == d1.tolist() * 4 and b4.tolist() == b1.tolist() * 4
        assert d4.dtype == "datetime64[s]" and b4.dtype == bool
    d, bad = nz.parse_dates(many, partial=True)
    assert d[8] == pd.Timestamp("1987-06-01") and not bad[8]
    assert d[2] is pd.NaT and bad[2]


def test_app_numbers_fast_path_equals_the_per_value_rules():
    import random
    rng = random.Random(0)
    bodies = ["".join(rng.choice("0123456789") for _ in range(rng.choice((8, 12)))) for _ in range(300)]
    values = [f"CN{b}.{nz.cn_check_digit(b)}" for b in bodies[:100]]          # valid, prefixed
    values += [f"{b}.{nz.cn_check_digit(b)}" for b in bodies[100:200]]         # valid, bare
    values += [f"CN{b}.{(int(nz.cn_check_digit(b).replace('X', '10')) + 1) % 10}" for b in bodies[200:]]  # wrong
    values += ["CN201710601862.4", "2017106018624", "CN 201710601862.3", "ZL201710601862.3", "CN12345678.X",
               "US15950587", "cn201710601862.3", "ＣＮ201710601862.3", "US 15/950,587", None, "", "CN1234",
               "JP2019123456", "EP19123456.7", "ZL12345678"]
    for country in (None, "CN", "US", pd.Series(["CN", "US", None] * 110)[:len(values)]):
        got = nz.normalize_app_numbers(pd.Series(values), country)
        cs = [None if pd.isna(c) else c for c in country] if isinstance(country, pd.Series) else [country] * len(values)
        expected = pd.DataFrame([nz._canon_app(v, c) if v and v.strip() else (None, None) for v, c in zip(values, cs)],
                                columns=["app_id", "problem"], dtype="string")
        pd.testing.assert_frame_equal(got, expected)
    # hand-checked: 2,0,1,7,1,0,6,0,1,8,6,2 weighted 2..9,2..5 sums to 168; 168 mod 11 = 3
    assert nz.normalize_app_numbers(pd.Series(["201710601862.3"])).app_id[0] == "CN201710601862.3"


def _halfwidth_by_regex(text):
    # The definition to_halfwidth keeps: NFKC, ideographic space, whitespace runs by ``re``.
    import re
    import unicodedata

    return re.sub(r"\s+", " ", unicodedata.normalize("NFKC", text).replace("\u3000", " ")).strip()


def test_to_halfwidth_equals_its_regular_expression_definition(sample_tables):
    t = sample_tables
    real = pd.concat([t["parties"]["name_raw"], t["patents"]["title"], t["parties"]["address_raw"]]).dropna()
    spaces = [chr(i) for i in range(0x110000) if chr(i).isspace()]
    edge = [f"a{c}b" for c in spaces] + [f"{c}x{c}{c}y{c}" for c in spaces]
    edge += ["ＢＯＥ　Ｔｅｃｈ", "ﬁne", "①号", "", "   ", "plain", "中文　（有限）公司", "x\u200by"]
    for v in list(real.unique()) + edge:
        assert nz.to_halfwidth(v) == _halfwidth_by_regex(v), repr(v)
    assert nz.to_halfwidth("ＢＯＥ　Ｔｅｃｈ ") == "BOE Tech"


def test_map_unique_calls_once_per_distinct_value_and_keeps_the_index():
    calls = []

    def upper(v):
        calls.append(v)
        return v.upper()

    s = pd.Series(["a", None, "a", "b", pd.NA], index=[10, 11, 12, 13, 14], dtype=object)
    got = nz.map_unique(s, upper)
    assert got.tolist() == ["A", pd.NA, "A", "B", pd.NA]
    assert got.index.tolist() == [10, 11, 12, 13, 14] and got.dtype == "string"
    assert sorted(calls) == ["a", "b"]
    assert nz.map_unique(pd.Series([], dtype="string"), upper).tolist() == []


def test_extract_groups_equals_python_extract(sample_tables):
    from pipeline.ingest.normalize import _DATE_RE, _FAST_PUB_RE

    t = sample_tables
    pubs = pd.concat([t["citations"]["cited_raw"], t["patents"]["pub_id"], t["family_members"]["member_raw"]])
    dates = pd.concat([t["patents"][c].astype("string") for c in ("app_date", "pub_date")])
    edge = ["CN123A\n", "CN１２３A", "CN 123", "\x1cCN1", "", None, "cn1", "CN1A1", "CN12AB", "2012-03-27\n",
            "2012年3月27日", "2012\x0b-03-27", " 2012/3/7 ", "20120327 10:00:00", "2012-03-27T1:00", "１９９９0101"]
    for pattern in (_FAST_PUB_RE, _DATE_RE):
        for vals in (pubs, dates):
            s = pd.concat([vals.astype("string"), pd.Series(edge, dtype="string")], ignore_index=True)
            pd.testing.assert_frame_equal(nz.extract_groups(s, pattern), s.str.extract(pattern))
    got = nz.extract_groups(pd.Series(["CN12A", "CN１２", "CN7\n", None]), _FAST_PUB_RE)
    assert got.values.tolist() == [["CN", "12", "A"], ["CN", "１２", pd.NA], ["CN", "7", pd.NA], [pd.NA] * 3]


def _name_one_by_cleanco(raw):
    # The organisation-name key as it was before ``_basename``: cleanco's ``basename``
    # itself, kept here only as the reference the fast version must equal.
    import re

    from cleanco import basename

    text = nz.to_halfwidth(raw)
    if re.search(r"[\u4e00-\u9fff]", text):
        text = re.sub(r"\s+", "", text)
        for _ in range(2):
            for suf in nz._CN_SUFFIXES:
                if text.endswith(suf) and len(text) > len(suf) + 1:
                    text = text[: -len(suf)]
        return nz._PUNCT.sub("", text).upper()
    text = re.sub(r"([,;])(?=\S)", r"\1 ", text)

    def strip_forms(t):
        prev = None
        while prev != t:
            prev, t = t, basename(t)
        return t

    text = strip_forms(text)
    text = strip_forms(nz._PUNCT.sub(" ", text).strip())
    text = re.sub(r"^THE\s+", "", text.upper())
    return nz._PUNCT.sub(" ", text).strip()


_TRICKY_NAMES = [
    "Foo Co., Ltd.", "Foo Co.,Ltd", "FOO CO LTD", "Bar GmbH & Co. KG", "Bar GmbH & Co KG", "THE BAZ COMPANY",
    "The Baz Company, Inc.", "Société Générale S.A.", "Societe Generale SA", "Acme\u00a0Inc.", "Acme Inc.\u00a0",
    "Acme, Inc.,", "Acme Inc...", "Acme Inc!?", "Acme L.P.", "Acme L P", "Acme LLC.", "Acme S.p.A.", "Acme S.A.S.",
    "Acme AG", "Acme Aktiengesellschaft", "Acme Kabushiki Kaisha", "Acme K.K.", "Acme Oy", "Acme AB (publ)",
    "Acme Pty. Ltd.", "Acme Pty Ltd", "Acme Limited", "Acme Holdings Ltd.", "Acme Corp. Inc. Ltd.", "Inc.", "Inc",
    "Ltd", "Co., Ltd.", "GmbH", "", " ", ".", "...", "&", "- Inc", "Inc. Inc.", "Corp", "Corp Corp", "Generated 1 Corp.",
    "Generated 12345 Corp.", "James Smith", "Ålborg A/S", "Ørsted A/S", "Straße GmbH", "STRASSE GMBH", "ﬁne Inc.",
    "Ｆｏｏ　Ｉｎｃ．", "Foo\tInc.", "Foo\nInc.\n", "Foo Inc.\x0b", "Café S.à r.l.", "Cafe S.a r.l.", "İstanbul A.Ş.",
    "Foo Ltda.", "Foo S. de R.L. de C.V.", "Foo SA de CV", "Foo N.V.", "Foo B.V.", "Foo BV", "Foo plc", "Foo PLC.",
    "Foo LLP", "Foo L.L.C.", "Foo, L.L.C.", "Foo Incorporated", "Foo Corporation", "Foo Company Limited",
    "京东方科技集团股份有限公司", "BOE Technology Group Co., Ltd.", "Foo 有限公司 Inc.", "Foo Co., Ltd. (US)",
]


def test_basename_equals_cleanco_on_real_names_terms_and_edge_cases(sample_tables):
    # ``_basename`` skips cleanco's scan of every term; it must return exactly what
    # ``cleanco.basename`` returns: on every real party name (and the forms ``_name_one``
    # passes it: upper case, punctuation as spaces), on every cleanco term behind a name,
    # alone and twice, and on hand-made edge cases.
    from cleanco import basename
    from cleanco.clean import get_unique_terms

    real = sample_tables["parties"]["name_raw"].dropna().unique().tolist()
    assert len(real) > 10_000
    terms = sorted(get_unique_terms())
    values = set(_TRICKY_NAMES)
    for v in real + _TRICKY_NAMES:
        values |= {v, v.upper(), nz._PUNCT.sub(" ", v).strip()}
    for t in terms:
        values |= {t, f"Acme {t}", f"ACME {t.upper()}", f"Acme {t}.", f"Acme {t} {t}", f"Acme {t}, Inc."}
        values |= {f"Acme {t} {u}" for u in terms[::17]}
    for v in sorted(values):
        assert nz._basename(v) == basename(v), repr(v)


def test_name_one_equals_the_cleanco_reference(sample_tables):
    real = sample_tables["parties"]["name_raw"].dropna().unique().tolist()
    generated = [f"Generated {i} Corp." for i in range(0, 200_000, 97)] + ["James Smith", "Mary-Ann O'Neil"]
    for v in real + generated + _TRICKY_NAMES:
        assert nz._name_one(v) == _name_one_by_cleanco(v), repr(v)
    assert nz._name_one("Generated 12345 Corp.") == "GENERATED 12345"
    assert nz._name_one("Foo Co., Ltd.") == nz._name_one("THE FOO COMPANY LIMITED") == "FOO"
