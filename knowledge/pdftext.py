"""The text of a PDF, read in a process of its own: `python -I pdftext.py MAX_PAGES
STREAM_MAX MEMORY_MAX` reads the PDF on standard input and writes JSON on standard output,
{"pages": [text, …]} or {"error": code, "detail": …}.

knowledge/sources.py runs it so that a PDF which takes long or much memory to read is stopped
whole: the caller kills the process at the deadline (pypdf parses a content stream before any
hook of ours runs, so a check inside this process could come seconds late), and the address
space limit set here keeps a hostile file from taking the web worker's memory. No Django here:
the script starts with pypdf alone.
"""

import io
import json
import resource
import sys


def pdf_pages(data: bytes, max_pages: int, stream_max: int) -> dict:
    from pypdf import PdfReader, apply_configuration
    from pypdf.errors import LimitReachedError, PdfReadError

    limits = {
        f"{kind}_maximum_output_length": stream_max
        for kind in ("zlib", "lzw", "run_length", "jbig2", "brotli", "array_based_stream")
    }
    try:
        with apply_configuration(maximum_declared_stream_length=stream_max, **limits):
            reader = PdfReader(io.BytesIO(data))
            if reader.is_encrypted:
                return {"error": "encrypted"}
            count = len(reader.pages)
            if count > max_pages:
                return {"error": "too_many_pages", "detail": count}
            return {"pages": [page.extract_text() or "" for page in reader.pages]}
    except LimitReachedError:
        return {"error": "too_large"}
    except MemoryError:
        return {"error": "memory"}
    except (PdfReadError, ValueError, KeyError, TypeError, OSError, RecursionError) as exc:
        return {"error": "unreadable", "detail": str(exc)[:300]}


def main() -> None:
    max_pages, stream_max, memory_max = (int(arg) for arg in sys.argv[1:4])
    try:
        resource.setrlimit(resource.RLIMIT_AS, (memory_max, memory_max))
    except (ValueError, OSError):  # macOS refuses it: the deadline still holds
        pass
    result = pdf_pages(sys.stdin.buffer.read(), max_pages, stream_max)
    sys.stdout.write(json.dumps(result))


if __name__ == "__main__":
    main()
