"""The synthetic corpus generator (etl.synth): deterministic, labels exact, overlap present, every format
renders and reads back."""

from __future__ import annotations

import io
import json
import random
import re
import zipfile
from pathlib import Path

import pytest

from etl.spec import APPLICANT_COLUMNS, T4_BLOCKS, T4_COLUMNS, cells, codes, t3_outcome_rows, t3_rows
from etl.synth import glued
from etl.synth.corpus import SAMPLE_DIR, overlaps, write_cells, write_corpus
from etl.synth.document import build, label
from etl.synth.model import FORMATS, Config, iter_reports, series
from etl.synth.places import contains, issuers, jurisdictions
from etl.synth.render import render

APPLICANTS = [c for c in APPLICANT_COLUMNS if c != "total"]


def _broken(template: str, v: dict, last_forward: dict | None) -> set[str]:
    """The table rules written out again from the spec, independently of etl.synth.checks."""
    out = set()
    for r in t3_rows(template):
        if sum(v[f"t3.{r}.{c}"] for c in APPLICANTS) != v[f"t3.{r}.total"]:
            out.add(f"t3.row_total.{r}")
    for c in APPLICANT_COLUMNS:
        if sum(v[f"t3.{r}.{c}"] for r in t3_outcome_rows(template)) != v[f"t3.total.{c}"]:
            out.add(f"t3.col_outcomes.{c}")
        if (
            v[f"t3.new_received.{c}"] + v[f"t3.carried_over.{c}"]
            != v[f"t3.total.{c}"] + v[f"t3.carried_forward.{c}"]
        ):
            out.add(f"t3.col_balance.{c}")
        if last_forward is not None and v[f"t3.carried_over.{c}"] != last_forward[c]:
            out.add(f"xyear.carry_over.{c}")
    for b in T4_BLOCKS:
        if sum(v[f"t4.{b}.{c}"] for c in T4_COLUMNS[:-1]) != v[f"t4.{b}.total"]:
            out.add(f"t4.block_total.{b}")
    for cell in cells(template):
        x = v[cell.code]
        if cell.code.endswith(".amount"):
            bad, family = x < 0, "cell.non_negative"
        elif "可为负" in cell.unit:
            bad, family = x != int(x), "cell.integer"
        else:
            bad, family = x < 0 or x != int(x), "cell.non_negative_integer"
        if bad:
            out.add(family)
    return out


@pytest.fixture(scope="module")
def specs():
    return list(iter_reports(1500, Config(seed=11, violation_rate=0.3)))


def test_labels_break_exactly_the_listed_rules(specs):
    last: dict[str, object] = {}  # an issuer's series is contiguous and in year order in the stream
    for s in specs:
        prev = last.get(s.issuer.key)
        forward = {c: prev.cells[f"t3.carried_forward.{c}"] for c in APPLICANT_COLUMNS} if prev else None
        assert prev is None or prev.year == s.year - 1
        assert {v["rule_id"] for v in s.violations} == _broken(s.template, s.cells, forward), s.stem
        assert (s.injected is None) == (not s.violations), s.stem
        last[s.issuer.key] = s
    classes = {s.injected for s in specs}
    assert classes >= {"row_total", "col_outcomes", "col_balance", "t4_block", "negative", "carry_over"}


def test_clean_values_keep_the_validator_warnings(specs):
    """By construction, not only the blocking rules hold: 本年制发 <= 现行有效 + 本年废止, last year's 现行有效
    carries on, no fivefold jumps in applications, 规章 only from provincial and city governments."""
    last: dict[str, object] = {}
    for s in specs:
        v, prev = s.cells, last.get(s.issuer.key)
        if s.template == "2021":
            for row in ("regulation", "normative_document"):
                assert v[f"t2.{row}.issued"] <= v[f"t2.{row}.in_force"] + v[f"t2.{row}.repealed"]
                if prev is not None and prev.year == s.year - 1 and prev.template == "2021":
                    before = prev.cells[f"t2.{row}.in_force"]
                    assert before + v[f"t2.{row}.issued"] == v[f"t2.{row}.in_force"] + v[f"t2.{row}.repealed"]
        made = v["t2.regulation.issued" if s.template == "2021" else "t2.regulation.produced"]
        if made:
            assert s.issuer.kind == "gov" and s.issuer.level in ("province", "city"), s.stem
        if prev is not None and prev.year == s.year - 1 and not s.injected and not prev.injected:
            a, b = prev.cells["t3.new_received.total"], v["t3.new_received.total"]
            if min(a, b) >= 20:
                assert max(a, b) <= 5 * min(a, b), s.stem
        last[s.issuer.key] = s


def test_labels_have_every_template_code(specs):
    for s in specs[:200]:
        assert list(s.cells) == list(codes(s.template))
        # the year's template, unless a 2019/2020 report is printed on the 2021 form (layout form_2021)
        on_new_form = s.year < 2021 and "form_2021" in s.layouts
        assert s.template == ("2019" if s.year < 2021 and not on_new_form else "2021")
    assert any("form_2021" in s.layouts for s in specs)


