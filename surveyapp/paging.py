"""One page of a long list, with what its page links need: lists are shown 50 rows at a time, because a
national cycle has tens of thousands of establishments and hundreds of thousands of actions."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Generic, TypeVar

Row = TypeVar("Row")


@dataclass
class Page(Generic[Row]):
    """The rows of one page, and where the page stands in the whole list."""

    #: how many rows the whole list holds (every page)
    total: int
    #: the page asked for, moved onto the list (a page past the end is the last page): see ``clamped``
    page: int
    per_page: int
    rows: list[Row] = field(default_factory=list)

    @classmethod
    def clamped(cls, total: int, page: int, per_page: int) -> Page[Row]:
        """A page without its rows yet, its number moved onto the list: read the rows from ``offset``."""
        pages = max(1, -(-total // per_page))
        return cls(total, max(1, min(page, pages)), per_page)

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def offset(self) -> int:
        """How many rows of the whole list come before this page's first."""
        return (self.page - 1) * self.per_page

    @property
    def first(self) -> int:
        """The number of this page's first row in the whole list (1-based)."""
        return self.offset + 1
