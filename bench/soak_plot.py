"""Draw a soak run's samples (the ``soak.json`` that tests/reliability/test_soak.py writes) as an
SVG: server memory and p50/p99 latency against time, for docs/reliability.md.

    .venv/bin/python bench/soak_plot.py soak.json docs/soak.svg
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from xml.sax.saxutils import escape

WIDTH, HEIGHT, LEFT, RIGHT, TOP, BOTTOM = 720, 220, 70, 20, 30, 40


def _panel(samples: list[dict], series: list[tuple[str, str, str]], title: str, unit: str, y0: int) -> list[str]:
    """One chart: a polyline per (key, colour, label), time on x, from zero to the largest value."""
    top = max(max(s[k] for s in samples) for k, _, _ in series) * 1.1 or 1
    span = max(s["t"] for s in samples) or 1
    inner_w, inner_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def x(t: float) -> float:
        return LEFT + inner_w * t / span

    def y(v: float) -> float:
        return y0 + TOP + inner_h * (1 - v / top)

    out = [f'<text x="{LEFT}" y="{y0 + 18}" font-weight="bold">{escape(title)}</text>',
           f'<line x1="{LEFT}" y1="{y(0)}" x2="{WIDTH - RIGHT}" y2="{y(0)}" stroke="#444"/>',
           f'<line x1="{LEFT}" y1="{y(0)}" x2="{LEFT}" y2="{y(top)}" stroke="#444"/>']
    for k in range(5):
        value = top * k / 4
        out.append(f'<text x="{LEFT - 6}" y="{y(value) + 4}" text-anchor="end">{value:.0f} {unit}</text>')
    for t in range(0, int(span) + 1, max(30, int(span) // 10 // 30 * 30)):
        out.append(f'<text x="{x(t)}" y="{y(0) + 16}" text-anchor="middle">{t} s</text>')
    for n, (key, colour, label) in enumerate(series):
        points = " ".join(f"{x(s['t']):.1f},{y(s[key]):.1f}" for s in samples)
        out.append(f'<polyline fill="none" stroke="{colour}" stroke-width="2" points="{points}"/>')
        out.append(f'<text x="{WIDTH - RIGHT - 70 * (len(series) - n)}" y="{y0 + 18}" fill="{colour}">{escape(label)}</text>')
    return out


def soak_svg(run: dict) -> str:
    samples = run["samples"]
    memory = [("rss_mib", "#1f5fa8", "RSS"), ("heap_mib", "#8a5a00", "heap"), ("pool_mib", "#6b3fa0", "pool")]
    body = _panel(samples, [m for m in memory if m[0] in samples[0]], "服务内存 / server memory (RSS)", "MiB", 0)
    body += _panel(samples, [("p50_ms", "#2a7d2a", "p50"), ("p99_ms", "#b0361f", "p99")],
                   "延迟 / latency per sample window", "ms", HEIGHT)
    title = (f"Soak: {run['seconds']} s, {run['requests']:,} requests, {len(run['errors'])} errors, "
             f"a sample every {samples[1]['t'] - samples[0]['t'] if len(samples) > 1 else run['seconds']} s")
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{2 * HEIGHT}" '
            f'font-family="sans-serif" font-size="12" role="img"><title>{escape(title)}</title>'
            f'<rect width="100%" height="100%" fill="white"/>{"".join(body)}</svg>\n')


if __name__ == "__main__":
    source, target = Path(sys.argv[1]), Path(sys.argv[2])
    target.write_text(soak_svg(json.loads(source.read_text())), encoding="utf-8")
    print(f"wrote {target}")
