/**
 * The faults × outcome table: one row per scenario, printed at the end of the run and written to
 * `test/faults/results/` (JSON with every measurement, and the table as Markdown).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';

export interface Outcome {
  readonly fault: string;
  readonly requests: number;
  readonly failures: number;
  /** The measurement that matters for this fault, in words with units. */
  readonly measurement: string;
  /** "pass", or what failed. */
  readonly verdict: string;
  readonly seconds: number;
  /** Everything else measured, for the JSON file. */
  readonly details: Record<string, unknown>;
}

const RESULTS_DIR = join(__dirname, 'results');

export class Outcomes {
  private readonly rows: Outcome[] = [];

  add(row: Outcome): void {
    this.rows.push(row);
  }

  table(): string {
    const head = ['fault', 'requests', 'failures', 'key measurement', 'verdict', 's'];
    const body = this.rows.map((r) => [r.fault, String(r.requests), String(r.failures), r.measurement, r.verdict, r.seconds.toFixed(1)]);
    const widths = head.map((h, i) => Math.max(h.length, ...body.map((row) => row[i].length)));
    const line = (cells: readonly string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i])).join(' | ')} |`;
    return [line(head), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...body.map(line)].join('\n');
  }

  /** Writes results/faults.json and results/faults.md; returns the table. */
  write(): string {
    const table = this.table();
    const machine = { cpus: cpus().length, cpu: cpus()[0]?.model ?? 'unknown', node: process.version, loadavg: loadavg().map((x) => Math.round(x * 100) / 100) };
    mkdirSync(RESULTS_DIR, { recursive: true });
    writeFileSync(join(RESULTS_DIR, 'faults.json'), `${JSON.stringify({ at: new Date().toISOString(), machine, outcomes: this.rows }, null, 2)}\n`);
    writeFileSync(
      join(RESULTS_DIR, 'faults.md'),
      `# Fault injection: faults × outcome\n\n${new Date().toISOString()} · ${machine.cpus} × ${machine.cpu} · node ${machine.node} · load average ${machine.loadavg.join(' ')}\n\n${table}\n`,
    );
    return table;
  }
}
