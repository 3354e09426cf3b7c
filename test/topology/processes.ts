/**
 * A safety net for the processes the topology test starts: a tiny `sh` watchdog per process that
 * signals it by pid once this (jest worker) process is gone, e.g. SIGKILLed on a timeout, when no
 * afterAll runs. Normal teardown stops every process itself and then calls the returned function.
 */
import { spawn } from 'node:child_process';

export function guard(pid: number, signal: 'SIGTERM' | 'SIGKILL'): () => void {
  const script =
    'while kill -0 "$1" 2>/dev/null; do kill -0 "$2" 2>/dev/null || exit 0; sleep 0.5; done; ' +
    'kill -s "$3" "$2" 2>/dev/null; sleep 2; kill -0 "$2" 2>/dev/null && kill -9 "$2" 2>/dev/null';
  const watchdog = spawn('/bin/sh', ['-c', script, 'tbo-topology-watchdog', String(process.pid), String(pid), signal.slice(3)], {
    stdio: 'ignore',
  });
  watchdog.on('error', () => undefined);
  watchdog.unref();
  return () => {
    if (watchdog.exitCode === null && watchdog.signalCode === null) watchdog.kill('SIGKILL');
  };
}
