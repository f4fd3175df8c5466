"""results.html for a sweep: a sortable table of every cell and one bar chart per metric that varies."""

import html
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

_SORT = """<script>
for (const th of document.querySelectorAll("th")) th.onclick = () => {
  const table = th.closest("table"), i = [...th.parentNode.children].indexOf(th);
  const rows = [...table.tBodies[0].rows], up = th.dataset.up !== "1"; th.dataset.up = up ? "1" : "0";
  const key = r => { const t = r.cells[i].textContent; const n = parseFloat(t); return isNaN(n) ? t : n; };
  rows.sort((a, b) => (key(a) > key(b) ? 1 : key(a) < key(b) ? -1 : 0) * (up ? 1 : -1));
  rows.forEach(r => table.tBodies[0].append(r));
};
</script>"""


def write_report(root: Path, varied: list[str], rows: list[dict[str, Any]], metric_keys: list[str]) -> Path:
    """`rows`: one dict per cell with "cell", the varied options, "status" and its metrics."""
    plots = root / "plots"
    plots.mkdir(exist_ok=True)
    charts = []
    done = [r for r in rows if r["status"] != "failed"]
    for key in metric_keys:
        values = [r.get(key) for r in done]
        if len({v for v in values if isinstance(v, int | float)}) < 2:
            continue  # the same everywhere: nothing to compare
        figure, axes = plt.subplots(figsize=(max(4.0, 0.6 * len(done)), 3.2))
        axes.bar([r["cell"] for r in done], [v if isinstance(v, int | float) else 0 for v in values], color="#7a3fc4")
        axes.set_title(key)
        axes.tick_params(axis="x", labelrotation=60, labelsize=7)
        figure.tight_layout()
        figure.savefig(plots / f"{key}.png", dpi=90)
        plt.close(figure)
        charts.append(f'<img src="plots/{html.escape(key)}.png" alt="{html.escape(key)}">')
    columns = ["cell", *varied, "status", *metric_keys]
    head = "".join(f"<th>{html.escape(c)}</th>" for c in columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(str(r.get(c, '')))}</td>" for c in columns) + "</tr>" for r in rows
    )
    page = (
        "<!doctype html><meta charset='utf-8'><title>sweep results</title>"
        "<style>body{font:14px system-ui}table{border-collapse:collapse}td,th{border:1px solid #ccc;"
        "padding:3px 6px}th{cursor:pointer;background:#f2f0ff}img{margin:8px}</style>"
        f"<h1>sweep results</h1><table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
        f"<h2>metrics</h2>{''.join(charts)}{_SORT}"
    )
    path = root / "results.html"
    path.write_text(page, encoding="utf-8")
    return path
