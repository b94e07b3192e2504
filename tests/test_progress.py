"""Progress of long command-line work: a bar on a terminal, plain lines elsewhere."""

from __future__ import annotations

import io

from surveyapp.progress import shown


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_terminal_gets_a_bar_with_the_count():
    screen = Terminal()
    with shown("Sending reminders", stream=screen) as progress:
        progress(0, 3100)
        progress(1240, 3100)
        progress(3100, 3100)
    assert "Sending reminders" in screen.getvalue() and "3100/3100" in screen.getvalue()


def test_a_log_gets_the_first_and_last_lines_and_not_one_per_step():
    log = io.StringIO()
    with shown("Writing answers", stream=log, unit="answers") as progress:
        for done in range(0, 1_260_001, 5000):
            progress(done, 1_260_000)
    lines = log.getvalue().splitlines()
    assert lines[0] == "Writing answers: 0 of 1,260,000 answers"
    assert lines[-1] == "Writing answers: 1,260,000 of 1,260,000 answers"
    assert len(lines) < 10
