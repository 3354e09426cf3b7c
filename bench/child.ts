/**
 * The child side of a bench-owned server: prints `PORT <n>` once it listens, answers `stats`
 * requests over IPC with its own `process.cpuUsage()`, and exits when the benchmark goes away.
 */
interface StatsRequest {
  readonly type: 'stats';
  readonly id: number;
}

function isStatsRequest(msg: unknown): msg is StatsRequest {
  return typeof msg === 'object' && msg !== null && (msg as StatsRequest).type === 'stats' && typeof (msg as StatsRequest).id === 'number';
}

export function announce(port: number, counters: () => Record<string, number> = () => ({})): void {
  process.on('message', (msg: unknown) => {
    if (!isStatsRequest(msg)) return;
    const cpu = process.cpuUsage();
    process.send?.({ type: 'stats', id: msg.id, cpu: { user: cpu.user, system: cpu.system }, rssBytes: process.memoryUsage.rss(), counters: counters() });
  });
  process.on('disconnect', () => process.exit(0)); // the benchmark ended
  process.stdout.write(`PORT ${port}\n`);
}
