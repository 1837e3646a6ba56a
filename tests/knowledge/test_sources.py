import json

import pytest
from django.core.exceptions import ValidationError

from knowledge.models import BODY_MAX, TITLE_MAX
from knowledge.sources import FILE_MAX_BYTES, Source, extract_file, split_source, split_text
from tests.knowledge.pdfs import encrypted_pdf, text_pdf


def test_text_markdown_csv_and_json_files_are_read():
    assert (
        extract_file("opening-hours.md", b"# Hours\n\nMon-Fri 9-5\n").text
        == "# Hours\n\nMon-Fri 9-5"
    )
    assert extract_file("opening-hours.md", b"x").title == "opening hours"
    assert (
        extract_file("prices.csv", b"\xef\xbb\xbfitem,price\nfee,149\n").text
        == "item,price\nfee,149"
    )
    assert json.loads(extract_file("faq.json", b'{"q": "a"}').text) == {"q": "a"}
    assert extract_file("notes.TXT", "Caf\u00e9 hours".encode()).text == "Café hours"


def test_pdf_text_is_extracted():
    source = extract_file("menu.pdf", text_pdf("Emergency fee 149 dollars"))
    assert "Emergency fee 149 dollars" in source.text and source.kind == "file"


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("secret.pdf", encrypted_pdf(), "secret.pdf: the PDF is encrypted"),
        ("broken.pdf", b"%PDF-1.4 not really", "broken.pdf: the PDF cannot be read"),
        ("image.txt", b"\x89PNG\r\n\x1a\n\x00\x00\x00", "image.txt: this is a binary file"),
        ("latin.txt", "Caf\u00e9".encode("latin-1"), "latin.txt: the file is not UTF-8"),
        ("empty.md", b"  \n\n ", "empty.md: the file has no text"),
        ("bad.json", b"{nope", "bad.json: the file is not valid JSON"),
        ("slides.pptx", b"PK", "only .txt, .md, .csv, .json, .pdf files"),
        ("big.txt", b"a" * (FILE_MAX_BYTES + 1), "big.txt: the file is 10.0 MB; at most 10 MB"),
    ],
)
def test_bad_files_get_a_clear_error(name, data, message):
    with pytest.raises(ValidationError) as exc:
        extract_file(name, data)
    assert message in exc.value.messages[0]


def test_a_file_of_exactly_10_mb_is_accepted():
    assert len(extract_file("big.txt", b"a " * (FILE_MAX_BYTES // 2)).text) > 0


def test_a_short_text_is_one_page():
    assert split_source(Source("file", "a.txt", "A", "Short.")) == [("A", "Short.")]


def test_a_long_text_splits_at_paragraphs_into_titled_parts():
    paragraph = ("word " * 1999).strip()  # 9,994 characters
    text = "\n\n".join([paragraph] * 5)
    pages = split_source(Source("file", "guide.txt", "Guide", text))
    assert [t for t, _ in pages] == [
        "Guide (part 1 of 3)",
        "Guide (part 2 of 3)",
        "Guide (part 3 of 3)",
    ]
    assert all(len(body) <= BODY_MAX for _, body in pages)
    assert "\n\n".join(body for _, body in pages) == text  # nothing lost, cut between paragraphs


def test_a_long_text_starts_a_part_at_a_heading():
    section = "# Section\n\n" + ("fact " * 1400).strip()  # about 7,000 characters
    text = "\n\n".join([section] * 4)
    bodies = split_text(text)
    assert all(body.startswith("# Section") for body in bodies)


def test_a_paragraph_longer_than_a_page_is_cut_at_spaces_or_anywhere():
    assert [len(b) for b in split_text("x" * (BODY_MAX * 2 + 5))] == [BODY_MAX, BODY_MAX, 5]
    words = split_text(("abcd " * 9000).strip())
    assert all(len(b) <= BODY_MAX and not b.endswith(" ") for b in words)


def test_part_titles_fit_the_title_limit():
    pages = split_source(Source("url", "u", "T" * TITLE_MAX, "a\n\n" * BODY_MAX))
    assert all(len(title) <= TITLE_MAX for title, _ in pages)
    assert pages[-1][0].endswith(f"(part {len(pages)} of {len(pages)})")
