/**
 * The ceiling: a bare express 5 handler answering POST /v1/chat/completions with the same JSON TBO
 * returns (BENCH_RESPONSE_JSON), via `res.json`. Like TBO it disables etag and x-powered-by; it
 * does not read the body (node discards it). Counts requests it served.
 */
import { createServer } from 'node:http';
import { announce } from './child';
import { express } from './service-deps';

const answer: unknown = JSON.parse(process.env.BENCH_RESPONSE_JSON ?? '{}');
let served = 0;

const app = express();
app.disable('x-powered-by');
app.set('etag', false);
app.post('/v1/chat/completions', (_req, res) => {
  served++;
  res.json(answer);
});

const server = createServer(app);
server.keepAliveTimeout = 65_000;
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  announce(typeof address === 'object' && address !== null ? address.port : -1, () => ({ served }));
});
