"""The one boundary where the zoo reads users' files: errors name the file, the line (and column) and quote
at most a short excerpt of the offending input, however large the file or the line.

    for number, line in text_lines(path):   # UTF-8; "path:line:column: not UTF-8 text ..." on bad bytes
        ...
        raise line_error(path, number, "expected 'label idx:count ...'", line)
"""
from pathlib import Path

EXCERPT_CHARS = 80


def excerpt(value, limit=EXCERPT_CHARS):
    """``repr``-style quote of ``value`` cut to ``limit`` characters (with the total length when cut), so an
    error message about a 50 MB line stays one short line."""
    text = value if isinstance(value, str) else str(value)
    if len(text) <= limit:
        return repr(text)
    return f"{text[:limit]!r}... ({len(text):,} characters)"


class DataFileError(ValueError):
    """A file the zoo cannot read as its format says; the message starts with ``path[:line[:column]]:``."""


def line_error(path, line_number, problem, line=None):
    quoted = f": {excerpt(line.rstrip(chr(10)))}" if line is not None else ""
    return DataFileError(f"{path}:{line_number}: {problem}{quoted}")


def decode_text(data, path, encoding="utf-8"):
    """``data`` (bytes of the file at ``path``) as text; bad bytes raise ``DataFileError`` naming
    ``path:line:column`` and the byte."""
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as err:
        line = data.count(b"\n", 0, err.start) + 1
        column = err.start - (data.rfind(b"\n", 0, err.start) + 1) + 1
        name = {"utf-8": "UTF-8", "ascii": "ASCII"}.get(encoding, encoding)
        raise DataFileError(f"{path}:{line}:{column}: not {name} text (byte 0x{data[err.start]:02x}); this file "
                            f"must be {name}") from None


def read_bytes(path, what="file"):
    """The bytes of ``path``; a missing file or a folder gives ``FileNotFoundError`` naming it and ``what``."""
    path = Path(path)
    if not path.is_file():
        problem = "is a folder, not a file" if path.is_dir() else "does not exist"
        raise FileNotFoundError(f"{path}: {what} {problem}")
    return path.read_bytes()


def read_text(path, what="file", encoding="utf-8"):
    """The whole text of ``path`` (see ``decode_text``)."""
    return decode_text(read_bytes(path, what), path, encoding)


def text_lines(path, what="file", encoding="utf-8"):
    """(line number from 1, line with its newline) for each line of the text file ``path``."""
    return enumerate(read_text(path, what, encoding).splitlines(keepends=True), start=1)
