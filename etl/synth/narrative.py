"""The prose around the tables: title, 统计期限, the six numbered parts, and the scope cues a reader relies on.

Scope cues follow real reports: a whole-jurisdiction report says "全市共受理政府信息公开申请N件"; a government
on itself speaks of "本级"/"本镇" and never of 全市; a department says "本局"/"本部门".
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from etl.synth.places import Issuer, place_word

Block = tuple[str, str]  # (kind, text): title | date | h | p | table (text = t2 / t3 / t4)

_MANAGE = (
    "严格落实政府信息公开属性源头认定机制，坚持“先审查、后公开”和“一事一审”原则，规范信息发布审核流程，"
    "对已公开信息进行动态梳理，及时更新主动公开目录，确保公开信息准确、完整、及时。",
    "健全政府信息管理制度，规范公文公开属性认定，加强保密审查，定期清理过期信息，"
    "推动政府信息管理规范化、标准化。",
)
_PLATFORM = (
    "持续优化政府网站信息公开专栏，规范政务新媒体运维管理，做好政策文件集中公开，"
    "推动政务公开平台与政务服务平台融合发展。",
    "依托政府门户网站和政务新媒体，拓展公开渠道，加强网站日常监测，对更新不及时、栏目空白等问题及时整改。",
)
_OVERSIGHT = (
    "将政务公开工作纳入年度绩效考核，定期开展督查检查，组织业务培训，本年度未发生因政务公开工作"
    "被追究责任的情况。",
    "建立健全政务公开监督考核机制，主动接受社会评议，认真整改发现的问题。",
)
# Extra paragraphs of 总体情况: reports differ in length, so tables start and break at different places.
_EXTRA = (
    "围绕重点领域信息公开，及时发布财政预决算、重大建设项目、公共资源配置、社会公益事业建设等信息，"
    "主动回应社会关切，提升政府工作透明度。",
    "强化政策解读工作，坚持政策文件与解读材料同步起草、同步审签、同步发布，综合运用图表图解、"
    "视频动漫等形式，增强解读的针对性和可读性。",
    "畅通依申请公开渠道，规范受理、登记、办理、答复等环节，加强与申请人的沟通，提高答复质量和效率。",
    "加强政务新媒体管理，规范信息发布审核，及时关停更新缓慢、无力维护的账号，确保发布内容准确权威。",
    "推进基层政务公开标准化规范化建设，动态更新政务公开事项标准目录，推动公开内容覆盖权力运行全流程。",
    "做好重大行政决策预公开，通过听证会、座谈会、网上征求意见等方式广泛听取公众意见，并及时反馈采纳情况。",
)
_PROBLEMS = (
    "（一）存在的主要问题：政策解读形式还不够丰富，部分信息更新不够及时，工作人员业务能力有待提高。"
    "（二）改进措施：丰富解读形式，加强信息发布审核，加大业务培训力度，持续提升政务公开质量。",
    "一是公开内容的深度和广度有待拓展；二是依申请公开答复的规范化水平仍需提升。下一步将进一步"
    "完善工作机制，强化培训指导，推动政务公开工作提质增效。",
)
_FEES = (
    "本年度未收取政府信息公开信息处理费。",
    "依据《政府信息公开信息处理费管理办法》，本年度未收取信息处理费。无其他需要报告的事项。",
)


@dataclass(frozen=True)
class Voice:
    """How a report refers to its own issuer: 全市 (region), 本级 (a government), 本局 (an agency)."""

    subject: str  # who did the work: 全市各级行政机关 / 县政府本级 / 本局
    self_ref: str  # 我市 / 本级 / 本局


def voice(issuer: Issuer, scope: str) -> Voice:
    pw = place_word(issuer.jurisdiction)
    if scope == "region":
        return Voice(f"全{pw}各级行政机关", f"我{pw}")
    if issuer.kind == "town":
        word = (
            "本街道"
            if issuer.name.endswith("办事处")
            else ("本乡" if "乡人民政府" in issuer.name else "本镇")
        )
        return Voice(word, word)
    if issuer.kind == "gov":
        return Voice(f"{pw}政府本级", "本级政府")
    last = (issuer.dept or "")[-1:]
    word = f"本{last}" if last in "局委厅" else "本部门"
    return Voice(word, word)


def title(issuer: Issuer, year: int, rng: random.Random) -> str:
    forms = (
        f"{issuer.name}{year}年政府信息公开工作年度报告",
        f"{issuer.name}{year}年政府信息公开工作年度报告",
        f"{year}年{issuer.name}政府信息公开工作年度报告",
        f"{issuer.name}{year}年度政府信息公开工作年度报告",
    )
    return rng.choice(forms)


def compiler(issuer: Issuer) -> str:
    """Who compiles the report: a government's general office, or the issuer itself."""
    if issuer.kind == "gov":
        office = "办公厅" if issuer.level == "province" else "办公室"
        return issuer.name.replace("人民政府", "人民政府" + office).replace("行政公署", "行政公署办公室")
    return issuer.name


