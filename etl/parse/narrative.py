"""Figures a report's narrative states in words ("共收到政府信息公开申请75件"), for checking against its tables.

Pure and conservative: a figure is taken only from a clear pattern, the number written in digits right
next to its keyword and followed by 件; a key whose matches disagree, or that speaks of last year, is
dropped rather than guessed. The parse stage stores them with the report; validation compares them with
the tables. What each key means (checked in etl.validate.rules):

    received         收到/受理…申请 N 件: 一 本年新收, or 一 + 二 上年结转 (reports use both readings)
    new_received     本年新收…申请 N 件: 一 本年新收 总计
    carried_over     上年(度)结转…N 件: 二 上年结转 总计
    carried_forward  结转下年度…N 件 / N 件结转下年度: 四 结转下年度继续办理 总计
    review           行政复议 N 件, in a sentence about 信息公开: 表四 行政复议 总计
    litigation       行政诉讼 N 件, in a sentence about 信息公开: 表四 行政诉讼 总计 (both blocks)
"""

from __future__ import annotations

import re

from etl.parse.rows import normalize

_N = r"(\d[\d,]*)件"
_OF_APPLICATIONS = r"(?:(?:政府信息公开|依申请公开|信息公开)?申请)"
PATTERNS: dict[str, tuple[re.Pattern[str], ...]] = {
    "received": (
        # 共收到政府信息公开申请75件 / 受理政府信息公开申请3119件 / 共收到依申请公开44件
        re.compile(
            rf"(?:收到|受理|接收)了?(?:各类)?(?:政府信息公开申请|依申请公开申请|依申请公开|申请)共?{_N}"
        ),
        # 本年度全区共收到70件申请
        re.compile(rf"(?:收到|受理|接收)了?{_N}{_OF_APPLICATIONS}"),
    ),
    "new_received": (re.compile(rf"新收{_OF_APPLICATIONS}共?{_N}"),),
    # 上年结转政府信息公开申请2件 / 含上年度结转申请34件
    "carried_over": (re.compile(rf"上一?年度?结转(?:的)?{_OF_APPLICATIONS}?{_N}"),),
    "carried_forward": (
        re.compile(rf"结转(?:至|到)?下一?年度(?:继续)?(?:办理)?(?:的)?{_OF_APPLICATIONS}?{_N}"),
        re.compile(rf"{_N}(?:申请)?结转(?:至|到)?下一?年度"),  # 1件结转下年度继续办理
    ),
    "review": (re.compile(rf"行政复议(?:案件|申请)?共?{_N}"),),
    "litigation": (re.compile(rf"行政诉讼(?:案件)?共?{_N}"),),
}
# A clause that speaks of last year states a figure of the wrong year; one that names a channel or an
# applicant kind states a part ("其中网络申请16件"), not the whole.
_OTHER_YEAR = re.compile(r"上年|去年|上一年|同比|较\d{4}年|比\d{4}年")
_PART_OF = re.compile(r"其中|通过|网络|网上|在线|信函|当面|现场|邮寄|邮件|传真|自然人|法人|企业|组织")
_WHOLE_COUNTS = frozenset({"received", "new_received"})
# 行政复议/行政诉讼 figures count only in a sentence about disclosure (not the government's whole caseload).
_ABOUT_DISCLOSURE = re.compile(r"信息公开|依申请")
_NEEDS_DISCLOSURE = frozenset({"review", "litigation"})
# "行政复议、提起行政诉讼案件共5件" counts both: the other keyword with no number between is a joint count.
_JOINT = {"review": "诉讼", "litigation": "复议"}
_SENTENCE = re.compile(r"[^。；;！？!?|]+")
_CLAUSE_END = "，,、：:（("
_WS = re.compile(r"\s+")


def _flatten(text: str) -> str:
    """NFKC, whitespace gone (PDF text spaces digits: '申请 3119 件'), lines joined: the patterns need no gaps."""
    return _WS.sub("", normalize(text))


def _clause_before(sentence: str, at: int) -> str:
    start = max((sentence.rfind(c, 0, at) for c in _CLAUSE_END), default=-1) + 1
    return sentence[start:at]


def _joint(key: str, sentence: str, at: int) -> bool:
    other = _JOINT.get(key)
    if other is None:
        return False
    since_number = re.split(r"\d", sentence[:at])[-1]
    return other in since_number


def stated_figures(text: str) -> dict[str, int]:
    """{key: N} for each figure the text states unambiguously (see the module doc for the keys)."""
    found: dict[str, set[int]] = {}
    for sentence in _SENTENCE.findall(_flatten(text)):
        if "件" not in sentence:  # every figure is "N件": most sentences (and table cells) are skipped here
            continue
        for key, patterns in PATTERNS.items():
            if key in _NEEDS_DISCLOSURE and not _ABOUT_DISCLOSURE.search(sentence):
                continue
            for pattern in patterns:
                for m in pattern.finditer(sentence):
                    context = _clause_before(sentence, m.start())
                    if key != "carried_over" and _OTHER_YEAR.search(context + m.group(0)):
                        continue
                    if key in _WHOLE_COUNTS and _PART_OF.search(context):
                        continue
                    if _joint(key, sentence, m.start()):
                        continue
                    found.setdefault(key, set()).add(int(m.group(1).replace(",", "")))
    return {key: values.pop() for key, values in found.items() if len(values) == 1}
