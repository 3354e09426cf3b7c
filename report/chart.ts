/**
 * The turn-latency chart, hand-written SVG: the cumulative distribution of every run (top) and
 * their histograms (bottom), on one log-scaled time axis.
 */

export interface Series {
  readonly label: string;
  readonly color: string;
  /** Turn latencies, seconds. */
  readonly seconds: readonly number[];
}

export interface ChartText {
  readonly title: string;
  readonly subtitle: string;
  /** A shaded band on the time axis, e.g. the upstream's latency range. */
  readonly band?: { readonly from: number; readonly to: number; readonly label: string };
  /** Lines under the chart. */
  readonly footnote: readonly string[];
}

const W = 960;
const H = 745;
const LEFT = 80;
const RIGHT = 30;
const CDF = { top: 96, bottom: 356 } as const;
const HIST = { top: 430, bottom: 640 } as const;
const BINS_PER_DECADE = 5;

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const n1 = (x: number) => x.toFixed(1);

function timeLabel(seconds: number): string {
  if (seconds < 1) return `${Number((seconds * 1000).toPrecision(3))} ms`;
  return `${Number(seconds.toPrecision(3))} s`;
}

function percentileOf(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))];
}

/** A round step (1, 2, 5 × 10^k) giving about `target` ticks up to `max`. */
function niceStep(max: number, target = 5): number {
  const raw = Math.max(max, 1) / target;
  const pow = 10 ** Math.floor(Math.log10(raw));
  return [1, 2, 5, 10].map((m) => m * pow).find((s) => s >= raw) ?? pow * 10;
}

