import { ConfigError, loadConfig } from './config/load';
import { installCrashHandlers } from './observability/sentry';
import { TboService } from './service';

async function main(): Promise<void> {
  let service: TboService;
  try {
    service = new TboService(loadConfig());
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(err.message);
      process.exit(2);
    }
    throw err;
  }
  // With SENTRY_DSN: a crash is printed, reported (waiting at most 2 s) and exits 1, as without.
  if (service.errors) installCrashHandlers(service.errors);
  const stop = (signal: NodeJS.Signals) => {
    service.shutdown(signal).then(
      () => process.exit(0),
      (err: unknown) => {
        console.error('shutdown failed', err);
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  await service.listen();
}

main().catch((err: unknown) => {
  console.error('tbo failed to start:', err instanceof Error ? err.message : err);
  process.exit(1);
});
