"""Great Expectations Data Docs that work offline.

GX writes pages that load jQuery, Bootstrap, bootstrap-table, Vega and Font
Awesome from CDNs, and its logo from S3: on a network with no Internet every
table on them stays empty. The files they need are vendored in
`expectations/vendor/` (from their npm packages, each with its licence; see
the README there). After GX builds a site, `make_offline` copies them into the
site's `static/vendor/` and rewrites every page to load them from there.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
from pathlib import Path

log = logging.getLogger(__name__)

VENDOR = Path(__file__).resolve().parent / "vendor"

#: Each CDN address GX 1.x pages load, and the vendored file that replaces it.
ASSETS: dict[str, str] = {
    "https://code.jquery.com/jquery-3.7.1.min.js": "jquery-3.7.1/dist/jquery.min.js",
    "https://cdnjs.cloudflare.com/ajax/libs/popper.js/1.12.9/umd/popper.min.js": (
        "popper.js-1.12.9/dist/umd/popper.min.js"
    ),
    "https://stackpath.bootstrapcdn.com/bootstrap/4.3.1/js/bootstrap.min.js": (
        "bootstrap-4.3.1/dist/js/bootstrap.min.js"
    ),
    "https://maxcdn.bootstrapcdn.com/bootstrap/4.3.1/css/bootstrap.min.css": (
        "bootstrap-4.3.1/dist/css/bootstrap.min.css"
    ),
    "https://unpkg.com/bootstrap-table@1.19.1/dist/bootstrap-table.min.js": (
        "bootstrap-table-1.19.1/dist/bootstrap-table.min.js"
    ),
    "https://unpkg.com/bootstrap-table@1.19.1/dist/bootstrap-table.min.css": (
        "bootstrap-table-1.19.1/dist/bootstrap-table.min.css"
    ),
    "https://unpkg.com/bootstrap-table@1.19.1/dist/extensions/filter-control/"
    "bootstrap-table-filter-control.min.js": (
        "bootstrap-table-1.19.1/dist/extensions/filter-control/"
        "bootstrap-table-filter-control.min.js"
    ),
    # GX asks for 1.19.0's stylesheet beside 1.19.1's script; 1.19.1's is the same file's successor.
    "https://unpkg.com/bootstrap-table@1.19.0/dist/extensions/filter-control/"
    "bootstrap-table-filter-control.css": (
        "bootstrap-table-1.19.1/dist/extensions/filter-control/"
        "bootstrap-table-filter-control.min.css"
    ),
    "https://unpkg.com/bootstrap-table@1.19.0/dist/extensions/filter-control/"
    "bootstrap-table-filter-control.min.css": (
        "bootstrap-table-1.19.1/dist/extensions/filter-control/"
        "bootstrap-table-filter-control.min.css"
    ),
    "https://cdnjs.cloudflare.com/ajax/libs/bootstrap-datepicker/1.9.0/js/"
    "bootstrap-datepicker.min.js": "bootstrap-datepicker-1.9.0/dist/js/bootstrap-datepicker.min.js",
    "https://cdnjs.cloudflare.com/ajax/libs/bootstrap-datepicker/1.9.0/css/"
    "bootstrap-datepicker.min.css": (
        "bootstrap-datepicker-1.9.0/dist/css/bootstrap-datepicker.min.css"
    ),
    "https://cdnjs.cloudflare.com/ajax/libs/font-awesome/6.6.0/css/all.min.css": (
        "fontawesome-free-6.6.0/css/all.min.css"
    ),
    "https://cdn.jsdelivr.net/npm/@forevolve/bootstrap-dark@1.1.0/dist/css/"
    "bootstrap-prefers-dark.css": "bootstrap-dark-1.1.0/dist/css/bootstrap-prefers-dark.min.css",
    "https://cdn.jsdelivr.net/npm/vega@5": "vega-5.33.1/build/vega.min.js",
    "https://cdn.jsdelivr.net/npm/vega-lite@5": "vega-lite-5.23.0/build/vega-lite.min.js",
    "https://cdn.jsdelivr.net/npm/vega-embed@6": "vega-embed-6.29.0/build/vega-embed.min.js",
}
#: GX's logo on S3 (with a cache-busting query): the site's own copy replaces it.
_LOGO = re.compile(r"https://great-expectations-web-assets\.s3[^\"']*/logo-long\.png[^\"']*")
#: Links to GX's web site (a newsletter form): not loads, but nothing to follow offline.
_OUTBOUND = re.compile(r"href=\"https://greatexpectations\.io[^\"]*\"")
#: A link to the site's own static files, however GX wrote it.
_STATIC = re.compile(r'(?P<attr>href|src)="(?:\./|(?:\.\./)+)?static/')
#: Subresource-integrity attributes of the CDN tags: a file:// page has no origin for CORS, so
#: they block the local copy (the vendored files' hashes are checked against them in the tests).
_INTEGRITY = re.compile(r'\s+(?:integrity="sha\d+-[^"]+"|crossorigin="anonymous")')
#: What is left that would load from the network (a GX upgrade adding an asset).
_REMOTE = re.compile(r"<(?:script|link|img)\b[^>]*(?:src|href)=\"(https?:)?//[^\"]+\"", re.I)


class OnlineAsset(RuntimeError):
    """A Data Docs page still loads something from the network (an asset not vendored)."""


def make_offline(site: Path) -> int:
    """Vendor the assets into `site` and rewrite its pages to use them; the pages rewritten."""
    target = site / "static" / "vendor"
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(VENDOR, target, ignore=shutil.ignore_patterns("README.md"))
    pages = 0
    for page in site.rglob("*.html"):
        text = page.read_text(encoding="utf-8")
        static = os.path.relpath(site / "static", page.parent)
        # GX links its own static files from deeper pages as if they sat at the top.
        text = _STATIC.sub(rf'\g<attr>="{static}/', text)
        base = os.path.relpath(target, page.parent)
        for url, local in ASSETS.items():
            text = text.replace(f'"{url}"', f'"{base}/{local}"')
        logo = os.path.relpath(site / "static" / "images" / "logo-long.png", page.parent)
        text = _LOGO.sub(logo, text)
        text = _OUTBOUND.sub('href="#"', text)
        text = _INTEGRITY.sub("", text)
        remote = _REMOTE.search(text)
        if remote:
            raise OnlineAsset(f"{page.relative_to(site)} still loads {remote.group(0)[:160]}")
        page.write_text(text, encoding="utf-8")
        pages += 1
    log.info("data docs %s: %d pages rewritten to vendored assets", site, pages)
    return pages