# -- headings (etl.synth.noise.HEADINGS): where and how the issuer is printed ------------------------------
_CRUMBS = (
    "首页 > 政务公开 > 政府信息公开 > 政府信息公开年报 > ",
    "当前位置：首页 > 政务公开 > 政府信息公开年报 > ",
    "首页政务公开政府信息公开年报",
    "您当前的位置：首页 » 信息公开 » 年度报告 » ",
    "正文",
)
_REPORT = "政府信息公开工作年度报告"
NAMED_BELOW = "\x00"  # (marker) the body's first paragraph names the unit instead of 本镇


def bare_name(issuer: Issuer) -> str:
    """A unit's or department's name without its county in front: 城关镇人民政府, 财政局 (a government's: its own)."""
    j = issuer.jurisdiction
    if issuer.kind != "gov" and issuer.name.startswith(j.name):
        return issuer.name[len(j.name) :]
    return issuer.name


def short_name(name: str) -> str:
    """How a township's own title often prints it: 城关镇人民政府 -> 城关镇, 妙高街道办事处 -> 妙高街道."""
    for full, short in (("镇人民政府", "镇"), ("乡人民政府", "乡"), ("街道办事处", "街道")):
        if name.endswith(full):
            return name[: -len(full)] + short
    return name


def _site(issuer: Issuer) -> str:
    """The site a report is published on: its county's (or its own place's) government."""
    return issuer.jurisdiction.name + (
        "行政公署" if issuer.jurisdiction.name.endswith(("地区", "盟")) else "人民政府"
    )


def parent_notice(issuer: Issuer, year: int) -> str:
    """The county's notice a unit's report cites: the parent's name and a year beside 年度报告."""
    return (
        f"本报告按照《{_site(issuer)}办公室关于做好{year}年度政府信息公开工作年度报告编制发布工作的通知》"
        "要求编制发布。"
    )


def heading_blocks(
    issuer: Issuer, year: int, heading: str, rng: random.Random
) -> tuple[list[Block], str | None]:
    """The heading lines of a report printed in heading class `heading`, and the intro it then opens with
    (None: the usual one)."""
    name, bare = issuer.name, bare_name(issuer)
    unit_form = rng.choice((bare, short_name(bare)))
    place = issuer.jurisdiction.name
    date = f"{year + 1}-0{rng.randint(1, 3)}-{rng.randint(10, 28)}"
    title = f"{name}{year}年{_REPORT}"
    if heading == "crumb":
        caption = f"发布时间：{date} 来源：{_site(issuer)} 浏览次数：{rng.randint(3, 900)}"
        crumb = rng.choice(_CRUMBS)
        if rng.random() < 0.5:
            return [("p", crumb + title), ("p", caption)], None
        return [("p", crumb.rstrip(" >»")), ("title", f"{title} {caption}")], None
    if heading == "two_line":
        if issuer.kind != "gov" and rng.random() < 0.6:  # place / unit+year
            return [("title", place), ("title", f"{unit_form}{year}年{_REPORT}")], None
        if rng.random() < 0.5:  # unit / year
            return [("title", name), ("title", f"{year}年{_REPORT}")], None
        return [("title", name), ("title", f"{year}年度"), ("title", _REPORT)], None
    if heading == "after_county":
        return [("title", f"{place} {unit_form} {year}年{_REPORT}")], None
    if heading == "unit_bare":
        return [("title", f"{unit_form}{year}年{_REPORT}")], None
    if heading == "year_first":
        form = rng.randrange(3)
        if form == 0:
            return [("title", f"{year}年度 {name} {_REPORT}")], None
        if form == 1:
            return [("title", f"{year}年{name}{_REPORT}")], None
        return [("title", f"{name}关于{year}年度政府信息公开工作的年度报告")], None
    if heading == "quoted":
        return [], f"按照《中华人民共和国政府信息公开条例》要求，现将《{title}》予以公布。"
    if heading == "body_only":
        period = f"本报告所列数据的统计期限为{year}年1月1日至{year}年12月31日"
        forms = [
            f"{name}根据《中华人民共和国政府信息公开条例》要求编制本报告。{period}。",
            f"{period}，由{name}负责编制。",
            f"本报告由{name}根据《中华人民共和国政府信息公开条例》编制。{period}。",
        ]
        if (
            issuer.kind == "town"
        ):  # named only where the body starts to speak (2022年，某某镇人民政府…), then 本镇
            forms.append(f"根据《中华人民共和国政府信息公开条例》规定编制本报告。{period}。" + NAMED_BELOW)
        return [], rng.choice(forms)
    raise ValueError(f"unknown heading class {heading!r}")


