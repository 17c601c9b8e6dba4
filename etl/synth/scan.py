"""Scanned renderings of labelled PDFs: test data for OCR (etl.parse.scan), made on the fly, never committed.

Each labelled PDF is rendered to page images and degraded as a scanner or a phone does it (resolution, a slight
rotation, blur, sensor noise and JPEG artefacts, a red seal stamped over a table), then rebuilt as an
image-only PDF (or a PNG / JPEG of the pages one under the other); its label is copied beside it with the new
file name, so `etl.accuracy` scores the rendering against the original's cells.

    python -m etl.synth.scan --out var/scanned [--limit N] [SRC_DIR ...]
"""

from __future__ import annotations

import argparse
import io
import json
import math
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from etl.config import PROJECT_ROOT


@dataclass(frozen=True)
class Variant:
    name: str
    dpi: int
    rotate: float = 0.0  # degrees
    blur: float = 0.0  # Gaussian radius in pixels
    noise: float = 0.0  # standard deviation of the grey noise
    jpeg: int | None = None  # JPEG quality of the page images
    stamp: bool = False  # a red seal over the first table
    container: str = "pdf"  # pdf | png | jpg (an image file holds the pages one under the other)


VARIANTS = (
    Variant("scan200", 200),
    Variant("scan200-noisy", 200, rotate=0.7, blur=0.8, noise=8.0, jpeg=60),
    Variant("scan200-stamp", 200, rotate=-0.4, stamp=True, jpeg=80),
    Variant("scan150", 150, rotate=0.3, jpeg=75),
    Variant("photo200", 200, rotate=-0.6, blur=0.6, noise=5.0, container="jpg", jpeg=80),
    Variant("image200", 200, container="png"),
)
# generated reports are many: two variants each keep the set varied and small
GENERATED_VARIANTS = ("scan200", "scan200-noisy")


def render_pages(pdf_bytes: bytes, dpi: int) -> list[Image.Image]:
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument(pdf_bytes)
    try:
        return [pdf[i].render(scale=dpi / 72).to_pil().convert("RGB") for i in range(len(pdf))]
    finally:
        pdf.close()


