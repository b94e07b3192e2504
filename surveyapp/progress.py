"""Progress of long command-line work: a bar on a terminal, plain lines otherwise (logs, cron, CI).

Services report progress through a plain callable ``progress(done, total)`` and know nothing of
terminals; the commands pass one made here.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TextIO

import click

Progress = Callable[[int, int], None]

#: at most one plain line this often, besides the first and the last
PLAIN_EVERY_SECONDS = 5.0


@contextmanager
def shown(description: str, stream: TextIO | None = None, unit: str = "") -> Iterator[Progress]:
    """Yield ``progress(done, total)`` that draws a bar when ``stream`` (stderr by default) is a
    terminal, and otherwise prints "description: 1,240 of 3,100 unit" now and then."""
    stream = stream or sys.stderr
    if stream.isatty():
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress as Bar, TextColumn, TimeRemainingColumn

        with Bar(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
            console=Console(file=stream),
            transient=False,
        ) as bar:
            task = bar.add_task(description, total=None)

            def draw(done: int, total: int) -> None:
                bar.update(task, completed=done, total=total)

            yield draw
        return

    last = {"at": 0.0, "done": -1}

    def say(done: int, total: int) -> None:
        now = time.monotonic()
        if done == last["done"] or (0 < done < total and now - last["at"] < PLAIN_EVERY_SECONDS and last["done"] >= 0):
            return
        last.update(at=now, done=done)
        click.echo(f"{description}: {done:,} of {total:,}{' ' + unit if unit else ''}", file=stream)

    yield say
