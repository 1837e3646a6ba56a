"""Turning files and web pages into page texts, and long texts into several pages.

Pure functions, no database: the services and the commands call them, the tests too.
"""

import json
import logging
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path, PurePath

from django.conf import settings
from django.core.exceptions import ValidationError

from core.text import parse_json, storable_text

from .models import BODY_MAX, TITLE_MAX, SourceKind

logger = logging.getLogger(__name__)

FILE_MAX_BYTES = 10 * 1024 * 1024
FILE_TYPES = (".txt", ".md", ".csv", ".json", ".pdf")
# What one stream of a PDF may inflate to when read (pypdf's default is 75 MB): a text page's
# content stream is kilobytes, a compression bomb (300 MB from 300 KB) stops here.
PDF_STREAM_MAX_BYTES = 20 * 1024 * 1024
# The address space of the process reading a PDF (knowledge/pdftext.py).
PDF_MEMORY_MAX_BYTES = 1024 * 1024 * 1024
_PDFTEXT = Path(__file__).with_name("pdftext.py")


@dataclass(frozen=True)
class Source:
    kind: str  # SourceKind.FILE or SourceKind.URL
    name: str  # the file name or the URL
    title: str  # the title the page(s) get
    text: str


def _title_from_name(name: str) -> str:
    stem = PurePath(name).stem.replace("_", " ").replace("-", " ").strip()
    return (stem or name or "Imported page")[:TITLE_MAX]


def extract_file(name: str, data: bytes) -> Source:
    """The text of an uploaded file, or a ValidationError naming the file and the problem."""
    name = PurePath(name or "").name
    suffix = PurePath(name).suffix.lower()
    if suffix not in FILE_TYPES:
        raise ValidationError(
            f"{name or 'The file'}: only {', '.join(FILE_TYPES)} files can be imported."
        )
    if len(data) > FILE_MAX_BYTES:
        raise ValidationError(
            f"{name}: the file is {len(data) / 1024 / 1024:.1f} MB; at most 10 MB per file."
        )
    text = _pdf_text(name, data) if suffix == ".pdf" else _plain_text(name, data, suffix)
    text = text.replace("\r\n", "\n").replace("\r", "\n").strip()
    if not text:
        raise ValidationError(f"{name}: the file has no text.")
    # PDFs sometimes carry NULs or broken characters in their font maps; never stored.
    text = storable_text(text)
    return Source(SourceKind.FILE, name, _title_from_name(name), text)


def _plain_text(name: str, data: bytes, suffix: str) -> str:
    if b"\x00" in data:  # text files never hold NUL; images, archives, Office files do
        raise ValidationError(f"{name}: this is a binary file, not text.")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ValidationError(f"{name}: the file is not UTF-8 text.") from None
    if suffix == ".json" and text.strip():
        parse_json(text, f"{name}: the file")
    return text


def _pdf_text(name: str, data: bytes) -> str:
    """The text of each page, read by knowledge/pdftext.py in a process of its own, stopped
    after settings.KNOWLEDGE_PDF_DEADLINE seconds; at most settings.KNOWLEDGE_PDF_MAX_PAGES
    pages and PDF_STREAM_MAX_BYTES per inflated stream."""
    max_pages, seconds = settings.KNOWLEDGE_PDF_MAX_PAGES, settings.KNOWLEDGE_PDF_DEADLINE
    limits = (max_pages, PDF_STREAM_MAX_BYTES, PDF_MEMORY_MAX_BYTES)
    try:
        done = subprocess.run(  # noqa: S603 (our script, numbers as arguments, no shell)
            # -P: the script's folder (this app) is not put on the import path.
            [sys.executable, "-P", str(_PDFTEXT), *map(str, limits)],
            input=data,
            capture_output=True,
            timeout=seconds,
            check=False,
        )
    except subprocess.TimeoutExpired:  # run() has killed the process
        raise ValidationError(
            f"{name}: reading the PDF's text took longer than {seconds:g} s; at most "
            f"{seconds:g} s per PDF. Split it, or save it as text and upload that."
        ) from None
    try:
        result = json.loads(done.stdout)
    except ValueError:  # no answer: killed at the memory limit, or it could not start
        stderr = done.stderr.decode(errors="replace").strip()
        if "MemoryError" in stderr or done.returncode < 0:
            result = {"error": "memory"}
        else:
            logger.error("knowledge/pdftext.py failed (%s): %s", done.returncode, stderr[-2000:])
            result = {"error": "failed"}
    error, detail = result.get("error"), result.get("detail")
    if error == "encrypted":
        raise ValidationError(
            f"{name}: the PDF is encrypted. Remove the password and upload it again."
        )
    if error == "too_many_pages":
        raise ValidationError(
            f"{name}: the PDF has {detail:,} pages; at most {max_pages:,} pages per PDF. "
            "Split it and upload the parts."
        )
    if error == "too_large":
        raise ValidationError(
            f"{name}: part of the PDF expands to more than "
            f"{PDF_STREAM_MAX_BYTES // 1024 // 1024} MB when read; such a file cannot be "
            "imported."
        )
    if error == "memory":
        raise ValidationError(f"{name}: the PDF needs too much memory to read.")
    if error == "failed":
        raise ValidationError(f"{name}: the PDF could not be read here; try again later.")
    if error:
        raise ValidationError(f"{name}: the PDF cannot be read ({detail}).")
    return "\n\n".join(p.strip() for p in result["pages"])


# Splitting ---------------------------------------------------------------------------------

# Blocks: paragraphs (separated by blank lines), and a new block before every heading line.
_BLOCKS = re.compile(r"\n[ \t]*\n+|\n(?=#{1,6} |[^\n]+\n(?:=+|-+)[ \t]*\n)")
_HEADING = re.compile(r"#{1,6} ")


def _pieces(block: str, limit: int):
    """A block cut to at most `limit` characters: at line breaks, then spaces, then anywhere."""
    while len(block) > limit:
        cut = block.rfind("\n", 0, limit + 1)
        if cut <= 0:
            cut = block.rfind(" ", 0, limit + 1)
        if cut <= 0:
            cut = limit
        yield block[:cut].rstrip()
        block = block[cut:].lstrip()
    if block:
        yield block


def split_text(text: str, limit: int = BODY_MAX) -> list[str]:
    """`text` as bodies of at most `limit` characters, cut between paragraphs, and before a
    heading once the current body is half full (so sections stay together)."""
    if len(text) <= limit:
        return [text]
    bodies, current, size = [], [], 0
    for block in _BLOCKS.split(text):
        block = block.strip()
        if not block:
            continue
        for piece in _pieces(block, limit):
            extra = len(piece) + (2 if current else 0)
            heading_break = _HEADING.match(piece) and size > limit // 2
            if current and (size + extra > limit or heading_break):
                bodies.append("\n\n".join(current))
                current, size = [], 0
                extra = len(piece)
            current.append(piece)
            size += extra
    if current:
        bodies.append("\n\n".join(current))
    return bodies


def part_titles(title: str, count: int) -> list[str]:
    if count == 1:
        return [title[:TITLE_MAX]]
    titles = []
    for n in range(1, count + 1):
        suffix = f" (part {n} of {count})"
        titles.append(title[: TITLE_MAX - len(suffix)].rstrip() + suffix)
    return titles


def split_source(source: Source) -> list[tuple[str, str]]:
    """(title, body) of each page the source becomes."""
    bodies = split_text(source.text)
    return list(zip(part_titles(source.title, len(bodies)), bodies, strict=True))
