"""Places: one rule of "in the region" for every table that has a place."""

import pandas as pd
import pytest

from pipeline.errors import RegionInputError
from pipeline.landscape import region_mask
from pipeline.places import Region, in_region, parse_cn_addresses, parse_region

# Four places as the tables spell them: a full name, a name without its suffix (as a
# register or an English-derived record may give it), another city, a foreign country.
PLACES = pd.DataFrame({
    "country": ["CN", "cn", "CN", "US"],
    "province": ["重庆市", "重庆", "四川省", None],
    "city": ["重庆市", "重庆", "成都市", None],
    "district": ["江北区", "江北", None, None],
})


def test_in_region_by_level_and_without_suffixes():
    assert in_region(PLACES, parse_region("重庆市江北区")).tolist() == [True, True, False, False]
    assert in_region(PLACES, parse_region("重庆市")).tolist() == [True, True, False, False]
    assert in_region(PLACES, parse_region("四川省成都市")).tolist() == [False, False, True, False]
    assert in_region(PLACES, "CN").tolist() == [True, True, True, False]
    assert in_region(PLACES, Region("US", "country", "US")).tolist() == [False, False, False, True]


def test_every_table_decides_local_by_the_same_rule():
    # The patent view's applicant columns (landscape, reports) and the inventors' place
    # columns (talent) give the same answer for the same places.
    view = PLACES.add_prefix("applicant_")
    region = parse_region("重庆市江北区")
    assert region_mask(view, region).tolist() == in_region(PLACES, region).tolist()


def test_a_missing_place_column_is_a_named_error():
    with pytest.raises(RegionInputError, match="need column.*district"):
        in_region(PLACES.drop(columns="district"), parse_region("重庆市江北区"))
    # a country-level region reads the country alone
    assert in_region(PLACES.drop(columns="district"), "US").tolist() == [False, False, False, True]


def test_cn_addresses_to_province_city_district():
    out = parse_cn_addresses(pd.Series(["重庆市江北区建新北路1号", "广东省深圳市南山区科技园", "400020 重庆市渝北区", "Austin, TX, US", None]))
    assert out.iloc[0].tolist() == ["重庆市", "重庆市", "江北区"]
    assert out.iloc[1].tolist() == ["广东省", "深圳市", "南山区"]
    assert out.iloc[2].tolist() == ["重庆市", "重庆市", "渝北区"]
    assert out.iloc[3].isna().all() and out.iloc[4].isna().all()