def blocks(
    issuer: Issuer,
    scope: str,
    year: int,
    values: dict,
    rng: random.Random,
    with_title: bool = True,
    heading: str | None = None,
    heading_rng: random.Random | None = None,
) -> tuple[list[Block], str]:
    """The document in reading order, and the scope evidence sentence. `heading` (etl.synth.noise.HEADINGS)
    prints the issuer in one of the heading classes, from its own random stream `heading_rng`."""
    v = voice(issuer, scope)
    new = values["t3.new_received.total"]
    handled = values["t3.total.total"]
    forward = values["t3.carried_forward.total"]
    published = rng.randint(20, 400) * (10 if scope == "region" else 1)
    reviews = values["t4.review.total"]
    suits = values["t4.litigation_direct.total"] + values["t4.litigation_after_review.total"]
    if scope == "region":
        evidence = f"{year}年，全{place_word(issuer.jurisdiction)}共受理政府信息公开申请{new}件"
        apply_text = (
            f"{evidence}，办结{handled}件，{forward}件结转下年度继续办理。"
            f"全年发生政府信息公开行政复议{reviews}件、行政诉讼{suits}件。"
        )
        active = f"{year}年，{v.subject}共主动公开政府信息{published}条，主要通过政府门户网站、政务新媒体等渠道公开。"
    else:
        evidence = f"{year}年，{v.subject}共收到政府信息公开申请{new}件"
        apply_text = f"{evidence}，均在法定期限内予以答复，{forward}件结转下年度继续办理。"
        active = (
            f"{year}年，{v.subject}通过门户网站主动公开政府信息{published}条，及时发布政策文件和工作动态。"
        )
    intro = (
        f"本报告由{compiler(issuer)}根据《中华人民共和国政府信息公开条例》（以下简称《条例》）"
        f"和有关文件要求编制。本报告所列数据的统计期限为{year}年1月1日至{year}年12月31日。"
        "如对本报告有疑问，请与政务公开工作机构联系。"
    )
    out: list[Block] = []
    if heading:
        head, opening = heading_blocks(issuer, year, heading, heading_rng or random.Random(0))
        out += head
        if opening and heading == "body_only":
            intro = opening.replace(NAMED_BELOW, "")
            if NAMED_BELOW in opening:
                v = Voice(v.subject, issuer.name)
        elif opening:
            out.append(("p", opening))
        if issuer.kind != "gov":  # a unit cites its county's notice: the parent named beside a report year
            intro += parent_notice(issuer, year)
    elif with_title:
        out.append(("title", title(issuer, year, rng)))
        out.append(("date", f"发布日期：{year + 1}-0{rng.randint(1, 3)}-{rng.randint(10, 28)}"))
    out += [
        ("p", intro),
        ("h", "一、总体情况"),
        ("p", f"{year}年，{v.self_ref}深入贯彻落实《条例》各项规定，扎实推进政务公开工作。"),
        ("p", "（一）主动公开。" + active),
        ("p", "（二）依申请公开。" + apply_text),
        ("p", "（三）政府信息管理。" + rng.choice(_MANAGE)),
        ("p", "（四）政府信息公开平台建设。" + rng.choice(_PLATFORM)),
        ("p", "（五）监督保障。" + rng.choice(_OVERSIGHT)),
        *(("p", x) for x in rng.sample(_EXTRA, k=rng.randint(0, 4))),
        ("h", "二、主动公开政府信息情况"),
        ("table", "t2"),
        ("h", "三、收到和处理政府信息公开申请情况"),
        ("table", "t3"),
        ("h", "四、政府信息公开行政复议、行政诉讼情况"),
        ("table", "t4"),
        ("h", "五、存在的主要问题及改进情况"),
        ("p", rng.choice(_PROBLEMS)),
        ("h", "六、其他需要报告的事项"),
        ("p", rng.choice(_FEES)),
    ]
    return out, evidence
