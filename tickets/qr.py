"""The QR code of a ticket's phone page, drawn here on the server (segno): nothing is fetched from another host."""

import segno
from django.utils.safestring import SafeString, mark_safe

QR_SCALE = 8  # module size in the SVG's own units; the page sizes it through its viewBox


def qr_svg(url: str) -> SafeString:
    """``url`` as an inline ``<svg>`` (no XML declaration), error correction M, sized by CSS through its viewBox.

    Safe to put into a page: segno writes only its own path data, and the text
    of ``url`` is encoded into the modules, never copied into the markup.
    """
    code = segno.make(url, error="m")
    return mark_safe(code.svg_inline(scale=QR_SCALE, omitsize=True, svgclass="ticket-qr-code"))  # noqa: S308
