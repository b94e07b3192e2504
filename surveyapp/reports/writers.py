"""Write a committee report as HTML, as PDF (WeasyPrint, from the same HTML) or as an editable Word document (no Flask).

Each table that is also a chart is drawn as an SVG bar chart in HTML and PDF, with the table right after it;
the Word document carries the tables (a committee clerk edits them there).
"""

from __future__ import annotations

from html import escape

from surveyapp.reports.content import Report, Table

FORMATS = {
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "pdf": "application/pdf",
    "html": "text/html; charset=utf-8",
}

_CSS = """
@page {
  size: A4; margin: 20mm 18mm;
  @bottom-right { content: "Page " counter(page) " of " counter(pages); font-size: 9pt; }
}
body {
  font-family: Arial, Helvetica, sans-serif; font-size: 11pt; line-height: 1.4; color: #0b0c0c;
  max-width: 48em; margin: 1em auto; padding: 0 1em;
}
h1 { font-size: 20pt; margin-bottom: 0.2em; }
h2 { font-size: 15pt; margin-top: 1.4em; border-bottom: 2px solid #0b0c0c; padding-bottom: 0.1em; }
.council { font-size: 13pt; color: #505a5f; margin: 0; }
table { border-collapse: collapse; width: 100%; margin: 0.6em 0 1.2em; font-size: 10pt; page-break-inside: auto; }
caption { text-align: left; font-weight: bold; padding-bottom: 0.3em; }
th, td { border-bottom: 1px solid #b1b4b6; padding: 0.3em 0.4em; text-align: left; vertical-align: top; }
td.number, th.number { text-align: right; }
figure { margin: 0.6em 0; }
figcaption { font-size: 9pt; color: #505a5f; }
"""


def _is_number(value) -> bool:
    return (
        isinstance(value, (int, float))
        and not isinstance(value, bool)
        or (isinstance(value, str) and value.endswith("%"))
    )


def _rate(text) -> float:
    try:
        return max(0.0, min(1.0, float(str(text).rstrip("%")) / 100))
    except ValueError:
        return 0.0


def _chart(table: Table, index: int) -> str:
    """Horizontal bars with their figure written beside each; no links (the table that follows has the figures)."""
    label_column, rate_column = table.chart
    row_height, label_width, bar_width = 26, 300, 300
    height = row_height * len(table.rows) + 8
    parts = [
        f'<figure><svg xmlns="http://www.w3.org/2000/svg" role="img" aria-labelledby="chart-{index}-title" '
        f'width="100%" viewBox="0 0 680 {height}" font-family="Arial, sans-serif">'
        f'<title id="chart-{index}-title">{escape(table.caption)}</title>'
    ]
    for n, row in enumerate(table.rows):
        y = n * row_height + 4
        label = str(row[label_column])
        label = label if len(label) <= 48 else label[:47].rstrip() + "\u2026"
        width = bar_width * _rate(row[rate_column])
        parts.append(
            f'<text x="0" y="{y + 15}" font-size="11" fill="#0b0c0c">{escape(label)}</text>'
            f'<rect x="{label_width}" y="{y}" width="{bar_width}" height="18" fill="#ffffff" stroke="#b1b4b6"/>'
            f'<rect x="{label_width}" y="{y}" width="{width:.1f}" height="18" fill="#1d70b8"/>'
            f'<text x="{label_width + bar_width + 8}" y="{y + 15}" font-size="11" fill="#0b0c0c">'
            f"{escape(str(row[rate_column]))}</text>"
        )
    parts.append(
        f"</svg><figcaption>{escape(table.caption)} (chart). The same figures are in the table below."
        "</figcaption></figure>"
    )
    return "".join(parts)


def _table(table: Table) -> str:
    number = ' class="number"'
    head = "".join(f'<th scope="col"{number if n else ""}>{escape(h)}</th>' for n, h in enumerate(table.header))
    body = []
    for row in table.rows:
        cells = [f'<th scope="row">{escape(str(row[0]))}</th>']
        cells += [f"<td{number if _is_number(v) else ''}>{escape(str(v))}</td>" for v in row[1:]]
        body.append("<tr>" + "".join(cells) + "</tr>")
    return (
        f"<table><caption>{escape(table.caption)}</caption><thead><tr>{head}</tr></thead>"
        f"<tbody>{''.join(body)}</tbody></table>"
    )


def to_html(report: Report) -> str:
    """The report as one self-contained HTML page (also the PDF's source)."""
    parts = [
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">',
        f"<title>{escape(report.council)}: {escape(report.title)}</title><style>{_CSS}</style></head><body><main>",
        f'<p class="council">{escape(report.council)}</p><h1>{escape(report.title)}</h1>',
    ]
    charts = 0
    for section in report.sections:
        parts.append(f"<h2>{escape(section.heading)}</h2>")
        parts += [f"<p>{escape(text)}</p>" for text in section.paragraphs]
        for table in section.tables:
            if table.chart is not None and table.rows:
                charts += 1
                parts.append(_chart(table, charts))
            parts.append(_table(table))
    parts.append("</main></body></html>")
    return "".join(parts)


def write_pdf(report: Report, target) -> None:
    """Render the report's HTML to PDF with WeasyPrint; ``target`` is a path or a binary file object."""
    from weasyprint import HTML

    HTML(string=to_html(report)).write_pdf(target)


def write_docx(report: Report, target) -> None:
    """Write the report as an editable Word document (headings, paragraphs and real tables)."""
    from docx import Document
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Pt

    document = Document()
    document.core_properties.title = f"{report.council}: {report.title}"
    document.core_properties.author = report.council
    document.styles["Normal"].font.name = "Arial"
    document.styles["Normal"].font.size = Pt(11)
    document.add_paragraph(report.council, style="Subtitle")
    document.add_heading(report.title, level=0)
    for section in report.sections:
        document.add_heading(section.heading, level=1)
        for text in section.paragraphs:
            document.add_paragraph(text)
        for table in section.tables:
            document.add_paragraph(table.caption, style="Caption")
            grid = document.add_table(rows=1, cols=len(table.header))
            grid.style = "Table Grid"
            for cell, text in zip(grid.rows[0].cells, table.header, strict=True):
                cell.text = str(text)
                for run in cell.paragraphs[0].runs:
                    run.bold = True
            for row in table.rows:
                cells = grid.add_row().cells
                for column, (cell, value) in enumerate(zip(cells, row, strict=True)):
                    cell.text = str(value)
                    if column and _is_number(value):
                        cell.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.RIGHT
    document.save(target)


def write_report(report: Report, kind: str, target) -> None:
    """Write ``report`` as ``kind`` ("docx", "pdf" or "html") to a path or binary file object."""
    if kind == "docx":
        write_docx(report, target)
    elif kind == "pdf":
        write_pdf(report, target)
    elif kind == "html":
        data = to_html(report).encode("utf-8")
        if hasattr(target, "write"):
            target.write(data)
        else:
            with open(target, "wb") as handle:
                handle.write(data)
    else:
        raise ValueError(f"unknown report format {kind!r}: use docx, pdf or html")
