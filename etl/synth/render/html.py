"""HTML pages in the two layouts of the real corpus.

- editor (fj-pingtan-2022.page.html): a site page with navigation, scripts and footer around a TRS_Editor
  body whose tables are Word exports (MsoNormalTable): styled <td>s, numbers inside nested <span>s (a number
  sometimes split over two spans), &nbsp; padding and blanks, header words split over two <p>s;
- portal (sh-shanghai-govoffice-2019.html): a bare page, <table border=1>, <p align=center> cells, &nbsp;
  for blank cells.
About one page in five is GBK-encoded with the charset declared in a <meta>.
"""

from __future__ import annotations

import random
from html import escape

from etl.synth.document import Document
from etl.synth.layout import Grid, LCell, grids

_SPAN = "font-family:仿宋_GB2312;font-size:10.5pt"
_NAV = ("首页", "要闻动态", "政务公开", "政务服务", "互动交流", "走进本地")


def _attrs(cell: LCell) -> str:
    out = ""
    if cell.colspan > 1:
        out += f' colspan="{cell.colspan}"'
    if cell.rowspan > 1:
        out += f' rowspan="{cell.rowspan}"'
    return out


def _word_text(cell: LCell, rng: random.Random) -> str:
    """A cell's content as Word exports it."""
    text = cell.text
    if cell.role == "value":
        if not text:
            return "<p class=MsoNormal align=center><span>&nbsp;</span></p>"
        if len(text) > 1 and text.isdigit() and rng.random() < 0.3:  # 12 -> <span>1</span><span>2</span>
            k = rng.randint(1, len(text) - 1)
            inner = f"<span>{escape(text[:k])}</span><span>{escape(text[k:])}</span>"
        else:
            inner = escape(text)
        pad = "&nbsp;" if rng.random() < 0.2 else ""
        return f'<p class=MsoNormal align=center><span style="{_SPAN}">{pad}<span>{inner}</span>{pad}</span><span></span></p>'
    if cell.role == "head" and len(text) == 4 and rng.random() < 0.5:  # 商业企业 -> 商业 / 企业
        return "".join(
            f'<p class=MsoNormal align=center><span style="{_SPAN}">{escape(x)}</span></p>'
            for x in (text[:2], text[2:])
        )
    return f'<p class=MsoNormal><span style="{_SPAN}">{escape(text)}</span><span>&nbsp;</span></p>'


def _editor_table(grid: Grid, rng: random.Random) -> str:
    rows = []
    for i, row in enumerate(grid):
        tds = "".join(
            f'<td width="{60 * c.colspan}" valign="center"{_attrs(c)}>{_word_text(c, rng)}</td>' for c in row
        )
        first = ' class="firstRow"' if i == 0 else ""
        rows.append(f'<tr style="height:20.5000pt;"{first}>{tds}</tr>')
    return (
        '<table class="MsoNormalTable" border="1" cellspacing="0" style="border-collapse:collapse;'
        'width:434.9500pt;border:none;mso-border-insideh:0.5000pt solid windowtext;">'
        f"<tbody>{''.join(rows)}</tbody></table>"
    )


def _portal_table(grid: Grid) -> str:
    rows = []
    for row in grid:
        tds = []
        for c in row:
            text = escape(c.text) if c.text else "&nbsp;"
            align = ' align="center"' if c.role != "label" else ""
            tds.append(f'<td nowrap="nowrap"{_attrs(c)}><p{align}>{text}</p></td>')
        rows.append(f"<tr>{''.join(tds)}</tr>")
    return f'<table align="center" border="1" cellspacing="1"><tbody>{"".join(rows)}</tbody></table>'


def render(doc: Document) -> bytes:
    s, p, rng = doc.spec, doc.printed, doc.rng
    editor = rng.random() < 0.6
    encoding = "gbk" if rng.random() < 0.2 else "utf-8"
    tables = grids(s.template, p)  # (with the report's layout classes, etl.synth.noise.GRID_LAYOUTS)
    title = doc.title or f"{s.issuer.name}{s.year}年政府信息公开工作年度报告"
    body = []
    for kind, text in doc.blocks:
        if kind == "table":
            body.append(_editor_table(tables[text], rng) if editor else _portal_table(tables[text]))
        elif kind in ("title", "date") and editor:
            continue  # the page template prints the title above the editor body
        elif kind == "title":
            body.append(f"<p style='text-align: center;font-weight: bold;'>{escape(text)}</p>")
        elif kind == "date":
            body.append(f"<p style='text-align: center'>{escape(text)}</p>")
        else:
            text = p.label(text) if kind == "h" else text
            if editor:
                body.append(
                    f'<p><span style="font-size: 16px;"><span style="white-space:pre">\t</span>{escape(text)}</span></p>'
                )
            else:
                body.append(f"<p>{escape(text)}</p>")
    charset = (
        '<meta http-equiv="Content-Type" content="text/html; charset=gbk" />'
        if encoding == "gbk"
        else '<meta charset="utf-8" />'
    )
    if editor:
        page = _editor_page(doc, title, charset, "".join(body))
    else:
        page = f"<!DOCTYPE html>\n<html><head>{charset}<title>{escape(title)}</title></head><body>\n{''.join(body)}\n</body></html>\n"
    return page.encode(encoding, errors="xmlcharrefreplace")


def _editor_page(doc: Document, title: str, charset: str, body: str) -> str:
    s = doc.spec
    site = s.issuer.jurisdiction.name + "人民政府"
    nav = "".join(f'<li><a href="/{i}/">{x}</a></li>' for i, x in enumerate(_NAV))
    return f"""<!DOCTYPE html>
<html>
  <head>
    {charset}
    <meta name="viewport" content="width=device-width, initial-scale=1.0" />
    <meta name="SiteName" content="{escape(site)}"/>
    <meta name="ColumnName" content="政府信息公开年报"/>
    <meta name="ArticleTitle" content="{escape(title)}"/>
    <meta name="PubDate" content="{s.year + 1}-02-{doc.rng.randint(10, 28)} 15:07"/>
    <title>{escape(title)}_政府信息公开年报_{escape(site)}</title>
    <link rel="stylesheet" type="text/css" href="/images/common.css">
    <script type="text/javascript" src="/js/jquery.min.js"></script>
    <script>var _hmt = _hmt || []; (function() {{ var hm = document.createElement("script"); }})();</script>
  </head>
  <body>
    <div class="header"><div class="logo">{escape(site)}</div><ul class="nav">{nav}</ul>
      <div class="search"><input type="text" placeholder="请输入关键词"/><button>搜索</button></div></div>
    <div class="crumb">当前位置：<a href="/">首页</a> &gt; <a href="/zwgk/">政务公开</a> &gt; 政府信息公开年报</div>
    <div class="article">
      <h1 class="article_title">{escape(title)}</h1>
      <div class="article_info">来源：{escape(s.issuer.name)} 时间：{s.year + 1}-02-{doc.rng.randint(10, 28)} 字体：[大 中 小]</div>
      <div class="article_content"><div class=TRS_Editor>{body}</div></div>
      <div class="share">分享到： 微信 微博 QQ空间 打印本页 关闭窗口</div>
    </div>
    <div class="footer"><p>主办单位：{escape(site)}办公室 网站标识码：{s.issuer.adcode}0001</p>
      <p>ICP备案号：ICP备{doc.rng.randint(10000000, 99999999)}号</p></div>
    <script type="text/javascript">$(function() {{ $(".nav li").hover(function() {{ $(this).addClass("on"); }}); }});</script>
  </body>
</html>
"""
