"""Reading an uploaded CSV file, all or nothing, with problems that name the line, the column and the reason.

Every import (establishments, contacts, earlier years' responses) reads its file
through ``read_csv``. The file is refused as a whole, with a list of
``ImportProblem``s, when it cannot be read safely: an encoding that is neither
UTF-8 nor Windows-1252 (what GIAS publishes), a workbook instead of a CSV, the
wrong separator, a file cut short or missing columns. Every value has its whitespace
normalised; name-like values that look like spreadsheet formulas are flagged (not
refused) and neutralised by the exports. Importers add their own problems to the same list, so the
person fixing the file sees every problem at once.
"""

from __future__ import annotations

import csv
import io
import itertools
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import BinaryIO

#: how many problems ``str(ImportFailed)`` lists before "and N more"
PROBLEMS_SHOWN = 50

#: the characters that make a spreadsheet treat a cell as a formula (OWASP's list)
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n")

#: a well-formed multi-byte UTF-8 sequence; finding one in a file that is not valid
#: UTF-8 means the file mixes encodings (reading it as Windows-1252 would garble it)
_UTF8_SEQUENCE = re.compile(rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}")
_WORKBOOK_SIGNATURES = (b"PK\x03\x04", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1")

# A national GIAS extract has long free-text columns; nothing legitimate comes near this.
csv.field_size_limit(1_000_000)


@dataclass(frozen=True, order=True)
class ImportProblem:
    """One reason a file cannot be imported. ``line`` counts from 1, the header being line 1."""

    line: int | None
    column: str | None
    reason: str

    def __str__(self) -> str:
        where = []
        if self.line is not None:
            where.append(f"line {self.line}")
        if self.column:
            where.append(f"column {self.column}")
        return f"{', '.join(where)}: {self.reason}" if where else self.reason


class ImportFailed(Exception):
    """The file was refused; ``problems`` says why, line by line. Nothing was written."""

    def __init__(self, problems: list[ImportProblem]):
        self.problems = sorted(problems, key=lambda p: (p.line or 0, p.column or "", p.reason))
        super().__init__(self.describe(PROBLEMS_SHOWN))

    def describe(self, limit: int | None = None) -> str:
        """The problems one a line; with ``limit``, the first ``limit`` and "and N more"."""
        shown = self.problems if limit is None else self.problems[:limit]
        lines = [str(problem) for problem in shown]
        hidden = len(self.problems) - len(shown)
        if hidden:
            lines.append(f"and {hidden} more problem{'s' if hidden != 1 else ''}")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.describe(PROBLEMS_SHOWN)


def header_key(text: str) -> str:
    """Headers compare without case, spaces or punctuation.

    "TypeOfEstablishment (name)" -> "typeofestablishmentname".
    """
    return re.sub(r"[^a-z0-9]", "", text.lower())


@dataclass(frozen=True)
class Column:
    """A column an importer reads.

    :param key: the importer's name for it
    :param label: its usual header, used when saying it is missing
    :param aliases: other headers that mean the same (compared with ``header_key``)
    :param required: the file must have it
    :param text: a name-like value: flag values a spreadsheet would read as a formula
    :param max_length: the longest value the database keeps
    """

    key: str
    label: str
    aliases: tuple[str, ...] = ()
    required: bool = False
    text: bool = False
    max_length: int | None = None

    @property
    def match_keys(self) -> set[str]:
        return {header_key(name) for name in (self.label, *self.aliases)}


@dataclass
class CsvRow:
    line: int
    #: the stripped value of every column found, by column key
    values: dict[str, str]

    def get(self, key: str, default: str = "") -> str:
        return self.values.get(key, default)


@dataclass
class CsvTable:
    encoding: str
    headers: list[str]
    #: column key -> the header as written in the file, for the columns found
    found: dict[str, str]
    #: headers the importer did not ask for (blank headers left out)
    unmatched: list[str]
    #: a list from ``read_csv``, an iterator from ``open_csv``
    rows: list[CsvRow] | Iterator[CsvRow]
    columns: dict[str, Column]
    problems: list[ImportProblem] = field(default_factory=list)
    #: name-like values that a spreadsheet would read as a formula: stored as given, flagged in the
    #: preview, and neutralised by every export (safe_cells.py)
    formula_like: list[ImportProblem] = field(default_factory=list)

    def has(self, key: str) -> bool:
        return key in self.found

    def column_name(self, key: str) -> str:
        """How the file names a column (its header), or the column's usual label."""
        if key in self.found:
            return self.found[key]
        return self.columns[key].label if key in self.columns else key

    def problem(self, line: int | None, key: str | None, reason: str) -> None:
        self.problems.append(ImportProblem(line, self.column_name(key) if key else None, reason))

    def raise_if_problems(self) -> None:
        if self.problems:
            raise ImportFailed(self.problems)


def decode(data: bytes) -> tuple[str, str]:
    """Return (text, encoding name) for UTF-8 (with or without BOM) or Windows-1252 bytes.

    :raises ImportFailed: the bytes are a workbook, UTF-16, binary or in another encoding
    """

    def refuse(reason: str, at: int | None = None) -> ImportFailed:
        line = data.count(b"\n", 0, at) + 1 if at is not None else None
        return ImportFailed([ImportProblem(line, None, reason)])

    if not data.strip():
        raise refuse("the file is empty")
    if data.startswith(_WORKBOOK_SIGNATURES):
        raise refuse("this is an Excel workbook: save it as CSV (comma-separated values) and upload that")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise refuse('the file is in UTF-16 ("Unicode text"): save it as "CSV UTF-8 (comma delimited)"')
    nul = data.find(b"\x00")
    if nul >= 0:
        raise refuse(
            "the file contains NUL bytes, so it is not a CSV text file (it may be UTF-16 or a "
            'spreadsheet): save it as "CSV UTF-8 (comma delimited)"',
            nul,
        )
    try:
        return data.decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError as not_utf8:
        if _UTF8_SEQUENCE.search(data):
            byte = data[not_utf8.start]
            raise refuse(
                f"the file mixes UTF-8 with another encoding (byte 0x{byte:02X} here is not UTF-8), so some "
                'characters would be garbled: save it again as "CSV UTF-8 (comma delimited)"',
                not_utf8.start,
            ) from None
    try:
        return data.decode("cp1252"), "windows-1252"
    except UnicodeDecodeError as not_cp1252:
        byte = data[not_cp1252.start]
        raise refuse(
            f"byte 0x{byte:02X} is not UTF-8 or Windows-1252 text, so the file cannot be read: "
            'save it as "CSV UTF-8 (comma delimited)"',
            not_cp1252.start,
        ) from None


#: characters Python does not count as whitespace but that print as nothing (zero-width spaces, BOM)
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff"), None)
_WHITESPACE_RUN = re.compile(r"\s+")


def normalise_whitespace(value: str) -> str:
    """Every kind of space or line break (NBSP, vertical tab, form feed, CR, LF, ...) as one plain space,
    none at either end, and invisible characters removed."""
    return _WHITESPACE_RUN.sub(" ", value.translate(_INVISIBLE)).strip()


def looks_like_formula(value: str) -> bool:
    """Would a spreadsheet run this value as a formula (formula injection)?"""
    return normalise_whitespace(value).startswith(FORMULA_STARTS) or value.startswith(FORMULA_STARTS)


def read_csv(data: bytes | BinaryIO, columns: list[Column]) -> CsvTable:
    """Read CSV (bytes, or a binary file from its start) into rows of the columns asked for.

    Problems that make the file unreadable as a whole (encoding, separator,
    header) raise ImportFailed at once. Problems with single values (a short
    row, a value too long) are collected in ``table.problems`` so the
    importer can add its own and report them all together.
    """
    table = open_csv(io.BytesIO(data) if isinstance(data, (bytes, bytearray)) else data, columns)
    table.rows = list(table.rows)
    return table


class _Borrowed(io.RawIOBase):
    """The caller's file, read through a text wrapper: closing the wrapper (as it does when it is dropped)
    must not close the file, which the caller may still keep (an upload is read for its plan, then stored)."""

    def __init__(self, source: BinaryIO) -> None:
        self._source = source

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        data = self._source.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


def open_csv(source: BinaryIO, columns: list[Column]) -> CsvTable:
    """Like ``read_csv``, for a seekable binary file of any size: ``table.rows`` is an iterator that
    reads one row at a time, so memory does not grow with the file. Value problems are added to
    ``table.problems`` as the rows are read; the caller checks them after the last row."""
    encoding = sniff_encoding(source)
    source.seek(0)
    text = io.TextIOWrapper(
        io.BufferedReader(_Borrowed(source)), encoding="utf-8-sig" if encoding == "utf-8" else "cp1252", newline=""
    )
    first = text.readline()
    header_line = first.rstrip("\r\n")
    if "," not in header_line:
        for separator, name in ((";", "semicolons"), ("\t", "tabs")):
            if separator in header_line:
                raise ImportFailed(
                    [ImportProblem(1, None, f"the file is separated by {name}; save it as comma-separated CSV")]
                )

    reader = csv.reader(itertools.chain([first], text), strict=True)
    try:
        headers = next(reader)
    except (StopIteration, csv.Error) as exc:
        raise ImportFailed([ImportProblem(1, None, f"the header row cannot be read: {exc}")]) from None
    headers = [h.strip() for h in headers]
    if not any(headers):
        raise ImportFailed(
            [ImportProblem(1, None, "the first line must be the header row (the column names), but it is empty")]
        )

    by_key = {column.key: column for column in columns}
    found, unmatched, positions, problems = _match_headers(headers, columns)
    for column in columns:
        if column.required and column.key not in found:
            problems.append(
                ImportProblem(1, None, f'the file has no "{column.label}" column: the header row must name it')
            )
    if problems:
        raise ImportFailed(problems)

    table = CsvTable(encoding=encoding, headers=headers, found=found, unmatched=unmatched, rows=[], columns=by_key)
    table.rows = _rows(table, reader, positions)
    return table


#: short values remembered with their normalised whitespace while reading a file: a national file
#: repeats the same few answers millions of times
_NORMALISED_MEMO = 20000


def _rows(table: CsvTable, reader, positions: dict[str, int]) -> Iterator[CsvRow]:
    by_key = table.columns
    width = len(table.headers)
    last_line = reader.line_num
    normalised: dict[str, str] = {}
    while True:
        start = last_line + 1
        try:
            fields = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            table.problems.append(ImportProblem(start, None, _csv_error_reason(str(exc))))
            break
        last_line = reader.line_num
        if not any(value.strip() for value in fields):
            continue  # blank lines and spreadsheets' trailing ",,,," rows
        if len(fields) < width:
            table.problems.append(
                ImportProblem(
                    start,
                    None,
                    f"has {len(fields)} column{'s' if len(fields) != 1 else ''}, the header has {width} — "
                    "the file may have been cut short",
                )
            )
            continue
        if len(fields) > width and any(value.strip() for value in fields[width:]):
            table.problems.append(
                ImportProblem(
                    start,
                    None,
                    f"has {len(fields)} columns, the header has {width} — a value with a comma in it may need quotes",
                )
            )
            continue
        values = {}
        problems_before = len(table.problems)
        for key, position in positions.items():
            raw = fields[position]
            column = by_key[key]
            # Stored as given after normalising whitespace; the DfE's extract is not the lead's to edit,
            # so a value that looks like a formula is flagged, never refused.
            value = normalised.get(raw)
            if value is None:
                value = normalise_whitespace(raw)
                if len(raw) <= 40 and len(normalised) < _NORMALISED_MEMO:
                    normalised[raw] = value
            if column.text and value and looks_like_formula(value):
                table.formula_like.append(
                    ImportProblem(
                        start,
                        table.column_name(key),
                        f'"{_clip(value)}" starts with "{value[0]}", '
                        "so a spreadsheet could read it as a formula: it is "
                        "stored as given, and every export from this service shows it as text",
                    )
                )
            if column.max_length and len(value) > column.max_length:
                table.problem(start, key, f"must be {column.max_length:,} characters or fewer (it has {len(value):,})")
                continue
            values[key] = value
        if len(table.problems) == problems_before:  # a row with a refused value is not checked further
            yield CsvRow(start, values)


#: bytes Windows-1252 leaves undefined
_NOT_CP1252 = re.compile(rb"[\x81\x8d\x8f\x90\x9d]")


def sniff_encoding(source: BinaryIO, block_size: int = 1 << 18) -> str:
    """Check a binary file as ``decode`` checks bytes, a block at a time; return "utf-8" or "windows-1252".

    :raises ImportFailed: as ``decode`` does, naming the same line
    """

    def refuse(reason: str, line: int | None = None) -> ImportFailed:
        return ImportFailed([ImportProblem(line, None, reason)])

    source.seek(0)
    carry, offset, lines = b"", 0, 0  # offset and lines: where ``carry`` starts
    anything = False
    utf8_error: tuple[int, int] | None = None  # (line, byte) of the first byte that is not UTF-8
    cp1252_error: tuple[int, int] | None = None
    mixed = False
    first = True
    while True:
        chunk = source.read(block_size)
        block = carry + chunk
        if first:
            if block.startswith(_WORKBOOK_SIGNATURES):
                raise refuse("this is an Excel workbook: save it as CSV (comma-separated values) and upload that")
            if block.startswith((b"\xff\xfe", b"\xfe\xff")):
                raise refuse('the file is in UTF-16 ("Unicode text"): save it as "CSV UTF-8 (comma delimited)"')
            first = False
        # Cut after the last line break so no character is split between blocks.
        cut = len(block) if not chunk else block.rfind(b"\n") + 1
        if not cut and chunk:
            carry = block
            continue
        piece, carry = block[:cut], block[cut:]
        nul = piece.find(b"\x00")
        if nul >= 0:
            raise refuse(
                "the file contains NUL bytes, so it is not a CSV text file (it may be UTF-16 or a "
                'spreadsheet): save it as "CSV UTF-8 (comma delimited)"',
                lines + piece.count(b"\n", 0, nul) + 1,
            )
        anything = anything or bool(piece.strip())
        if utf8_error is None:
            try:
                piece.decode("utf-8")
            except UnicodeDecodeError as exc:
                utf8_error = (lines + piece.count(b"\n", 0, exc.start) + 1, piece[exc.start])
        if not mixed and _UTF8_SEQUENCE.search(piece):
            mixed = True
        if cp1252_error is None and (bad := _NOT_CP1252.search(piece)):
            cp1252_error = (lines + piece.count(b"\n", 0, bad.start()) + 1, piece[bad.start()])
        offset += len(piece)
        lines += piece.count(b"\n")
        if not chunk:
            break
    if not anything:
        raise refuse("the file is empty")
    if utf8_error is None:
        return "utf-8"
    if mixed:
        line, byte = utf8_error
        raise refuse(
            f"the file mixes UTF-8 with another encoding (byte 0x{byte:02X} here is not UTF-8), so some "
            'characters would be garbled: save it again as "CSV UTF-8 (comma delimited)"',
            line,
        )
    if cp1252_error is not None:
        line, byte = cp1252_error
        raise refuse(
            f"byte 0x{byte:02X} is not UTF-8 or Windows-1252 text, so the file cannot be read: "
            'save it as "CSV UTF-8 (comma delimited)"',
            line,
        )
    return "windows-1252"


def _match_headers(headers: list[str], columns: list[Column]):
    """Map each column to the position of its header; report a column given twice."""
    owners: dict[str, list[Column]] = {}
    for column in columns:
        for match_key in column.match_keys:
            owners.setdefault(match_key, []).append(column)
    found: dict[str, str] = {}
    positions: dict[str, int] = {}
    unmatched: list[str] = []
    problems: list[ImportProblem] = []
    for position, header in enumerate(headers):
        if not header:
            continue
        candidates = owners.get(header_key(header), [])
        if len(candidates) > 1:  # two columns' names differ only in punctuation: insist on the exact name
            candidates = [c for c in candidates if header.lower() in {n.lower() for n in (c.label, *c.aliases)}]
        if len(candidates) != 1:
            unmatched.append(header)
            continue
        column = candidates[0]
        if column.key in found:
            same = (
                "appears twice"
                if header == found[column.key]
                else f'gives the same thing as column "{found[column.key]}"'
            )
            problems.append(ImportProblem(1, header, f"{same}: keep one of them"))
            continue
        found[column.key] = header
        positions[column.key] = position
    return found, unmatched, positions, problems


def _csv_error_reason(message: str) -> str:
    if "unexpected end of data" in message:
        return "a quoted value that starts here is never closed — the file may have been cut short"
    if "field larger than field limit" in message:
        return "a value is too long to be real — probably a quote mark that is never closed"
    if "expected after" in message:
        return 'a quote mark inside a value must be written twice ("") and the whole value quoted'
    return f"is not valid CSV ({message})"


def _clip(value: str, length: int = 40) -> str:
    return value if len(value) <= length else value[: length - 1] + "…"
