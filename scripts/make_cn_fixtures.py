"""Generate the Chinese database export test fixtures (synthetic bibliography, real text).

No real CNIPA / incoPat / PatSnap export could be obtained offline, so these files follow
the documented export conventions (DOMAIN.md §4, ``pipeline/ingest/headers.yaml``: headers,
encodings, title rows, separators, date spellings) around REAL Chinese titles and abstracts
read at run time from ``../shared/data/cn-text/test_data_TAC.json`` (tanggongbo/KPPatent-ZH,
MIT; see ``../shared/data/README.md``). The claim count is counted from that record's real
claims (``权利声明``); designs (外观设计) get no abstract and no claim count. Everything
else — numbers, dates, types, applicants, addresses, inventors, IPC codes, citations,
families, legal status, transfer / pledge / licence records — is generated here and is
SYNTHETIC; organisation, bank and person names are invented. A title is not linked to its
real publication. Any figure computed from these files describes generated data.

The files contain third-party text, so the project commits none of them: tests write them
into a temporary folder at run time (``tests/fixtures_cn.py``), people into a folder of
their choice. Output (deterministic for a given seed and input, byte-for-byte):

* ``cn_tiny_synthetic_biblio_title_utf8bom.csv`` — 10 rows, UTF-8 with BOM, an incoPat-like
  title row above a header with full-width brackets (公开（公告）号);
* ``cn_tiny_synthetic_biblio_gbk.csv`` — the same 10 rows, GB18030, English/Chinese header
  mix, no title row;
* ``cn_tiny_synthetic_biblio_title.xlsx`` — the same 10 rows, a title row, half-width
  brackets (公开(公告)号), dates as Excel dates, counts as numbers;

and with ``samples=True`` (``--samples``) three larger files on other texts:

* ``cn_export_synthetic_biblio.csv`` — 300 rows, UTF-8 with BOM, two title rows, full-width
  brackets;
* ``cn_export_synthetic_biblio_gbk.csv`` — 100 rows, GB18030, English/Chinese header mix,
  no title row, 被引证专利 instead of a count;
* ``cn_export_synthetic_biblio.xlsx`` — 100 rows, a title row, half-width brackets, Excel
  dates and numbers.

The larger files are always generated in memory (the ten rows come after them in the one
random stream), so asking for them does not change the ten rows.

Usage::

    python scripts/make_cn_fixtures.py OUT_DIR [--samples] [--text PATH] [--seed N]
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import io
import json
import random
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from openpyxl import Workbook

from pipeline.ingest.normalize import cn_check_digit

ROOT = Path(__file__).resolve().parents[1]
# The real data set beside the checkout (../shared/data), as in tests/shared_data.py.
DEFAULT_TEXT = ROOT.parent / "shared" / "data" / "cn-text" / "test_data_TAC.json"
SEED = 20240501
EXPORT_DAY = dt.date(2024, 5, 1)

# --------------------------------------------------------------------------- places
# (province, city, district, postcode, streets); municipalities repeat the province.
JIANGBEI = ("重庆市", "重庆市", "江北区", "400020",
            ["建新北路", "建新东路", "洋河一路", "北城天街", "港城南路", "海尔路", "江北城西大街", "大石坝正街", "五里店街道金源路", "鱼嘴镇长惠路"])
CHONGQING = [
    ("重庆市", "重庆市", "渝中区", "400010", ["解放碑民族路", "大坪正街", "袁家岗长江二路"]),
    ("重庆市", "重庆市", "沙坪坝区", "400030", ["沙正街", "大学城南路", "天星桥正街"]),
    ("重庆市", "重庆市", "九龙坡区", "400050", ["科园一路", "杨家坪正街", "石桥铺渝州路"]),
    ("重庆市", "重庆市", "南岸区", "400060", ["南坪东路", "茶园新区通江大道", "学府大道"]),
    ("重庆市", "重庆市", "渝北区", "401120", ["金开大道", "星光大道", "空港大道"]),
    ("重庆市", "重庆市", "北碚区", "400700", ["天生路", "蔡家岗镇凤栖路", "云华路"]),
    ("重庆市", "重庆市", "巴南区", "401320", ["红光大道", "渝南大道", "界石镇石龙大道"]),
    ("重庆市", "重庆市", "璧山区", "402760", ["璧泉街道剑山路", "青杠街道工贸大道"]),
]
ELSEWHERE = [
    ("四川省", "成都市", "武侯区", "610041", ["天府大道北段", "科华北路", "武侯大道"]),
    ("北京市", "北京市", "海淀区", "100080", ["中关村大街", "学院路", "上地十街"]),
    ("上海市", "上海市", "浦东新区", "201203", ["张江路", "祖冲之路", "世纪大道"]),
    ("广东省", "深圳市", "南山区", "518057", ["科技南十二路", "深南大道", "高新南一道"]),
    ("江苏省", "南京市", "玄武区", "210018", ["珠江路", "中山东路", "北京东路"]),
    ("浙江省", "杭州市", "西湖区", "310012", ["文三路", "西溪路", "古墩路"]),
    ("湖北省", "武汉市", "洪山区", "430074", ["珞喻路", "光谷大道", "雄楚大道"]),
    ("陕西省", "西安市", "雁塔区", "710061", ["科技路", "长安南路", "高新路"]),
    ("贵州省", "贵阳市", "观山湖区", "550081", ["林城西路", "长岭北路", "金阳南路"]),
]
CITY_PREFIX = {"重庆市": "重庆", "成都市": "成都", "北京市": "北京", "上海市": "上海", "深圳市": "深圳",
               "南京市": "南京", "杭州市": "杭州", "武汉市": "武汉", "西安市": "西安", "贵阳市": "贵阳"}

# Invented trade names (字号) and industries; any resemblance to a real firm is coincidental.
TRADE_NAMES = ["渝瀚", "江屿", "朝澜", "北澄", "港迅", "鱼岭", "寸鑫", "滨川", "嘉睿", "峡光", "澄岳", "溪岚",
               "晟拓", "衡舟", "启屹", "泓域", "钧岳", "沐川", "弘毅", "锦屹", "岚图", "翊航", "骁川", "曜石"]
INDUSTRIES = ["智能科技", "新能源科技", "汽车零部件", "电子科技", "新材料科技", "生物科技", "环保科技",
              "机械制造", "信息技术", "建筑工程", "无人机科技", "医疗器械", "精密仪器", "光电技术"]
COMPANY_SUFFIXES = ["有限公司", "有限公司", "股份有限公司", "有限责任公司"]
UNIVERSITIES = ["{p}嘉陵理工大学", "{p}滨江科技大学", "{p}工程职业技术学院", "{p}山城大学", "{p}交通工程学院"]
INSTITUTES = ["{p}先进材料研究院", "{p}智能制造技术研究院", "{p}新能源汽车研究院", "{p}生态环境科学研究院"]
HOSPITALS = ["{p}滨江医院", "{p}康宁中医医院", "{p}第二骨科医院"]
BANKS = ["重庆渝商银行股份有限公司江北支行", "重庆嘉陵农村商业银行股份有限公司观音桥支行",
         "成都蜀川银行股份有限公司高新支行", "重庆两江科技融资担保有限公司"]
SURNAMES = list("王李张刘陈杨黄赵吴周徐孙马朱胡郭何罗高林郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程魏苏吕丁任沈姚卢傅钟")
GIVEN = list("伟芳娜敏静丽强磊军洋勇艳杰涛明超秀霞平刚桂英华建国文辉鹏飞宇浩然晨阳欣怡子轩雨涵思远嘉琪俊峰志成海波")

# --------------------------------------------------------------------------- IPC
# Keyword rules on title + abstract -> IPC symbols in the spaced, versioned form of
# Chinese exports. The first symbol of the first matching rule is the main one.
IPC_RULES = [
    (r"锂|电池|正极|负极|电解液|电芯", ["H01M 10/0525(2010.01)", "H01M 4/36(2006.01)", "H01M 4/505(2010.01)", "H01M 10/42(2006.01)"]),
    (r"无人机|飞行器|航拍", ["B64C 39/02(2006.01)", "G05D 1/10(2006.01)", "B64D 47/08(2006.01)"]),
    (r"云台|支架", ["F16M 11/12(2006.01)", "F16M 13/02(2006.01)", "G03B 17/56(2021.01)"]),
    (r"洗衣机|衣物|洗涤|滚筒|干衣", ["D06F 33/32(2020.01)", "D06F 34/28(2020.01)", "D06F 39/08(2006.01)"]),
    (r"热水器|热水|加热平台|加热", ["F24H 9/20(2022.01)", "F24H 15/20(2022.01)", "H05B 1/02(2006.01)"]),
    (r"车辆|汽车|机车|车载|驾驶|车车", ["B60W 30/18(2012.01)", "B60L 58/12(2019.01)", "B60R 16/023(2006.01)"]),
    (r"催化剂|催化", ["B01J 27/185(2006.01)", "B01J 37/02(2006.01)", "C10G 45/08(2006.01)"]),
    (r"混凝土|水泥|砂浆|石膏", ["C04B 28/04(2006.01)", "C04B 24/26(2006.01)", "E04G 21/02(2006.01)"]),
    (r"建筑|施工|地基|钢结构|墙体|门窗|装配式|隧道", ["E04B 1/38(2006.01)", "E02D 27/12(2006.01)", "E04G 21/14(2006.01)"]),
    (r"纤维|纺织|面料|无纺布", ["D01F 6/04(2006.01)", "D04H 1/4382(2012.01)", "D06M 15/263(2006.01)"]),
    (r"肥料|堆肥|废弃物", ["C05F 17/00(2020.01)", "C05G 3/00(2020.01)"]),
    (r"3D打印|增材", ["B33Y 70/00(2020.01)", "B29C 64/10(2017.01)"]),
    (r"采矿|矿体|开采|掘进|煤|钻|井下|油井|完井|抽油", ["E21B 43/08(2006.01)", "E21C 41/16(2006.01)", "E21B 47/12(2012.01)"]),
    (r"光伏|太阳能", ["H02S 20/10(2014.01)", "H01L 31/18(2006.01)"]),
    (r"制冷|冷媒|空调|冰箱", ["C09K 5/04(2006.01)", "F25B 9/00(2006.01)", "F24F 11/64(2018.01)"]),
    (r"合金|轧制|镁|钢板|金属板", ["C22C 23/02(2006.01)", "B21B 1/22(2006.01)", "C22F 1/06(2006.01)"]),
    (r"机器人|机械臂", ["B25J 9/16(2006.01)", "B25J 11/00(2006.01)"]),
    (r"半导体|外延|晶圆|芯片|掩模|等离子体", ["H01L 21/02(2006.01)", "C30B 25/02(2006.01)", "C23C 16/44(2006.01)"]),
    (r"图像|视频|识别|神经网络|深度学习|摄像", ["G06T 7/00(2017.01)", "G06V 10/82(2022.01)", "G06N 3/08(2023.01)"]),
    (r"通信|终端|网络|信号|天线|基站|无线|呼叫", ["H04W 4/02(2018.01)", "H04L 67/12(2022.01)", "H01Q 1/22(2006.01)"]),
    (r"数据|查询|搜索|信息|计算机|程序|存储|快照", ["G06F 16/245(2019.01)", "G06F 16/9535(2019.01)", "G06F 21/62(2013.01)"]),
    (r"废水|污水|水处理|净化|烟气|废气", ["C02F 1/00(2023.01)", "B01D 53/78(2006.01)"]),
    (r"食品|饮料|茶|西瓜|种植|大棚|蔬菜|果", ["A23L 2/38(2021.01)", "A01G 9/14(2006.01)", "A01G 13/02(2006.01)"]),
    (r"药物|治疗|细胞|抗体|基因|蛋白|疫苗", ["A61K 39/395(2006.01)", "A61P 35/00(2006.01)", "C12N 15/113(2010.01)"]),
    (r"医疗|手术|患者|护理|医用|面膜", ["A61B 17/34(2006.01)", "A61G 7/05(2006.01)", "A61Q 19/00(2006.01)"]),
    (r"聚合物|树脂|组合物|涂料|涂层|薄膜|膜", ["C08L 67/02(2006.01)", "C09D 163/00(2006.01)", "C08J 5/18(2006.01)"]),
    (r"电机|电路|电源|充电|电力|漏电", ["H02J 7/00(2006.01)", "H02M 3/335(2006.01)", "G01R 31/52(2020.01)"]),
    (r"传感|检测|监测|测量|测绘", ["G01D 21/02(2006.01)", "G01N 21/88(2006.01)", "G01C 15/00(2006.01)"]),
    (r"阀|管|泵|密封", ["F16K 1/22(2006.01)", "F16J 15/06(2006.01)", "F04B 53/10(2006.01)"]),
]
IPC_FALLBACK = {"method": ["G05B 19/418(2006.01)", "G06Q 10/06(2023.01)"], "device": ["B65G 47/90(2006.01)", "F16B 2/12(2006.01)"]}

METHOD_RE = re.compile(r"方法|工艺|制备|组合物|用途|应用|配方|程序|介质|技术|方式")
DEVICE_RE = re.compile(r"装置|设备|结构|组件|工具|支架|机构|器|机|板|件|罩|箱|架|座|头|车|灯|柜|盒|服|耳机|模块")
FOREIGN_CITED = ["US2015012345A1", "US9876543B2", "JP2016123456A", "WO2018123456A1", "KR101234567B1", "EP3012345A1",
                 "US2019234567A1", "DE102017123456A1"]


# --------------------------------------------------------------------------- text
def load_texts(path: Path) -> list[dict]:
    """Real title / abstract / claim count of each KPPatent-ZH record with a title."""
    records, seen = [], set()
    for item in json.loads(path.read_text(encoding="utf-8")):
        m = re.match(r"标题：(.*?)\n摘要：?(.*?)\n权利声明：(.*)", item["input"], re.S)
        title, abstract, claims = (g.strip() for g in m.groups())
        if not title or title in seen:
            continue
        seen.add(title)
        n_claims = len(re.findall(r"(?m)^\s*\d+\s*[.．、]", claims))
        records.append({"title": title, "abstract": abstract, "claims": n_claims or None})
    return records


def gbk_ok(*texts: str) -> bool:
    try:
        for t in texts:
            t.encode("gbk")
        return True
    except UnicodeEncodeError:
        return False


# --------------------------------------------------------------------------- parties
@dataclass
class Org:
    name: str
    address: str
    province: str
    city: str


@dataclass
class Registry:
    """Invented applicants, each with one address, drawn from repeatedly."""

    rng: random.Random
    jiangbei: list[Org] = field(default_factory=list)
    chongqing: list[Org] = field(default_factory=list)
    elsewhere: list[Org] = field(default_factory=list)

    def __post_init__(self):
        for _ in range(28):
            self.jiangbei.append(self._org(JIANGBEI))
        for _ in range(24):
            self.chongqing.append(self._org(self.rng.choice(CHONGQING)))
        for _ in range(26):
            self.elsewhere.append(self._org(self.rng.choice(ELSEWHERE)))

    def _address(self, place) -> str:
        province, city, district, postcode, streets = place
        town = province if province == city else province + city
        addr = f"{town}{district}{self.rng.choice(streets)}{self.rng.randint(1, 300)}号"
        if self.rng.random() < 0.3:
            addr = f"{postcode} {addr}"  # CNIPA 地址 fields often lead with the postcode
        return addr

    def _org(self, place) -> Org:
        province, city, district = place[:3]
        prefix = CITY_PREFIX[city]
        kind = self.rng.choices(["company", "university", "institute", "hospital"], [70, 14, 10, 6])[0]
        if kind == "company":
            name = f"{prefix}{self.rng.choice(TRADE_NAMES)}{self.rng.choice(INDUSTRIES)}{self.rng.choice(COMPANY_SUFFIXES)}"
        else:
            pool = {"university": UNIVERSITIES, "institute": INSTITUTES, "hospital": HOSPITALS}[kind]
            local = prefix + ("江北" if district == "江北区" and kind != "university" else "")
            name = self.rng.choice(pool).format(p=local)
        return Org(name, self._address(place), province, city)

    def person(self) -> str:
        given = "".join(self.rng.choices(GIVEN, k=self.rng.choice([1, 2, 2])))
        return self.rng.choice(SURNAMES) + given

    def pick(self, region: str) -> Org:
        pool = {"jiangbei": self.jiangbei, "chongqing": self.chongqing, "elsewhere": self.elsewhere}[region]
        return self.rng.choice(pool)

    def individual(self, region: str) -> Org:
        place = JIANGBEI if region == "jiangbei" else self.rng.choice(CHONGQING if region == "chongqing" else ELSEWHERE)
        return Org(self.person(), self._address(place), place[0], place[1])


# --------------------------------------------------------------------------- records
PUB_BASE = {  # first 3 digits of CN publication numbers by publication year (approx.)
    "invention": {2015: 104, 2016: 105, 2017: 106, 2018: 107, 2019: 109, 2020: 110, 2021: 112, 2022: 114, 2023: 115, 2024: 117},
    "utility_model": {2015: 204, 2016: 205, 2017: 206, 2018: 207, 2019: 208, 2020: 210, 2021: 212, 2022: 215, 2023: 218, 2024: 220},
    "design": {2015: 303, 2016: 303, 2017: 304, 2018: 304, 2019: 305, 2020: 305, 2021: 306, 2022: 307, 2023: 307, 2024: 308},
}
TYPE_DIGIT = {"invention": "1", "utility_model": "2", "design": "3"}


def fmt_date(d: dt.date, rng: random.Random) -> str:
    """A date in one of the forms Chinese exports mix."""
    form = rng.choice(["iso", "dots", "compact", "slashes"])
    return {"iso": d.isoformat(), "dots": d.strftime("%Y.%m.%d"), "compact": d.strftime("%Y%m%d"),
            "slashes": f"{d.year}/{d.month}/{d.day}"}[form]


def app_number(body: str, rng: random.Random) -> str:
    check = cn_check_digit(body)
    return rng.choice([f"{body}{check}", f"CN{body}.{check}", f"CN{body}.{check}", f"{body}.{check}"])


def choose_type(title: str, rng: random.Random) -> str:
    if METHOD_RE.search(title) or not DEVICE_RE.search(title):
        return "invention"
    return rng.choices(["invention", "utility_model", "design"], [30, 58, 12])[0]


def ipc_codes(title: str, abstract: str, rng: random.Random) -> list[str]:
    rules = [codes for pattern, codes in IPC_RULES if re.search(pattern, title)]
    rules += [codes for pattern, codes in IPC_RULES if re.search(pattern, abstract) and codes not in rules]
    if not rules:
        rules = [IPC_FALLBACK["method" if METHOD_RE.search(title) else "device"]]
    first = rules[0]
    out = [first[0]] + rng.sample(first[1:], k=rng.randint(0, len(first) - 1))
    if len(rules) > 1 and rng.random() < 0.5:
        out.append(rng.choice(rules[1]))
    return list(dict.fromkeys(out))


def make_records(texts: list[dict], rng: random.Random, reg: Registry, taken: set) -> list[dict]:
    """Synthetic bibliography for each real text (one publication per row)."""
    out = []
    for i, text in enumerate(texts):
        kind = choose_type(text["title"], rng)
        region = rng.choices(["jiangbei", "chongqing", "elsewhere"], [38, 30, 32])[0]
        app_date = dt.date(2015, 1, 1) + dt.timedelta(days=rng.randint(0, 7 * 365))
        pct = kind == "invention" and rng.random() < 0.06
        while (body := f"{app_date.year}{'8' if pct else TYPE_DIGIT[kind]}{rng.randint(100000, 9999999):07d}") in taken:
            pass
        if kind == "invention":
            pub_date = app_date + dt.timedelta(days=rng.randint(180, 540))
            grant_date = app_date + dt.timedelta(days=rng.randint(720, 1400))
            granted = rng.random() < 0.5 and grant_date <= EXPORT_DAY
        else:  # utility models and designs are published at grant
            pub_date = grant_date = app_date + dt.timedelta(days=rng.randint(90, 270))
            granted = True
        while (digits := f"{PUB_BASE[kind][pub_date.year]}{rng.randint(0, 999999):06d}") in taken:
            pass
        taken.update((body, digits))
        # Since 2010 a granted invention keeps the number of its A publication.
        a_number = f"CN{digits}A" if kind == "invention" else None
        pub_no = f"CN{digits}" + {"invention": "B" if granted else "A", "utility_model": "U", "design": "S"}[kind]

        first = reg.individual(region) if rng.random() < 0.1 else reg.pick(region)
        applicants = [first]
        if rng.random() < 0.3:
            applicants.append(reg.pick(rng.choice(["jiangbei", "chongqing", "elsewhere"])))
        if rng.random() < 0.08:
            applicants.append(reg.individual(region))
        names = list(dict.fromkeys(a.name for a in applicants))
        inventors = list(dict.fromkeys(reg.person() for _ in range(rng.randint(1, 6))))
        if len(first.name) <= 4:  # an individual applicant is usually also the inventor
            inventors = [first.name] + [p for p in inventors if p != first.name]

        priorities, pct_app, family = [], "", []
        if pct:
            cc = rng.choice(["US", "JP", "DE", "CN"])
            prio_date = app_date - dt.timedelta(days=rng.randint(200, 365))
            pbody = f"{prio_date.year}1{rng.randint(100000, 9999999):07d}"
            prio = {"US": f"US{rng.randint(15, 17)}/{rng.randint(100000, 999999)}",
                    "JP": f"JP{prio_date.year}-{rng.randint(10000, 250000)}",
                    "DE": f"DE10{prio_date.year}{rng.randint(100000, 999999)}",
                    "CN": f"CN{pbody}.{cn_check_digit(pbody)}"}[cc]
            priorities.append(f"{prio} {fmt_date(prio_date, rng)}")
            pct_app = f"PCT/{cc}{app_date.year - 1}/{rng.randint(10000, 99999):06d}"
            family = [f"WO{app_date.year - 1}{rng.randint(100000, 250000):06d}A1"]
            if rng.random() < 0.6:
                family.append(f"US{app_date.year}{rng.randint(100000, 399999):07d}A1")
        elif kind != "design" and rng.random() < 0.05:  # a domestic priority (within 12 months)
            prio_date = app_date - dt.timedelta(days=rng.randint(30, 360))
            pbody = f"{prio_date.year}{TYPE_DIGIT[kind]}{rng.randint(100000, 9999999):07d}"
            priorities.append(f"CN{pbody}.{cn_check_digit(pbody)}")
        if family or (kind == "invention" and granted):
            family = list(dict.fromkeys([a_number or pub_no, pub_no, *family]))

        out.append({
            "i": i, "kind": kind, "granted": granted, "app_date": app_date,
            "pub_date": grant_date if kind == "invention" and granted else pub_date,
            "grant_date": grant_date if granted else None, "app_no": app_number(body, rng), "pub_no": pub_no,
            "title": text["title"], "abstract": "" if kind == "design" else text["abstract"],  # designs have no abstract
            "claims": None if kind == "design" else text["claims"], "applicants": names,
            "address": first.address, "province": first.province, "city": first.city,
            "inventors": inventors, "assignees": names, "events": [],
            "ipc": [] if kind == "design" else ipc_codes(text["title"], text["abstract"], rng),
            "priorities": priorities, "pct": pct_app, "family": family,
        })
    return out


def add_citations(recs: list[dict], rng: random.Random) -> None:
    """引证专利 pointing partly to earlier rows of the same file; counts follow."""
    # Design patents neither cite nor (in practice) get cited by technical patents.
    by_date = sorted((r for r in recs if r["kind"] != "design"), key=lambda r: r["pub_date"])
    for r in recs:
        earlier = [o for o in by_date if o["pub_date"] < r["app_date"] and o is not r]
        n = 0 if r["kind"] == "design" else rng.choices([0, 1, 2, 3, 4, 5, 6], [25, 15, 18, 15, 12, 9, 6])[0]
        internal = rng.sample(earlier, k=min(len(earlier), rng.randint(0, n))) if earlier else []
        cited = [o["pub_no"] for o in internal]
        while len(cited) < n:
            if rng.random() < 0.25:
                cited.append(rng.choice(FOREIGN_CITED))
            else:
                y = rng.randint(2008, max(2009, r["app_date"].year - 1))
                cited.append(f"CN{PUB_BASE['invention'].get(y, 101)}{rng.randint(0, 999999):06d}{rng.choice('AAB')}")
        r["cited"] = list(dict.fromkeys(cited))
        r["citing_internal"] = []
    for r in recs:
        for c in r["cited"]:
            for o in recs:
                if o["pub_no"] == c:
                    o["citing_internal"].append(r["pub_no"])
    for r in recs:
        r["cited_count"] = len(r["citing_internal"]) + rng.choices([0, 1, 2, 3, 5, 8, 13], [40, 20, 14, 10, 8, 5, 3])[0]


def add_status_and_events(recs: list[dict], rng: random.Random, reg: Registry, force: dict | None = None) -> None:
    """法律状态 and transfer / pledge / licence records (``force``: row -> event types to give it)."""
    force = force or {}
    for r in recs:
        if r["granted"]:
            age = (EXPORT_DAY - r["app_date"]).days / 365
            r["legal"] = "失效" if rng.random() < (0.12 + 0.04 * age) else "有效"
        else:
            r["legal"] = "失效" if rng.random() < 0.3 else "审中"
        kinds = force.get(r["i"], [])
        if not kinds and r["granted"]:
            roll = rng.random()
            kinds = ["转让"] if roll < 0.10 else ["质押"] if roll < 0.15 else ["许可"] if roll < 0.19 else []
        when = r["grant_date"] or r["pub_date"]
        for kind in kinds:
            room = (EXPORT_DAY - when).days
            if room < 2:
                break
            when += dt.timedelta(days=rng.randint(1, min(500, room - 1)))  # in order, before the export
            owner = ";".join(r["assignees"])
            if kind == "转让":
                new = reg.pick(rng.choice(["jiangbei", "jiangbei", "chongqing", "elsewhere"])).name
                r["events"].append({"type": kind, "from": owner, "to": new, "date": when})
                r["assignees"] = [new]
                r["legal"] = "有效"
            elif kind == "质押":
                amount = rng.choice(["50万元", "300万元", "500万元", "1,000万元", "1200万元"])
                r["events"].append({"type": kind, "from": owner, "to": rng.choice(BANKS), "date": when, "amount": amount})
                r["legal"] = "有效"
            else:
                licensee = reg.pick(rng.choice(["jiangbei", "chongqing"])).name
                r["events"].append({"type": kind, "from": owner, "to": licensee, "date": when,
                                    "detail": rng.choice(["普通许可", "独占许可", "排他许可"])})
                r["legal"] = "有效"


# --------------------------------------------------------------------------- writing
# Logical column -> header spelling per style. None: the style has no such column.
COLUMNS = {
    #  key            incoPat (full-width)  mixed (GBK file)        half-width (XLSX)
    "seq":          ("序号",               "No.",                  "序号"),
    "title":        ("标题",               "Title",                "标题"),
    "abstract":     ("摘要",               "摘要",                 "摘要"),
    "app_no":       ("申请号",             "Application Number",   "申请号"),
    "app_date":     ("申请日",             "申请日",               "申请日"),
    "pub_no":       ("公开（公告）号",     "Publication Number",   "公开(公告)号"),
    "pub_date":     ("公开（公告）日",     "公开日",               "公开(公告)日"),
    "grant_date":   ("授权公告日",         "Grant Date",           "授权公告日"),
    "type":         ("专利类型",           "Patent Type",          "专利类型"),
    "applicants":   ("申请（专利权）人",   "申请人",               "申请(专利权)人"),
    "address":      ("申请人地址",         "地址",                 "申请人地址"),
    "province":     ("申请人所在省",       "Applicant Province",   "申请人省份"),
    "city":         ("申请人所在市",       "申请人城市",           "申请人城市"),
    "assignees":    ("当前专利权人",       "当前权利人",           "当前申请(专利权)人"),
    "inventors":    ("发明（设计）人",     "Inventors",            "发明人"),
    "ipc_main":     ("IPC主分类号",        "主分类号",             "IPC主分类号"),
    "ipc":          ("IPC",                "IPC分类号",            "IPC"),
    "priorities":   ("优先权号",           "Priority Numbers",     "优先权号"),
    "pct":          ("PCT国际申请号",      "PCT国际申请号",        "PCT国际申请号"),
    "cited":        ("引证专利",           "Cited Patents",        "引证专利"),
    "cited_count":  ("被引证次数",         "Cited Count",          "被引证次数"),
    "citing":       (None,                 "被引证专利",           None),
    "family":       ("简单同族",           "Simple Family",        "简单同族"),
    "family_size":  ("同族数量",           "简单同族数量",         "同族数量"),
    "claims":       ("权利要求数量",       "权利要求数",           "权利要求数量"),
    "legal":        ("法律状态",           "Legal Status",         "法律状态"),
    "tr_from":      ("转让人",             "Assignor",             "转让人"),
    "tr_to":        ("受让人",             "受让人",               "受让人"),
    "tr_date":      ("转让生效日",         "转让日",               "转让生效日"),
    "pl_from":      ("出质人",             "出质人",               "出质人"),
    "pl_to":        ("质权人",             "Pledgee",              "质权人"),
    "pl_amount":    ("质押金额",           "质押金额",             "质押金额"),
    "pl_date":      ("质押登记日",         "质押登记日",           "质押登记日"),
    "li_from":      ("许可人",             "Licensor",             "许可人"),
    "li_to":        ("被许可人",           "被许可人",             "被许可人"),
    "li_type":      ("许可类型",           "许可类型",             "许可类型"),
    "li_date":      ("许可备案日",         "许可备案日",           "许可备案日"),
}
STYLE = {"incopat": 0, "mixed": 1, "halfwidth": 2}
TYPE_WORDS = {
    "incopat": {"invention": ("发明申请", "发明授权"), "utility_model": ("实用新型",) * 2, "design": ("外观设计",) * 2},
    "mixed": {"invention": ("发明", "发明"), "utility_model": ("实用新型",) * 2, "design": ("外观设计",) * 2},
}
TYPE_WORDS["halfwidth"] = TYPE_WORDS["incopat"]
DATE_KEYS = ("app_date", "pub_date", "grant_date", "tr_date", "pl_date", "li_date")


def cells(r: dict, rng: random.Random, seps: list[str], excel_dates: bool) -> dict:
    """Cell values of one record by logical column (the same for every style)."""
    sep = rng.choice(seps)

    def date(d):
        if d is None:
            return ""
        return d if excel_dates else fmt_date(d, rng)

    # Several records of one kind are listed with "|" in each of its columns.
    def events(kind, key):
        return "|".join(e.get(key, "") for e in r["events"] if e["type"] == kind)

    def event_dates(kind):
        ds = [e["date"] for e in r["events"] if e["type"] == kind]
        if excel_dates and len(ds) == 1:
            return ds[0]
        return "|".join(d.isoformat() if excel_dates else fmt_date(d, rng) for d in ds)

    ipc = r["ipc"]
    return {
        "seq": str(r["i"] + 1), "title": r["title"], "abstract": r["abstract"], "app_no": r["app_no"],
        "app_date": date(r["app_date"]), "pub_no": r["pub_no"], "pub_date": date(r["pub_date"]),
        "grant_date": date(r["grant_date"]), "applicants": sep.join(r["applicants"]), "address": r["address"],
        "province": r["province"], "city": r["city"], "assignees": sep.join(r["assignees"]),
        "inventors": sep.join(r["inventors"]), "ipc_main": ipc[0] if ipc else "", "ipc": sep.join(ipc),
        "priorities": sep.join(r["priorities"]), "pct": r["pct"], "cited": sep.join(r["cited"]),
        "cited_count": r["cited_count"], "citing": sep.join(r["citing_internal"]),
        "family": sep.join(r["family"]), "family_size": len(r["family"]) or 1,
        "claims": r["claims"] if r["claims"] else "", "legal": r["legal"],
        "tr_from": events("转让", "from"), "tr_to": events("转让", "to"), "tr_date": event_dates("转让"),
        "pl_from": events("质押", "from"), "pl_to": events("质押", "to"), "pl_amount": events("质押", "amount"),
        "pl_date": event_dates("质押"), "li_from": events("许可", "from"), "li_to": events("许可", "to"),
        "li_type": events("许可", "detail"), "li_date": event_dates("许可"),
    }


def table(recs: list[dict], style: str, rng: random.Random, seps: list[str], excel: bool, keys=None) -> tuple[list, list]:
    keys = [k for k in (keys or COLUMNS) if COLUMNS[k][STYLE[style]] is not None]
    header = [COLUMNS[k][STYLE[style]] for k in keys]
    rows = []
    for r in recs:
        c = cells(r, rng, seps, excel)
        c["type"] = TYPE_WORDS[style][r["kind"]][int(r["granted"])]
        rows.append([c[k] for k in keys])
    return header, rows


def write_csv(path: Path, header: list, rows: list, *, encoding: str, title_rows=()) -> None:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    for t in title_rows:
        w.writerow([t])
    w.writerow(header)
    w.writerows([["" if v is None else str(v) for v in row] for row in rows])
    path.write_bytes(buf.getvalue().encode(encoding))


def write_xlsx(path: Path, header: list, rows: list, title: str) -> None:
    wb = Workbook()
    ws = wb.active
    ws.title = "检索结果"
    ws.append([title])
    ws.append(header)
    for row in rows:
        ws.append(row)
        for cell in ws[ws.max_row]:
            if isinstance(cell.value, dt.date):
                cell.number_format = "yyyy-mm-dd"
    wb.properties.created = dt.datetime(2024, 5, 1, 10, 0, 0)
    wb.save(path)
    freeze_zip(path)


def freeze_zip(path: Path) -> None:
    """Fixed timestamps (save time, ZIP entry times) keep an XLSX byte-stable between runs."""
    with zipfile.ZipFile(path) as zf:
        entries = [(info.filename, zf.read(info)) for info in zf.infolist()]
    stamp = "2024-05-01T10:00:00Z"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in entries:
            if name == "docProps/core.xml":
                data = re.sub(rb"(<dcterms:modified[^>]*>)[^<]*", rb"\g<1>" + stamp.encode(), data)
            zf.writestr(zipfile.ZipInfo(name, date_time=(2024, 5, 1, 10, 0, 0)), data, zipfile.ZIP_DEFLATED)


def banner(n: int) -> list[str]:
    return [f"incoPat 科技创新情报平台 专利检索结果导出  导出时间：{EXPORT_DAY.isoformat()} 10:21:33",
            f"检索式：(TIAB=(无人机 OR 电池 OR 智能)) AND (AP-ADD=(重庆))  共 {n} 条"]


TINY_FILES = ("cn_tiny_synthetic_biblio_title_utf8bom.csv", "cn_tiny_synthetic_biblio_gbk.csv",
              "cn_tiny_synthetic_biblio_title.xlsx")
SAMPLE_FILES = ("cn_export_synthetic_biblio.csv", "cn_export_synthetic_biblio_gbk.csv",
                "cn_export_synthetic_biblio.xlsx")


def xlsx_title(n: int) -> str:
    return f"专利检索结果（共{n}条）  导出日期：{EXPORT_DAY.isoformat()}"


def build(out_dir: Path, text_source: Path = DEFAULT_TEXT, seed: int = SEED, *,
          samples: bool = False) -> dict[str, tuple[Path, list[dict]]]:
    """Write the files into ``out_dir``: file name -> (path, generated records)."""
    rng = random.Random(seed)
    texts = load_texts(Path(text_source))
    rng.shuffle(texts)
    gbk_texts = [t for t in texts if gbk_ok(t["title"], t["abstract"])]
    tiny, main = gbk_texts[:10], gbk_texts[10:310]
    gbk = gbk_texts[310:410]
    used = {t["title"] for t in gbk_texts[:410]}
    xlsx = [t for t in texts if t["title"] not in used][:100]

    reg = Registry(rng)
    taken: set = set()
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    out: dict[str, tuple[Path, list[dict]]] = {}

    def keep(name: str, recs: list[dict], write) -> None:
        if samples or name in TINY_FILES:
            path = out_dir / name
            write(path)
            out[name] = (path, recs)

    # The larger files: generated every time, because the ten rows below continue the
    # same random stream; written only when asked for.
    recs = make_records(main, rng, reg, taken)
    add_citations(recs, rng)
    add_status_and_events(recs, rng, reg)
    header, rows = table(recs, "incopat", rng, [";", ";", "；", "|"], excel=False,
                         keys=[k for k in COLUMNS if k != "citing"])
    keep(SAMPLE_FILES[0], recs, lambda p, h=header, r=rows: write_csv(
        p, h, r, encoding="utf-8-sig", title_rows=banner(len(r))))

    recs = make_records(gbk, rng, reg, taken)
    add_citations(recs, rng)
    add_status_and_events(recs, rng, reg)
    keys = [k for k in COLUMNS if k not in ("cited_count", "province", "city", "grant_date")]
    header, rows = table(recs, "mixed", rng, ["；", "；", "|"], excel=False, keys=keys)
    keep(SAMPLE_FILES[1], recs, lambda p, h=header, r=rows: write_csv(p, h, r, encoding="gb18030"))

    recs = make_records(xlsx, rng, reg, taken)
    add_citations(recs, rng)
    add_status_and_events(recs, rng, reg)
    header, rows = table(recs, "halfwidth", rng, [";", "；"], excel=True, keys=[k for k in COLUMNS if k != "citing"])
    keep(SAMPLE_FILES[2], recs, lambda p, h=header, r=rows: write_xlsx(p, h, r, xlsx_title(len(r))))

    # Tiny: the same 10 rows and cell values in the three forms; every feature present.
    recs = make_records(tiny, rng, reg, taken)
    add_citations(recs, rng)
    granted = [r["i"] for r in recs if r["granted"]]
    force = {granted[0]: ["转让", "转让"], granted[1]: ["质押"], granted[2]: ["许可"]}
    add_status_and_events(recs, rng, reg, force)
    keys = [k for k in COLUMNS if k != "citing"]
    state = rng.getstate()
    for style, name, excel in (("incopat", TINY_FILES[0], False), ("mixed", TINY_FILES[1], False),
                               ("halfwidth", TINY_FILES[2], True)):
        rng.setstate(state)  # same separators and date spellings in every form
        header, rows = table(recs, style, rng, [";", "；", "|"], excel=excel, keys=keys)
        if excel:
            keep(name, recs, lambda p, h=header, r=rows: write_xlsx(p, h, r, xlsx_title(len(r))))
        else:
            keep(name, recs, lambda p, h=header, r=rows, s=style: write_csv(
                p, h, r, encoding="gb18030" if s == "mixed" else "utf-8-sig",
                title_rows=[] if s == "mixed" else banner(len(r))[:1]))
    return out


def make_fixtures(out_dir: Path, text_source: Path = DEFAULT_TEXT, seed: int = SEED, *,
                  samples: bool = False) -> dict[str, Path]:
    """Write the Chinese export fixtures into ``out_dir`` and return file name -> path.

    ``text_source`` is KPPatent-ZH ``test_data_TAC.json`` (by default
    ``../shared/data/cn-text/test_data_TAC.json``), read at call time. Without ``samples``
    the three ten-row files (:data:`TINY_FILES`); with it also the three larger files
    (:data:`SAMPLE_FILES`). The same seed and input give byte-identical files.
    """
    return {name: path for name, (path, _) in build(out_dir, text_source, seed, samples=samples).items()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("out_dir", type=Path, help="folder to write the files into (created if missing)")
    ap.add_argument("--text", type=Path, default=DEFAULT_TEXT, help="KPPatent-ZH test_data_TAC.json")
    ap.add_argument("--seed", type=int, default=SEED)
    ap.add_argument("--samples", action="store_true", help="also write the three larger files")
    args = ap.parse_args()
    for name, (path, recs) in build(args.out_dir, args.text, args.seed, samples=args.samples).items():
        jb = sum(r["address"].find("江北区") >= 0 for r in recs)
        print(f"{path}: {len(recs)} rows, first applicant in 江北区: {jb}")


if __name__ == "__main__":
    main()
