"""Files kept in the database in pieces: the files jobs make (workbooks, reports, log downloads) and the
register uploads kept between their preview and their confirmation.

In the database, any app host can offer a file another host or a worker made; in pieces, neither keeping
nor reading a file holds it whole in memory (a national workbook or a GIAS extract is tens of megabytes).
A piece is read with a query of its own, so no driver buffers more than one piece at a time.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import datetime
from typing import IO

from sqlalchemy import ForeignKey, Integer, delete, insert, select
from sqlalchemy.orm import Mapped, mapped_column

from surveyapp.extensions import Model, db
from surveyapp.timeutil import utcnow

#: bytes per stored piece: large enough for few rows, small enough that a piece is nothing in memory
PIECE_SIZE = 1 << 20


class StoredFile(Model):
    """A file kept in the database; its bytes are in StoredFilePiece, in order."""

    __tablename__ = "stored_files"
    # An id is never used twice, even on SQLite: a forgotten file's id must not name a later one.
    __table_args__ = {"sqlite_autoincrement": True}

    id: Mapped[int] = mapped_column(primary_key=True)
    size: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(db.DateTime(timezone=True), default=utcnow)


class StoredFilePiece(Model):
    """One piece of a stored file."""

    __tablename__ = "stored_file_pieces"

    file_id: Mapped[int] = mapped_column(ForeignKey("stored_files.id", ondelete="CASCADE"), primary_key=True)
    number: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    data: Mapped[bytes] = mapped_column(db.LargeBinary)


def store(handle: IO[bytes]) -> int:
    """Keep what ``handle`` holds from where it stands to its end; return the stored file's id (flush only)."""
    stored = StoredFile(size=0, created_at=utcnow())
    db.session.add(stored)
    db.session.flush()
    size = 0
    for number in range(1 << 31):
        piece = handle.read(PIECE_SIZE)
        if not piece:
            break
        db.session.execute(insert(StoredFilePiece).values(file_id=stored.id, number=number, data=piece))
        size += len(piece)
    stored.size = size
    db.session.flush()
    return stored.id


def pieces(file_id: int) -> Iterator[bytes]:
    """The stored file's bytes, piece by piece, in order."""
    for number in range(1 << 31):
        piece = db.session.scalar(
            select(StoredFilePiece.data).where(StoredFilePiece.file_id == file_id, StoredFilePiece.number == number)
        )
        if piece is None:
            return
        yield bytes(piece)


class _PieceReader(io.RawIOBase):
    """A stored file read piece by piece; it can start again from the beginning (CSV reading checks the
    encoding first, then reads the rows)."""

    def __init__(self, file_id: int) -> None:
        self._file_id = file_id
        self._pieces: Iterator[bytes] = iter(())
        self._piece, self._offset, self._position = b"", 0, 0
        self.seek(0)

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._position

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        if whence == io.SEEK_CUR and offset == 0:
            return self._position
        if whence != io.SEEK_SET or offset != 0:
            raise io.UnsupportedOperation("a stored file is read again only from its start")
        self._pieces = pieces(self._file_id)
        self._piece, self._offset = b"", 0  # the piece being read, and how much of it has been
        self._position = 0
        return 0

    def readinto(self, buffer) -> int:
        while self._offset >= len(self._piece):
            self._piece, self._offset = next(self._pieces, b""), 0
            if not self._piece:
                return 0
        count = min(len(buffer), len(self._piece) - self._offset)
        buffer[:count] = self._piece[self._offset : self._offset + count]
        self._offset += count
        self._position += count
        return count


def open_stored(file_id: int) -> IO[bytes]:
    """The stored file as a binary file to read from its start (a piece in memory at a time)."""
    return io.BufferedReader(_PieceReader(file_id), buffer_size=PIECE_SIZE)


def size_of(file_id: int) -> int:
    return db.session.scalar(select(StoredFile.size).where(StoredFile.id == file_id)) or 0


def forget(file_ids) -> None:
    """Delete stored files (ids, or a SELECT of ids) with their pieces (flush only)."""
    db.session.execute(delete(StoredFile).where(StoredFile.id.in_(file_ids)))
