/**
 * Calibration: the smallest useful gateway, express 5 + undici (the service's own versions),
 * forwarding POST /v1/chat/completions to BENCH_UPSTREAM_URL and relaying the answer. No cache,
 * auth, validation, metrics or logs: what a pass-through costs on this machine, in the same run.
 */
import { createServer } from 'node:http';
import { announce } from './child';
import { express, undici } from './service-deps';

const target = `${process.env.BENCH_UPSTREAM_URL ?? 'http://127.0.0.1:1'}/v1/chat/completions`;
const agent = new undici.Agent({ connections: 256, keepAliveTimeout: 30_000 });

const app = express();
app.disable('x-powered-by');
app.set('etag', false);
app.post('/v1/chat/completions', express.raw({ type: () => true, limit: 1024 * 1024 }), async (req, res) => {
  const upstream = await undici.request(target, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: 'Bearer sk-bench-passthrough' },
    body: req.body as Buffer,
    dispatcher: agent,
  });
  const text = await upstream.body.text();
  res.status(upstream.statusCode).type('application/json').send(text);
});

const server = createServer(app);
server.keepAliveTimeout = 65_000;
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  announce(typeof address === 'object' && address !== null ? address.port : -1);
});
