import pino, { type Logger } from 'pino';

export type { Logger };

/**
 * JSON logs on stdout, written asynchronously (no synchronous write per request). Credentials and
 * bodies are never logged; the redact list is a second line of defence for headers.
 */
export function createLogger(level: string, service = 'tbo', destination: pino.DestinationStream = pino.destination({ sync: false })): Logger {
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