def test_overlap_region_report_beside_reports_inside_it(specs):
    pairs = overlaps(specs)
    assert pairs
    by_stem = {s.stem: s for s in specs}
    levels = {(by_stem[a].issuer.level, by_stem[b].issuer.level) for a, b in pairs}
    assert ("city", "county") in levels
    assert all(contains(by_stem[a].issuer.adcode, by_stem[b].issuer.adcode) for a, b in pairs)


def test_series_carry_over_and_pinned_break():
    county = next(j for j in jurisdictions().values() if j.level == "county")
    gov = issuers(county)[0]
    reports = list(series(gov, Config(seed=5, violation_rate=0.0), pin=True))
    assert [r.year for r in reports] == [2021, 2022, 2023]
    assert not reports[1].violations
    assert reports[2].injected == "carry_over"
    assert {v["rule_id"] for v in reports[2].violations} <= {
        f"xyear.carry_over.{c}" for c in APPLICANT_COLUMNS
    }
    assert reports[2].violations


def test_same_seed_same_bytes(tmp_path: Path):
    cfg = Config(seed=3, noise_rate=0.6, violation_rate=0.2)
    write_corpus(12, cfg, tmp_path / "a")
    write_corpus(12, cfg, tmp_path / "b")
    files_a = sorted(p.relative_to(tmp_path / "a") for p in (tmp_path / "a").rglob("*") if p.is_file())
    files_b = sorted(p.relative_to(tmp_path / "b") for p in (tmp_path / "b").rglob("*") if p.is_file())
    assert files_a == files_b and len(files_a) == 24
    for rel in files_a:
        assert (tmp_path / "a" / rel).read_bytes() == (tmp_path / "b" / rel).read_bytes(), rel
    other = list(iter_reports(12, Config(seed=4)))
    assert [s.stem for s in other] != [s.stem for s in iter_reports(12, cfg)]


def _one_per_format() -> list:
    out = []
    for fmt in FORMATS:
        cfg = Config(seed=8, formats=(fmt,), noise_rate=0.0)
        out.append(next(s for s in iter_reports(40, cfg) if s.cells["t3.new_received.total"] >= 3))
    return out


@pytest.mark.parametrize("spec", _one_per_format(), ids=FORMATS)
def test_every_format_renders_and_reads_back(spec):
    doc = build(spec)
    data = render(doc)
    if spec.file_format == "pdf":
        import pypdfium2

        pdf = pypdfium2.PdfDocument(data)
        text = "".join(pdf[i].get_textpage().get_text_range() for i in range(len(pdf)))
        assert len(pdf) >= 2 and "- 2 -" in text
    elif spec.file_format == "docx":
        import docx

        word = docx.Document(io.BytesIO(data))
        assert len(word.tables) == 3
        text = "\n".join(p.text for p in word.paragraphs)
        text += "\n".join(c.text for t in word.tables for row in t.rows for c in row.cells)
        assert zipfile.ZipFile(io.BytesIO(data)).infolist()[0].date_time == (2000, 1, 1, 0, 0, 0)
    else:
        text = data.decode("gb18030" if b"charset=gbk" in data[:2000] else "utf-8")
        text = re.sub(r"<[^>]+>", "", text)  # Word-export HTML splits numbers over <span>s
    squashed = text.replace("\n", "").replace(" ", "")
    assert spec.issuer.name in squashed
    for code in ("t3.new_received.total", "t3.total.total", "t4.review.total"):
        assert str(spec.cells[code]) in text
    assert "本年新收政府信息公开申请数量" in squashed


def test_noise_is_labelled():
    seen_blank = seen_spam = False
    for s in iter_reports(300, Config(seed=9, noise_rate=1.0, formats=("text",))):
        doc = build(s)
        lab = label(doc)
        for code in lab["blank_cells"]:
            assert lab["cells"][code] == 0 and doc.printed.text[code] in ("", "/", "-", "—", "无")
        seen_blank |= bool(lab["blank_cells"])
        seen_spam |= "365bet" in render(doc).decode()
    assert seen_blank and seen_spam


def test_glued_splits_and_unresolvable():
    assert len(list(glued.splits("898989", ["int"] * 3))) > 1
    assert list(glued.splits("000", ["int"] * 3)) == [(0, 0, 0)]
    # pingtan 2021: 64/0/0/2/0/4/70 is the only split of its row whose six columns add up to the total
    ok = [s for s in glued.splits("640020470", ["int"] * 7) if sum(s[:6]) == s[6]]
    assert ok == [(64, 0, 0, 2, 0, 4, 70)]
    found = False
    for s in iter_reports(200, Config(seed=2, formats=("glued",))):
        lab = label(build(s))
        assert set(lab["unresolvable_cells"]) <= set(lab["cells"])
        found |= any(c.startswith("t2.") for c in lab["unresolvable_cells"])
    assert found


