"""Mutations of real and generated reports: byte edits, splices and the tokens report text is made of
(labels, digits, separators, markup), so mutants stay close enough to reports to reach the table readers."""

from __future__ import annotations

import random

TOKENS: tuple[bytes, ...] = tuple(
    t.encode("utf-8")
    for t in (
        "政府信息公开",
        "本年新收",
        "上年结转",
        "总计",
        "合计",
        "表三",
        "表二",
        "表四",
        "（七）",
        "（三）",
        "予以公开",
        "部分公开",
        "不予公开",
        "维持",
        "纠正",
        "尚未审结",
        "万元",
        "件",
        "年度报告",
        "统计期限",
        "2021年",
        "2019年",
        "三、",
        "|",
        " | ",
        "\t",
        "\n",
        "\r\n",
        "\u3000",
        "-",
        "－",
        "—",
        "/",
        "0",
        "00",
        "9",
        "１２３",
        "999999999999999999999999",
        "-1",
        "1.5",
        "1e308",
        "NaN",
        "<table>",
        "</table>",
        "<tr>",
        "</tr>",
        "<td>",
        "</td>",
        '<td colspan="99999">',
        '<td rowspan="0">',
        "&#65297;",
        "&nbsp;",
        "<!--",
        "-->",
        "<![CDATA[",
        "<script>",
        "</script>",
        '<!DOCTYPE x [<!ENTITY a "b">]>',
        "&a;",
        "\x00",
        "\ufeff",
        "\ud7ff",
        "%PDF-1.7",
        "obj",
        "endobj",
        "stream",
        "endstream",
        "/Count 999999",
        "xref",
        "trailer",
        "<w:tbl>",
        "<w:tr>",
        "<w:tc>",
        '<w:gridSpan w:val="9999"/>',
        "<w:vMerge/>",
    )
)


class Mutator:
    def __init__(self, seeds: list[bytes], rng: random.Random) -> None:
        self.seeds = seeds
        self.rng = rng

    def __call__(self, data: bytes) -> bytes:
        buf = bytearray(data)
        for _ in range(self.rng.choice((1, 1, 2, 3, 5, 8))):
            self._one(buf)
        return bytes(buf)

    def _pos(self, buf: bytearray) -> int:
        return self.rng.randrange(len(buf) + 1)

    def _one(self, buf: bytearray) -> None:
        r, n = self.rng, len(buf)
        op = r.randrange(9)
        if op == 0 and n:  # flip a bit
            i = r.randrange(n)
            buf[i] ^= 1 << r.randrange(8)
        elif op == 1 and n:  # an interesting byte
            buf[r.randrange(n)] = r.choice(b"\x00\xff\x7f0123456789-|\n <>&;")
        elif op == 2 and n:  # delete a chunk
            i = r.randrange(n)
            del buf[i : i + r.choice((1, 4, 16, 256, 4096))]
        elif op == 3 and n:  # duplicate a chunk
            i = r.randrange(n)
            chunk = buf[i : i + r.choice((4, 64, 512, 4096))]
            j = self._pos(buf)
            buf[j:j] = chunk * r.choice((1, 2, 16))
        elif op in (4, 5):  # a token of report text or markup
            j = self._pos(buf)
            buf[j:j] = r.choice(TOKENS)
        elif op == 6 and n:  # change a digit (the figures are what the readers interpret)
            for _ in range(8):
                i = r.randrange(n)
                if 0x30 <= buf[i] <= 0x39:
                    buf[i] = r.choice(b"0123456789")
                    break
        elif op == 7 and self.seeds:  # splice with another seed
            other = r.choice(self.seeds)
            if other:
                a = r.randrange(len(other))
                j = self._pos(buf)
                buf[j:] = other[a : a + r.choice((64, 1024, 16384))] + buf[j:]
        elif op == 8 and n > 2:  # truncate
            del buf[r.randrange(n // 2, n) :]
