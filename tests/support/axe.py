"""axe-core (npm, node_modules/axe-core) run in the test browser over the page it shows.

The pages send ``Content-Security-Policy: script-src 'self'``, which refuses inline scripts, so axe is not
added as a <script> tag: Playwright's ``evaluate`` runs its source through the DevTools protocol, which the
page's policy does not govern. Nothing is fetched from a CDN and no page is changed to let axe in.
"""

from functools import cache
from pathlib import Path

from django.conf import settings

AXE_JS = Path(settings.BASE_DIR) / "node_modules" / "axe-core" / "axe.min.js"
# WCAG 2.0 A and AA, 2.1 A and AA, 2.2 AA: what issue 19 asks to prove.
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]

_RUN = """async (tags) => {
    const result = await axe.run(document, {runOnly: {type: "tag", values: tags}});
    return result.violations.map((rule) => ({
        id: rule.id,
        impact: rule.impact,
        help: rule.help,
        helpUrl: rule.helpUrl,
        nodes: rule.nodes.map((node) => ({target: node.target.join(" "), summary: node.failureSummary})),
    }));
}"""


@cache
def _source() -> str:
    if not AXE_JS.exists():
        raise AssertionError(f"{AXE_JS} is missing: run `npm ci` (make install)")
    return AXE_JS.read_text(encoding="utf-8")


def axe_violations(page) -> list[dict]:  # type: ignore[no-untyped-def]
    """The violations axe finds on the page as it is now (injected once per document)."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(_source() + "\n;undefined")
    return page.evaluate(_RUN, TAGS)


def describe(where: str, violations: list[dict]) -> str:
    """One paragraph per rule broken: its id, impact, help text and link, and each element's selector."""
    lines = []
    for rule in violations:
        lines.append(f"{where}: {rule['id']} ({rule['impact']}) - {rule['help']} <{rule['helpUrl']}>")
        for node in rule["nodes"]:
            summary = " / ".join((node["summary"] or "").splitlines()[1:3]).strip()
            lines.append(f"    {node['target']}  {summary}")
    return "\n".join(lines)
