"""The OCR engine: RapidOCR's PP-OCRv4 ONNX models (`rapidocr-onnxruntime`, models inside the wheel), on
onnxruntime with one thread (the pipeline parallelises over files).

Chosen by measurement (docs/ocr.md): Tesseract 5 with Debian's chi_sim reads these reports' 仿宋 body text and
titles badly and misreads digits in cells as ideographs (53 -> 三, 7 -> 汉); PP-OCRv4 reads both, and its
detector's one weakness here (a lone "0" in a wide cell) is covered by reading every ruled cell that holds ink.

Two calls, both on grey page pixels:
- `detect`: text boxes of a page, found on a copy at ~100 dpi (4x cheaper than at 200; still finds 10.5 pt);
- `recognize`: each crop read as one line, with every character's x position in the crop (from the CTC time
  step it was emitted at), its probability, and the model's second choice there: the table reader places
  characters by the ruling lines, and the repair step (etl.parse.ocr_cells) tries the second choices.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np

ENGINE = "rapidocr-onnxruntime PP-OCRv4"
_DET_DPI = 100  # detection resolution
_REC_H = 48


@dataclass(frozen=True)
class Glyph:
    text: str
    x: float  # centre, in crop pixels
    prob: float
    second: str  # the model's second choice at that step ("" when it is the CTC blank)
    second_prob: float


@dataclass(frozen=True)
class Line:
    glyphs: tuple[Glyph, ...]

    @property
    def text(self) -> str:
        return "".join(g.text for g in self.glyphs)

    @property
    def conf(self) -> float:
        return min((g.prob for g in self.glyphs), default=0.0)


@lru_cache(maxsize=1)
def _engine() -> Any:
    # onnxruntime's own thread pools off as well: one core per parsing process
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    from rapidocr_onnxruntime import RapidOCR

    return RapidOCR(intra_op_num_threads=1, inter_op_num_threads=1, print_verbose=False)


def detect(gray: np.ndarray, dpi: int) -> list[tuple[int, int, int, int]]:
    """Axis-aligned text boxes (x0, y0, x1, y1) in page pixels, top to bottom."""
    from PIL import Image

    f = min(1.0, _DET_DPI / dpi)
    small = gray if f >= 1.0 else np.asarray(Image.fromarray(gray).reduce(round(1 / f)))
    f = small.shape[1] / gray.shape[1]
    boxes, _ = _engine().text_det(np.repeat(small[:, :, None], 3, axis=2))
    out = []
    for quad in boxes if boxes is not None else []:
        xs, ys = quad[:, 0] / f, quad[:, 1] / f
        out.append((int(xs.min()), int(ys.min()), int(math.ceil(xs.max())), int(math.ceil(ys.max()))))
    return sorted(out, key=lambda b: (b[1], b[0]))


def _norm(crop: np.ndarray, width: int) -> tuple[np.ndarray, int]:
    import cv2

    h, w = crop.shape[:2]
    rw = min(width, max(1, int(math.ceil(_REC_H * w / max(h, 1)))))
    img = cv2.resize(crop, (rw, _REC_H)).astype(np.float32) / 127.5 - 1.0
    out = np.zeros((3, _REC_H, width), dtype=np.float32)
    out[:, :, :rw] = img[None, :, :]
    return out, rw


# glyphs a printed number is read as when free decoding hesitates: such a crop is decoded again, digits only
_NUMBER_CHARS = set("0123456789.,-")
_NUMBER_LOOKALIKES = _NUMBER_CHARS | set("０１２３４５６７８９。○〇OoQDlI|丨，．－")


def _decode(preds: np.ndarray, chars: list[str], scale: float, allowed: np.ndarray | None) -> Line:
    """Greedy CTC decode (optionally over the allowed classes only, renormalised): each glyph with its
    position, probability and the second choice at its time step."""
    if allowed is not None:
        preds = preds[:, allowed] / preds[:, allowed].sum(axis=1, keepdims=True)
    names = chars if allowed is None else [chars[i] for i in allowed]
    best = preds.argmax(axis=1)
    glyphs = []
    prev = 0
    for t, c in enumerate(best):
        if c != 0 and c != prev:
            row = preds[t].copy()
            p = float(row[c])
            row[c] = -1.0
            s = int(row.argmax())
            glyphs.append(Glyph(names[c], (t + 0.5) * scale, p, names[s] if s != 0 else "", float(row[s])))
        prev = c
    return Line(tuple(glyphs))


@lru_cache(maxsize=1)
def _number_classes() -> np.ndarray:
    chars = _engine().text_rec.postprocess_op.character
    return np.array([0] + [i for i, c in enumerate(chars) if c in _NUMBER_CHARS], dtype=np.int64)


def recognize(crops: list[np.ndarray]) -> list[Line]:
    """Each crop (grey, one text line) read by the recogniser, CTC-decoded with positions and second choices.
    A crop read as nothing but digit-like glyphs is decoded again over the digit classes only (a lone 0 is
    otherwise split between 0, O, ○ and 。): its probabilities are then those of the digits.

    One crop a call: the recogniser's cost is linear in the input width with no per-call overhead to share
    (docs/ocr.md), so batching would only add the padding of the narrower crops."""
    rec = _engine().text_rec
    chars = rec.postprocess_op.character
    out = []
    for crop in crops:
        if crop.size == 0:
            out.append(Line(()))
            continue
        width = max(int(math.ceil(_REC_H * crop.shape[1] / max(crop.shape[0], 1))), _REC_H)
        normed, rw = _norm(crop, width)
        preds = rec.session(normed[None])[0][0]  # (T, classes), softmaxed
        scale = (width / preds.shape[0]) * crop.shape[1] / rw
        line = _decode(preds, chars, scale, None)
        if line.glyphs and all(g.text in _NUMBER_LOOKALIKES or not g.text.strip() for g in line.glyphs):
            line = _decode(preds, chars, scale, _number_classes())
        out.append(line)
    return out
