import { Raster, type Rgb } from './png.js';
import type { CompareReport } from './report.js';

const CHORUS: Rgb = [31, 119, 180];
const JANUS: Rgb = [230, 110, 20];
const AXIS: Rgb = [60, 60, 60];
const GRID: Rgb = [225, 225, 225];
const LIMIT: Rgb = [200, 40, 40];

/** A median; `label` marks one that broke the budget (loss above 1 %). */
interface Point { x: number; y: number; label?: string }

/** A "nice" axis maximum (1, 2 or 5 times a power of ten) at or above `v`. */
export function niceMax(v: number): number {
  if (!(v > 0)) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

function panel(r: Raster, x: number, y: number, w: number, h: number, title: string, series: { color: Rgb; points: Point[] }[], xLabel: string): void {
  const all = series.flatMap((s) => s.points);
  const xMax = niceMax(Math.max(1, ...all.map((p) => p.x)));
  const yMax = niceMax(Math.max(1.05, ...all.map((p) => p.y)));
  const left = x + 70;
  const top = y + 40;
  const pw = w - 90;
  const ph = h - 100;
  const px = (v: number): number => left + (v / xMax) * pw;
  const py = (v: number): number => top + ph - (v / yMax) * ph;
  r.text(x + (w - Raster.textWidth(title)) / 2, y + 8, title, AXIS);
  for (let k = 0; k <= 5; k++) {
    const gy = py((yMax * k) / 5);
    r.line(left, gy, left + pw, gy, GRID);
    const label = ((yMax * k) / 5).toFixed(yMax < 2 ? 2 : 1);
    r.text(left - 10 - Raster.textWidth(label), gy - 7, label, AXIS);
    const gx = px((xMax * k) / 5);
    r.line(gx, top, gx, top + ph, GRID);
    const xl = String(Math.round((xMax * k) / 5));
    r.text(gx - Raster.textWidth(xl) / 2, top + ph + 10, xl, AXIS);
  }
  r.line(left, top, left, top + ph, AXIS, 2);
  r.line(left, top + ph, left + pw, top + ph, AXIS, 2);
  // The one-core budget.
  if (yMax >= 1) {
    r.line(left, py(1), left + pw, py(1), LIMIT, 1, 6);
    r.text(left + pw - Raster.textWidth('1 CORE'), py(1) - 18, '1 CORE', LIMIT);
  }
  r.text(left + (pw - Raster.textWidth(xLabel)) / 2, top + ph + 34, xLabel, AXIS);
  for (const s of series) {
    const pts = [...s.points].sort((a, b) => a.x - b.x);
    for (let i = 1; i < pts.length; i++) r.line(px(pts[i - 1]!.x), py(pts[i - 1]!.y), px(pts[i]!.x), py(pts[i]!.y), s.color, 3);
    for (const p of pts) {
      r.fillRect(px(p.x) - 4, py(p.y) - 4, 9, 9, s.color);
      if (p.label) r.text(Math.min(px(p.x) - Raster.textWidth(p.label) / 2, left + pw - Raster.textWidth(p.label)), py(p.y) + 12, p.label, s.color);
    }
  }
}

/** CPU (core-seconds per second) against attendees, audio and video meetings, both servers. */
export function renderChart(report: CompareReport): Buffer {
  const r = new Raster(1000, 520);
  const points = (kind: 'audio' | 'video', server: 'chorus' | 'janus'): Point[] => report.results
    .filter((x) => x.scenario.kind === kind && x[server])
    .map((x) => {
      const m = x[server]!;
      return { x: x.attendees, y: m.cpu, label: m.lossPct > 1 ? `${m.lossPct.toFixed(0)}% loss` : undefined };
    });
  r.text(20, 12, `Server CPU (core-seconds per second) vs attendees, median of ${report.conditions.repetitions} run(s)`, AXIS);
  r.fillRect(20, 44, 30, 6, CHORUS);
  r.text(58, 40, 'Chorus', CHORUS);
  r.fillRect(170, 44, 30, 6, JANUS);
  r.text(208, 40, 'Janus (AudioBridge / VideoRoom)', JANUS);
  panel(r, 0, 70, 500, 450, 'Audio meetings, 4 speakers', [
    { color: CHORUS, points: points('audio', 'chorus') }, { color: JANUS, points: points('audio', 'janus') },
  ], 'attendees');
  panel(r, 500, 70, 500, 450, 'Video meetings, N x N', [
    { color: CHORUS, points: points('video', 'chorus') }, { color: JANUS, points: points('video', 'janus') },
  ], 'publishers + subscribers');
  return r.toPng();
}
