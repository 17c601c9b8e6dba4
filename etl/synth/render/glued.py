"""Crawler text dumps like fj-pingtan-2021.page.txt: a metadata header, then the whole page body on one line
with every table cell boundary lost ('行政规范性文件693665')."""

from __future__ import annotations

from etl.synth.document import Document
from etl.synth.layout import Grid, table2, table3, table4


def _glue(grid: Grid) -> str:
    out = []
    for row in grid:
        for cell in row:
            # label cells sometimes keep the &nbsp; padding of the page ('规章 000'); digits never get a gap
            out.append(cell.text + (" " if cell.role == "label" and len(cell.text) % 3 == 0 else ""))
    return "".join(out)


def render(doc: Document) -> bytes:
    s, p = doc.spec, doc.printed
    tables = {"t2": table2(s.template, p), "t3": table3(s.template, p), "t4": table4(p)}
    title = doc.title or f"{s.issuer.name}{s.year}年政府信息公开工作年度报告"
    date = f"{s.year + 1}-0{doc.rng.randint(1, 3)}-{doc.rng.randint(10, 28)} {doc.rng.randint(8, 18)}:{doc.rng.randint(10, 59)}"
    doc_id = doc.rng.randint(10000, 99999)
    url = f"https://www.gov{s.issuer.adcode}.gov.cn/zwgk/zfxxgk/zfxxgknb/{s.year + 1}02/t{s.year + 1}0208_{doc_id}.htm"
    head = [
        f"标题: {title}",
        f"发布时间: {date}",
        "文号: ",
        "发布机构: ",
        "栏目: 政府信息公开年报",
        f"原文链接: {url}",
        f"本地目录: zwgk/zfxxgk/zfxxgknb/{s.year + 1}02/{doc_id}_{title}",
        "页面链接与图片详见 links.tsv(同目录)",
        "==================== 正文 ====================",
    ]
    body = [
        f"当前位置： 首页政务公开政府信息公开政府信息公开年报 {title} 来源：{s.issuer.name} 时间：{date} 微信 微博 QQ空间 "
    ]
    for kind, text in doc.blocks:
        if kind == "table":
            body.append(_glue(tables[text]))
        elif kind in ("p", "h"):
            body.append(p.label(text) + (" " if kind == "h" and text.startswith(("二", "四")) else ""))
    body.append(" 附件下载")
    return ("\n".join(head) + "\n" + "".join(body) + "\n").encode("utf-8")
