/**
 * Container HEALTHCHECK without curl: GET /health on the local port, exit 0 on 200.
 */
import { request } from 'node:http';
import { PROBE_PATHS, SERVICE_PORT } from './config/settings';

const port = Number(process.env.TBO_PORT || SERVICE_PORT);
const req = request({ host: '127.0.0.1', port, path: PROBE_PATHS.liveness, timeout: 3000 }, (res) => {
  res.resume();
  process.exit(res.statusCode === 200 ? 0 : 1);
});
req.on('timeout', () => req.destroy());
req.on('error', () => process.exit(1));
req.end();