def _stamp(img: Image.Image, rng: np.random.Generator, dpi: int) -> Image.Image:
    """A red seal (ring, star, arc of text-like marks) multiplied over the page where its ink is densest."""
    rules = np.flatnonzero((np.asarray(img.convert("L").reduce(4)) < 230).mean(axis=1) > 0.5)
    cy = int(np.median(rules)) * 4 if len(rules) else img.size[1] // 2  # the middle of the ruled rows
    w = img.size[0]
    cx = int(w * rng.uniform(0.45, 0.7))
    r = int(0.75 * dpi)  # a 4 cm seal
    seal = Image.new("RGB", img.size, (255, 255, 255))
    d = ImageDraw.Draw(seal)
    red = (225, 40, 40)
    d.ellipse((cx - r, cy - r, cx + r, cy + r), outline=red, width=max(4, r // 18))
    star = [
        (
            cx + 0.3 * r * math.cos(math.pi / 2 + k * math.pi / 5) * (1 if k % 2 == 0 else 0.4),
            cy - 0.3 * r * math.sin(math.pi / 2 + k * math.pi / 5) * (1 if k % 2 == 0 else 0.4),
        )
        for k in range(10)
    ]
    d.polygon(star, fill=red)
    for k in range(14):  # the issuer's name around the ring, as blocks
        a = math.pi * (0.15 + 0.7 * k / 13)
        x, y = cx - 0.72 * r * math.cos(a), cy - 0.72 * r * math.sin(a)
        d.rectangle((x - r * 0.07, y - r * 0.07, x + r * 0.07, y + r * 0.07), fill=red)
    out = np.asarray(img).astype(np.float32) * np.asarray(seal).astype(np.float32) / 255
    return Image.fromarray(out.astype(np.uint8))


def degrade(img: Image.Image, v: Variant, rng: np.random.Generator, stamp: bool = False) -> Image.Image:
    if stamp:
        img = _stamp(img, rng, v.dpi)
    if v.rotate:
        img = img.rotate(v.rotate, resample=Image.BICUBIC, fillcolor=(255, 255, 255))
    if v.blur:
        img = img.filter(ImageFilter.GaussianBlur(v.blur))
    if v.noise:
        a = np.asarray(img).astype(np.float32) + rng.normal(0, v.noise, (img.size[1], img.size[0], 1))
        img = Image.fromarray(np.clip(a, 0, 255).astype(np.uint8))
    if v.jpeg:
        buf = io.BytesIO()
        img.save(buf, format="JPEG", quality=v.jpeg)
        img = Image.open(io.BytesIO(buf.getvalue())).convert("RGB")
    return img


def _table_page(pages: list[Image.Image]) -> int:
    """The page with the most long dark rows (ruling lines): where the seal goes."""

    def lines(p: Image.Image) -> int:
        a = np.asarray(p.convert("L").reduce(4)) < 230  # a thin rule stays visible once reduced
        return int((a.mean(axis=1) > 0.5).sum())

    return max(range(len(pages)), key=lambda i: lines(pages[i]))


def scanned(pdf_bytes: bytes, v: Variant, seed: int = 0) -> bytes:
    """The bytes of one rendering of a PDF."""
    rng = np.random.default_rng(seed)
    pages = render_pages(pdf_bytes, v.dpi)
    seal_at = _table_page(pages) if v.stamp else -1
    pages = [degrade(p, v, rng, stamp=i == seal_at) for i, p in enumerate(pages)]
    buf = io.BytesIO()
    if v.container == "pdf":
        pages[0].save(buf, format="PDF", save_all=True, append_images=pages[1:], resolution=v.dpi, quality=90)
    else:
        tall = Image.new("RGB", (max(p.size[0] for p in pages), sum(p.size[1] for p in pages)), "white")
        y = 0
        for p in pages:
            tall.paste(p, (0, y))
            y += p.size[1]
        fmt = "PNG" if v.container == "png" else "JPEG"
        tall.save(buf, format=fmt, dpi=(v.dpi, v.dpi), **({"quality": v.jpeg or 85} if fmt == "JPEG" else {}))
    return buf.getvalue()


def has_cjk_font() -> bool:
    """Whether a Chinese font is installed: the generated PDFs use reportlab's non-embedded STSong-Light, which
    pdfium renders with a system font (Debian's fonts-noto-cjk), or not at all."""
    import shutil
    import subprocess

    if not shutil.which("fc-list"):
        return False
    return bool(subprocess.run(["fc-list", ":lang=zh"], capture_output=True, text=True).stdout.strip())


def sources(dirs: list[Path], limit_generated: int) -> list[tuple[Path, dict, bool]]:
    """(pdf, label, is_real) for the labelled PDFs of the folders; at most `limit_generated` of the generated."""
    out = []
    for d in dirs:
        real = "generated" not in d.parts
        found = []
        for label_path in sorted(d.rglob("*.expected.json")):
            label = json.loads(label_path.read_text(encoding="utf-8"))
            pdf = label_path.parent / label.get("file", "")
            if pdf.suffix.lower() == ".pdf" and pdf.exists():
                found.append((pdf, label, real))
        if not real and not has_cjk_font():
            print(
                f"skipping generated PDFs in {d}: no CJK font to render them (fonts-noto-cjk)",
                file=sys.stderr,
            )
            continue
        out += found if real else found[:limit_generated]
    return out


def build(
    out: Path, dirs: list[Path], limit_generated: int = 6, variants: tuple[str, ...] | None = None
) -> list[Path]:
    """Write every rendering with its label into `out`; the label paths."""
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for k, (pdf, label, real) in enumerate(sources(dirs, limit_generated)):
        names = variants or (tuple(v.name for v in VARIANTS) if real else GENERATED_VARIANTS)
        for v in (v for v in VARIANTS if v.name in names):
            name = f"{pdf.stem}.{v.name}.{v.container}"
            target = out / name
            if not target.exists():
                target.write_bytes(scanned(pdf.read_bytes(), v, seed=k))
            lab = dict(label, file=name, scanned_from=pdf.name, variant=v.name)
            path = out / f"{pdf.stem}.{v.name}.expected.json"
            path.write_text(json.dumps(lab, ensure_ascii=False, indent=1), encoding="utf-8")
            written.append(path)
    return written


DEFAULT_SOURCES = (
    PROJECT_ROOT.parent / "shared" / "corpus" / "real",
    PROJECT_ROOT / "sample" / "landing" / "generated",
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m etl.synth.scan", description=__doc__)
    parser.add_argument("sources", nargs="*", type=Path, default=list(DEFAULT_SOURCES))
    parser.add_argument("--out", type=Path, default=PROJECT_ROOT / "var" / "scanned")
    parser.add_argument("--limit", type=int, default=6, help="generated PDFs rendered (all real ones are)")
    args = parser.parse_args(argv)
    written = build(args.out, args.sources, args.limit)
    print(f"{len(written)} scanned renderings in {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