export function latencyChart(series: readonly Series[], text: ChartText): string {
  const all = series.flatMap((s) => s.seconds).filter((x) => x > 0);
  const lo = Math.floor(Math.log10(Math.min(...all)));
  const hi = Math.ceil(Math.log10(Math.max(...all)));
  const plotW = W - LEFT - RIGHT;
  const x = (s: number) => LEFT + ((Math.log10(Math.max(s, 10 ** lo)) - lo) / (hi - lo)) * plotW;
  const out: string[] = [];
  const push = (s: string) => out.push(s);

  push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="DejaVu Sans, Helvetica, Arial, sans-serif" font-size="12">`);
  push(`<rect width="${W}" height="${H}" fill="#ffffff"/>`);
  push(`<text x="${LEFT}" y="30" font-size="18" font-weight="bold">${esc(text.title)}</text>`);
  push(`<text x="${LEFT}" y="52" font-size="12" fill="#444">${esc(text.subtitle)}</text>`);

  // Time axis grid (both panels): decades labelled, 2 and 5 as minor lines.
  const xGrid = (top: number, bottom: number, labels: boolean) => {
    for (let d = lo; d <= hi; d++) {
      for (const m of [1, 2, 5]) {
        const v = m * 10 ** d;
        if (d === hi && m > 1) continue;
        const px = n1(x(v));
        push(`<line x1="${px}" y1="${top}" x2="${px}" y2="${bottom}" stroke="${m === 1 ? '#d0d0d0' : '#ececec'}"/>`);
        if (labels && (m === 1 || hi - lo <= 3)) push(`<text x="${px}" y="${bottom + 16}" text-anchor="middle" fill="${m === 1 ? '#222' : '#777'}">${timeLabel(v)}</text>`);
      }
    }
  };
  const band = (top: number, bottom: number, label: boolean) => {
    if (!text.band) return;
    const x0 = x(text.band.from);
    const x1 = x(text.band.to);
    push(`<rect x="${n1(x0)}" y="${top}" width="${n1(x1 - x0)}" height="${bottom - top}" fill="#f3efe2"/>`);
    if (label) push(`<text x="${n1((x0 + x1) / 2)}" y="${top - 8}" text-anchor="middle" fill="#8a7a4a" font-size="11">${esc(text.band.label)}</text>`);
  };

  // Panel 1: CDF.
  band(CDF.top, CDF.bottom, true);
  xGrid(CDF.top, CDF.bottom, true);
  const y = (share: number) => CDF.bottom - share * (CDF.bottom - CDF.top);
  for (const share of [0, 0.25, 0.5, 0.75, 1]) {
    push(`<line x1="${LEFT}" y1="${n1(y(share))}" x2="${W - RIGHT}" y2="${n1(y(share))}" stroke="${share === 0.5 ? '#b0b0b0' : '#e4e4e4'}"${share === 0.5 ? ' stroke-dasharray="4 3"' : ''}/>`);
    push(`<text x="${LEFT - 8}" y="${n1(y(share) + 4)}" text-anchor="end">${Math.round(share * 100)} %</text>`);
  }
  // p95: dashed, labelled inside the plot on the left (the 100 % label sits just above it).
  push(`<line x1="${LEFT}" y1="${n1(y(0.95))}" x2="${W - RIGHT}" y2="${n1(y(0.95))}" stroke="#b0b0b0" stroke-dasharray="4 3"/>`);
  push(`<text x="${W - RIGHT - 4}" y="${n1(y(0.95) + 13)}" text-anchor="end" fill="#777" font-size="11">95 %</text>`);
  push(`<text x="${W - RIGHT - 4}" y="${n1(y(0.5) - 4)}" text-anchor="end" fill="#777" font-size="11">median</text>`);
  for (const s of series) {
    const sorted = [...s.seconds].sort((a, b) => a - b);
    let d = `M${LEFT},${n1(y(0))}`;
    sorted.forEach((v, i) => {
      d += ` H${n1(x(v))} V${n1(y((i + 1) / sorted.length))}`;
    });
    d += ` H${W - RIGHT}`;
    push(`<path d="${d}" fill="none" stroke="${s.color}" stroke-width="2.2"/>`);
  }
  push(`<rect x="${LEFT}" y="${CDF.top}" width="${plotW}" height="${CDF.bottom - CDF.top}" fill="none" stroke="#888"/>`);
  push(`<text x="${LEFT + plotW / 2}" y="${CDF.bottom + 36}" text-anchor="middle">turn latency (log scale): question asked → answer received</text>`);
  push(`<text transform="translate(22 ${(CDF.top + CDF.bottom) / 2}) rotate(-90)" text-anchor="middle">share of turns answered within x</text>`);

  // Legend, top left of the CDF (empty there: few turns are answered that fast at high shares).
  const legend = series.map((s) => {
    const sorted = [...s.seconds].sort((a, b) => a - b);
    return `${s.label}: p50 ${timeLabel(percentileOf(sorted, 0.5))}, p95 ${timeLabel(percentileOf(sorted, 0.95))} (n = ${sorted.length})`;
  });
  const legendWidth = Math.max(360, 52 + Math.ceil(7.2 * Math.max(...legend.map((l) => l.length))));
  push(`<rect x="${LEFT + 10}" y="${CDF.top + 10}" width="${legendWidth}" height="${16 + 20 * series.length}" fill="#ffffff" fill-opacity="0.92" stroke="#ccc"/>`);
  series.forEach((s, i) => {
    const ly = CDF.top + 28 + 20 * i;
    push(`<line x1="${LEFT + 20}" y1="${ly - 4}" x2="${LEFT + 44}" y2="${ly - 4}" stroke="${s.color}" stroke-width="3"/>`);
    push(`<text x="${LEFT + 52}" y="${ly}">${esc(legend[i])}</text>`);
  });

  // Panel 2: histograms, bars of the runs side by side in log-spaced bins.
  band(HIST.top, HIST.bottom, false);
  xGrid(HIST.top, HIST.bottom, true);
  const edges = Array.from({ length: (hi - lo) * BINS_PER_DECADE + 1 }, (_, i) => 10 ** (lo + i / BINS_PER_DECADE));
  const counts = series.map((s) => edges.slice(0, -1).map((e, i) => s.seconds.filter((v) => v >= e && (v < edges[i + 1] || (i === edges.length - 2 && v <= edges[i + 1]))).length));
  const maxCount = Math.max(1, ...counts.flat());
  const step = niceStep(maxCount);
  const top = Math.ceil(maxCount / step) * step;
  const hy = (c: number) => HIST.bottom - (c / top) * (HIST.bottom - HIST.top);
  for (let c = 0; c <= top; c += step) {
    push(`<line x1="${LEFT}" y1="${n1(hy(c))}" x2="${W - RIGHT}" y2="${n1(hy(c))}" stroke="#e4e4e4"/>`);
    push(`<text x="${LEFT - 8}" y="${n1(hy(c) + 4)}" text-anchor="end">${c}</text>`);
  }
  counts.forEach((row, si) => {
    row.forEach((c, bi) => {
      if (c === 0) return;
      const x0 = x(edges[bi]);
      const w = (x(edges[bi + 1]) - x0 - 2) / series.length;
      push(`<rect x="${n1(x0 + 1 + si * w)}" y="${n1(hy(c))}" width="${n1(w)}" height="${n1(HIST.bottom - hy(c))}" fill="${series[si].color}" fill-opacity="0.85"/>`);
    });
  });
  push(`<rect x="${LEFT}" y="${HIST.top}" width="${plotW}" height="${HIST.bottom - HIST.top}" fill="none" stroke="#888"/>`);
  push(`<text x="${LEFT}" y="${HIST.top - 10}" font-weight="bold">Histogram (${BINS_PER_DECADE} bins per decade)</text>`);
  push(`<text x="${LEFT}" y="${CDF.top - 10}" font-weight="bold">Cumulative distribution</text>`);
  push(`<text x="${LEFT + plotW / 2}" y="${HIST.bottom + 36}" text-anchor="middle">turn latency (log scale)</text>`);
  push(`<text transform="translate(22 ${(HIST.top + HIST.bottom) / 2}) rotate(-90)" text-anchor="middle">turns</text>`);
  text.footnote.forEach((line, i) => push(`<text x="${LEFT}" y="${H - 45 + 15 * i}" font-size="11" fill="#555">${esc(line)}</text>`));
  push('</svg>');
  return `${out.join('\n')}\n`;
}