def test_blank_marks_never_stand_for_a_total_of_printed_parts():
    """A total printed blank beside non-zero parts is read as left unfilled (derived from its parts), so the
    generator never prints a zero total that way: a violation that zeroes a total must stay visible."""
    parts_of = {}
    for template in ("2021", "2019"):
        for r in t3_rows(template):
            parts_of[f"t3.{r}.total"] = [f"t3.{r}.{c}" for c in APPLICANTS]
        for c in APPLICANT_COLUMNS:
            parts_of[f"t3.total.{c}"] = [f"t3.{r}.{c}" for r in t3_outcome_rows(template)]
        for b in T4_BLOCKS:
            parts_of[f"t4.{b}.total"] = [f"t4.{b}.{c}" for c in T4_COLUMNS[:-1]]
    checked = 0
    cfg = Config(seed=5, noise_rate=1.0, violation_rate=0.5, formats=("text", "html"))
    for s in iter_reports(400, cfg):
        lab = label(build(s))
        for code in lab["blank_cells"]:
            parts = parts_of.get(code)
            if parts and all(p in lab["cells"] for p in parts):
                checked += 1
                assert not any(lab["cells"][p] for p in parts), code
    assert checked


def test_glued_violations_mark_rows_split_several_ways_uncertain():
    seen = False
    for s in iter_reports(600, Config(seed=3, violation_rate=1.0, formats=("glued",))):
        lab = label(build(s))
        broken = {v["rule_id"] for v in lab["violations"]}
        if not any(r.startswith(("t3.", "t4.")) for r in broken):
            assert lab["uncertain_cells"] == []
            continue
        doc = build(s)
        for code in lab["uncertain_cells"]:
            row = [c for c in lab["cells"] if c.rsplit(".", 1)[0] == code.rsplit(".", 1)[0]]
            if code.startswith("t4."):
                row = [c for c in lab["cells"] if c.startswith("t4.")]
            run = glued.run_text([doc.printed.text[c] for c in row])
            assert len(list(glued.splits(run, ["int"] * len(row)))) > 1
        assert not set(lab["uncertain_cells"]) & set(lab["unresolvable_cells"])
        seen |= bool(lab["uncertain_cells"])
    assert seen


def test_cells_only_parquet(tmp_path: Path):
    import pyarrow.dataset as ds

    stats = write_cells(150, Config(seed=1), tmp_path, batch=40)
    table = ds.dataset(tmp_path / "cells", partitioning="hive").to_table()
    reports = ds.dataset(tmp_path / "reports", partitioning="hive").to_table()
    assert reports.num_rows == stats["reports"] == 150
    assert table.num_rows == stats["cells"]
    sample = random.Random(0).sample(list(iter_reports(150, Config(seed=1))), 3)
    rows = table.to_pylist()
    for s in sample:
        from etl.synth.corpus import synthetic_report_id

        mine = {r["code"]: r["value"] for r in rows if r["report_id"] == synthetic_report_id(s.stem)}
        assert mine == {c: float(v) for c, v in s.cells.items()}


def test_rule_ids_match_the_validator_catalogue():
    rules = pytest.importorskip("etl.validate.rules")
    from etl.synth.checks import families, sum_rules

    for template in ("2019", "2021"):
        catalogue = {r.rule_id: r for r in rules.rules(template)}
        for rule_id, parts, totals in sum_rules(template):
            assert (catalogue[rule_id].parts, catalogue[rule_id].totals) == (parts, totals)
        for family, members in families(template):
            assert catalogue[family].cells == members
    if hasattr(rules, "crossyear_rules"):
        ids = {r.rule_id for r in rules.crossyear_rules()}
        assert {f"xyear.carry_over.{c}" for c in APPLICANT_COLUMNS} <= ids


def test_bundled_sample():
    labels = [json.loads(p.read_text(encoding="utf-8")) for p in SAMPLE_DIR.rglob("*.expected.json")]
    if not labels:
        pytest.skip("sample not generated (python -m etl.synth --sample)")
    assert 250 <= len(labels) <= 350
    assert {lab["file_format"] for lab in labels} == set(FORMATS)
    assert {lab["level"] for lab in labels} == {"province", "city", "county", "township"}
    assert len({lab["province"] for lab in labels}) >= 4
    assert 0.03 <= sum(1 for lab in labels if lab["violations"]) / len(labels) <= 0.08
    assert any(v["rule_id"].startswith("xyear.") for lab in labels for v in lab["violations"])
    for lab in labels:
        assert (SAMPLE_DIR / lab["adcode"][:2] / lab["file"]).is_file()
    assert sum(p.stat().st_size for p in SAMPLE_DIR.rglob("*") if p.is_file()) < 12_000_000


def test_districts_named_with_a_common_word_carry_their_city():
    j = jurisdictions()["140303"]  # 阳泉市矿区
    assert j.name == "阳泉市矿区"
