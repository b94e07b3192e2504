"""HTML to PDF with WeasyPrint (no Flask): the printable return, and any document rendered from HTML.

WeasyPrint would fetch any URL the HTML names (images, stylesheets). The documents here are
self-contained, so every fetch is refused: a name or answer can never make the server request a URL.
"""

from __future__ import annotations


class RefusedFetch(ValueError):
    """The document asked for an outside resource."""


def _refuse(url: str, *args, **kwargs):
    raise RefusedFetch(f"PDF documents load nothing from outside: {url}")


def html_to_pdf(html: str) -> bytes:
    """Render a self-contained HTML document (styles inline) to PDF bytes."""
    from weasyprint import HTML  # imported here: it loads Pango, which only the PDF pages need

    return HTML(string=html, url_fetcher=_refuse).write_pdf()
