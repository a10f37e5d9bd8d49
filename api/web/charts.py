"""Bar charts drawn as SVG on the server: no script, readable by a screen reader (a title, a
description, and the same figures in a table beside it), and they scale with the text."""

from __future__ import annotations

from dataclasses import dataclass
from html import escape


@dataclass(frozen=True)
class Bar:
    label: str
    value: float  # 0..1 for rates
    text: str  # the figure as shown, e.g. "87.5%"


def bars(title: str, description: str, items: list[Bar], *, width: int = 640, row: int = 28) -> str:
    """A horizontal bar chart of values in 0..1 (rates)."""
    label_w, gap = 180, 8
    plot_w = width - label_w - 70
    height = max(row * len(items), row) + 8
    out = [f'<svg role="img" aria-labelledby="chart-t chart-d" viewBox="0 0 {width} {height}" '
           f'class="chart" xmlns="http://www.w3.org/2000/svg">',
           f'<title id="chart-t">{escape(title)}</title><desc id="chart-d">{escape(description)}</desc>']
    for i, item in enumerate(items):
        y = i * row + 4
        w = max(0.0, min(1.0, item.value)) * plot_w
        out.append(f'<text x="{label_w - gap}" y="{y + row * 0.62:.1f}" text-anchor="end">{escape(item.label)}</text>')
        out.append(f'<rect x="{label_w}" y="{y + 4}" width="{plot_w}" height="{row - 10}" class="track"/>')
        out.append(f'<rect x="{label_w}" y="{y + 4}" width="{w:.1f}" height="{row - 10}" class="bar"/>')
        out.append(f'<text x="{label_w + plot_w + gap}" y="{y + row * 0.62:.1f}">{escape(item.text)}</text>')
    out.append("</svg>")
    return "".join(out)
