"""`surveyapp export`: a cycle's board workbook and, if asked, its responses and gaps as CSV."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from surveyapp.cli import cycle_called
from surveyapp.extensions import db


@click.command("export")
@click.option("--cycle", "slug", required=True, help="The cycle's short name, e.g. 2026-27.")
@click.option("--out", "out", type=click.Path(dir_okay=False), help="Write the board workbook (.xlsx) here.")
@click.option("--responses-csv", type=click.Path(dir_okay=False), help="Write the raw responses as CSV here.")
@click.option("--gaps-csv", type=click.Path(dir_okay=False), help="Write the gap list as CSV here.")
@with_appcontext
def export_command(slug: str, out: str | None, responses_csv: str | None, gaps_csv: str | None) -> None:
    """Write a cycle's board workbook (and, if asked, its responses and gaps as CSV)."""
    from surveyapp.exports.csvfiles import write_gaps_csv, write_responses_csv
    from surveyapp.exports.workbook import write_workbook

    if not (out or responses_csv or gaps_csv):
        raise click.UsageError("Give --out FILE.xlsx, --responses-csv FILE or --gaps-csv FILE")
    cycle = cycle_called(slug)
    from surveyapp.progress import shown

    steps = [path for path in (out, responses_csv, gaps_csv) if path]
    with shown("Exporting", unit="files") as progress:
        progress(0, len(steps))
        if out:
            figures = write_workbook(db.session, cycle, out)
            progress(1, len(steps))
            click.echo(f"Wrote {out}: {figures.in_scope} establishments, {figures.complete} complete")
        for path, writer in ((responses_csv, write_responses_csv), (gaps_csv, write_gaps_csv)):
            if path:
                with open(path, "w", newline="", encoding="utf-8-sig") as handle:
                    rows = writer(db.session, cycle, handle)
                progress(steps.index(path) + 1, len(steps))
                click.echo(f"Wrote {path}: {rows} rows")
