/**
 * The fake Anthropic + OpenAI upstream (test/support/fake-upstream.ts) as its own process, with
 * no artificial latency. Prints `PORT <n>`; reports CPU and its call count over IPC.
 *
 * The fake records every request it gets (for tests); here the records are dropped every 250 ms
 * so a long run does not grow the process, and the call count is kept separately.
 */
import { startFakeUpstream } from '../test/support/fake-upstream';
import { announce } from './child';

async function main(): Promise<void> {
  const fake = await startFakeUpstream();
  let calls = 0;
  setInterval(() => {
    calls += fake.calls;
    fake.reset();
  }, 250);
  announce(fake.port, () => ({ calls: calls + fake.calls }));
}

main().catch((err: unknown) => {
  console.error('upstream-server failed:', err);
  process.exit(1);
});
