"""Renderers: one report Document -> the bytes of a file in one of the layouts seen in the real corpus."""

from __future__ import annotations

from collections.abc import Callable
from importlib import import_module

from etl.synth.document import Document

# format -> module under etl.synth.render (imported on first use: reportlab and python-docx are heavy)
_MODULES = {"html": "html", "text": "text", "glued": "glued", "pdf": "pdf", "docx": "docx"}


def renderer(file_format: str) -> Callable[[Document], bytes]:
    return import_module(f"etl.synth.render.{_MODULES[file_format]}").render


def render(doc: Document) -> bytes:
    return renderer(doc.spec.file_format)(doc)
