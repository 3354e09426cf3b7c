import pino, { type Logger } from 'pino';

export type { Logger };

/** Log lines are written in batches of this many bytes (one write per request costs more than the request). */
const BATCH_BYTES = 4096;
/** …and at least this often, so a quiet service's logs are never held back for long. */
const FLUSH_EVERY_MS = 1000;

/** Stdout, asynchronous and batched; flushed on a timer and on shutdown (`logger.flush()`). */
function batchedStdout(): pino.DestinationStream {
  const stream = pino.destination({ sync: false, minLength: BATCH_BYTES });
  setInterval(() => stream.flush(), FLUSH_EVERY_MS).unref();
  return stream;
}

/**
 * JSON logs on stdout, written asynchronously in batches (no synchronous write per request).
 * Credentials and bodies are never logged; the redact list is a second line of defence for headers.
 */
export function createLogger(level: string, service = 'tbo', destination: pino.DestinationStream = batchedStdout()): Logger {
  return pino(
    {
      level,
      base: { service },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: {
        paths: ['req.headers.authorization', 'req.headers["x-api-key"]', 'headers.authorization', 'headers["x-api-key"]', '*.password', '*.apiKey'],
        censor: '[redacted]',
      },
    },
    destination,
  );
}
