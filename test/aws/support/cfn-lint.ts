import { spawn } from 'node:child_process';

/** The outcome of cfn-lint over some templates. */
export interface CfnLintResult {
  /** Exit statuses, one per cfn-lint process (`--non-zero-exit-code error`: 0 unless there is an error). */
  readonly statuses: (number | null)[];
  readonly errors: string[];
  readonly warnings: string[];
}

function run(files: readonly string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('cfn-lint', ['--non-zero-exit-code', 'error', '--format', 'parseable', ...files], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.once('error', reject);
    child.once('close', (status) => resolve({ status, stdout, stderr }));
  });
}

/**
 * Runs `cfn-lint --non-zero-exit-code error` over the templates, split over `processes` parallel
 * runs, and sorts its parseable lines (file:line:col:endLine:endCol:RULE:message) into errors (E
 * rules) and warnings (W rules).
 */
export async function cfnLint(files: readonly string[], processes = 2): Promise<CfnLintResult> {
  const chunks = Array.from({ length: Math.min(processes, files.length) }, (_, i) => files.filter((_f, j) => j % processes === i));
  const runs = await Promise.all(chunks.map(run));
  for (const r of runs) if (r.status !== 0 && r.status !== 2 && !r.stdout) throw new Error(`cfn-lint failed (${r.status}): ${r.stderr}`);
  const lines = runs.flatMap((r) => r.stdout.split('\n').filter(Boolean));
  const rule = (l: string) => l.split(':')[5] ?? '';
  return {
    statuses: runs.map((r) => r.status),
    errors: lines.filter((l) => rule(l).startsWith('E')),
    warnings: lines.filter((l) => rule(l).startsWith('W')),
  };
}
