/**
 * Offline checks of the top-level docker-compose.yml and nginx.conf (no Docker engine needed):
 * `docker-compose config` (v1, from apt) and `nginx -t` (from apt), run unprivileged.
 */
import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parse as parseYaml } from 'yaml';
import { ADMIN_PORT, DEFAULT_REDIS_KEY_PREFIX, PROBE_PATHS, REDIS_KEY_PREFIX_PATTERN, SERVICE_PORT, SETTINGS } from '../../service/src/config/settings';
import { REPO_ROOT } from '../support/tbo';
import { loopbackValues, NGINX, nginxArgs, readNginxConf, renderNginxConf } from './nginx';

const execFileAsync = promisify(execFile);
const DOCKER_COMPOSE = '/usr/bin/docker-compose';
const COMPOSE_FILE = join(REPO_ROOT, 'docker-compose.yml');
const APP_SERVICES = ['tbo-1', 'tbo-2', 'tbo-3'];

/** Host environment for `docker-compose config`: PATH plus what a test passes, nothing inherited. */
async function compose(args: readonly string[], env: Record<string, string> = {}): Promise<string> {
  const { stdout } = await execFileAsync(DOCKER_COMPOSE, ['-f', COMPOSE_FILE, ...args], {
    cwd: REPO_ROOT,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env },
    timeout: 20_000,
  });
  return stdout;
}

interface ComposeService {
  readonly build?: { readonly context: string };
  readonly image?: string;
  readonly command?: readonly string[];
  readonly environment?: Record<string, string>;
  readonly expose?: readonly (string | number)[];
  readonly volumes?: readonly string[];
  readonly ports?: readonly { readonly published: number | string; readonly target: number }[];
  readonly healthcheck?: { readonly test: readonly string[] };
  readonly depends_on?: Record<string, { readonly condition: string }>;
  readonly stop_grace_period?: string;
}

/** "30s", "1m30s" → seconds. */
function seconds(duration: string): number {
  const units: Record<string, number> = { h: 3600, m: 60, s: 1 };
  let total = 0;
  for (const [, n, unit] of duration.matchAll(/(\d+(?:\.\d+)?)(h|m|s)/g)) total += Number(n) * units[unit];
  return total;
}

/** The directives of nginx.conf, comments removed, one per entry. */
function directives(conf: string): string[] {
  return conf
    .split('\n')
    .map((line) => line.replace(/#.*$/, '').trim())
    .filter(Boolean)
    .join(' ')
    .split(/[;{}]/)
    .map((d) => d.trim().replace(/\s+/g, ' '))
    .filter(Boolean);
}

describe('docker-compose.yml', () => {
  it('is valid for docker-compose v1 (`config -q` exits 0) with no host secrets set', async () => {
    await expect(compose(['config', '-q'])).resolves.toBe('');
  });

  it('runs three replicas built from ./service, Redis with AOF on a named volume, and nginx with nginx.conf', async () => {
    const secrets = {
      TBO_API_KEYS: 'team:0123456789abcdef0123',
      ANTHROPIC_API_KEY: 'sk-ant-from-host',
      OPENAI_API_KEY: 'sk-openai-from-host',
      TBO_ADMIN_KEYS: 'admin-from-host-0123456789',
      TBO_CACHE_SIGNING_KEY: 'signing-key-from-host-0123456789abcdef',
    };
    const config = parseYaml(await compose(['config'], secrets)) as { services: Record<string, ComposeService>; volumes: Record<string, unknown> };
    const { services } = config;
    expect(Object.keys(services).sort()).toEqual([...APP_SERVICES, 'nginx', 'redis'].sort());

    const settingEnvNames = new Set<string>(Object.values(SETTINGS).map((s) => s.env));
    for (const name of APP_SERVICES) {
      const app = services[name];
      expect(app.build?.context).toBe(join(REPO_ROOT, 'service'));
      expect(app.image).toBe(services[APP_SERVICES[0]].image); // one image for the three
      const env = app.environment ?? {};
      expect(env.REDIS_URL).toBe('redis://redis:6379/0');
      expect(env.TBO_PORT).toBe(String(SERVICE_PORT));
      expect(env.TBO_ADMIN_PORT).toBe(String(ADMIN_PORT));
      for (const [key, value] of Object.entries(secrets)) expect(env[key]).toBe(value); // from the host env
      const unknown = Object.keys(env).filter((key) => !settingEnvNames.has(key));
      expect(unknown).toEqual([]); // every variable is one the service reads
      expect(app.healthcheck?.test).toEqual(['CMD', 'node', 'dist/healthcheck.js']);
      expect(app.depends_on?.redis.condition).toBe('service_healthy');
      // Docker must wait out the drain before it SIGKILLs.
      expect(seconds(app.stop_grace_period ?? '10s')).toBeGreaterThan(Number(env.TBO_DRAIN_TIMEOUT));
      expect(app.ports).toBeUndefined(); // only nginx is published
    }

    const redis = services.redis;
    expect(redis.image).toBe('redis:7-alpine');
    expect(redis.command?.join(' ')).toContain('--appendonly yes');
    const [volume] = redis.volumes ?? [];
    expect(volume).toMatch(/^[a-z0-9_-]+:\/data(:rw)?$/);
    expect(Object.keys(config.volumes)).toContain(volume.split(':')[0]); // a named volume, not a bind mount
    expect(redis.healthcheck?.test).toEqual(['CMD', 'redis-cli', 'ping']);

    const nginx = services.nginx;
    expect(nginx.volumes).toContain(`${join(REPO_ROOT, 'nginx.conf')}:/etc/nginx/nginx.conf:ro`);
    expect(nginx.ports).toEqual([{ published: 80, target: 80 }]);
    expect(nginx.healthcheck?.test.join(' ')).toContain('/health');
    expect(Object.keys(nginx.depends_on ?? {}).sort()).toEqual(APP_SERVICES);
  });

  it("agrees with nginx.conf: the upstream servers are the replicas, idle connections close before a drain ends", async () => {
    const conf = directives(await readNginxConf());
    const servers = conf.filter((d) => d.startsWith('server ')).map((d) => d.split(' ')[1]);
    expect(servers).toEqual(APP_SERVICES.map((name) => `${name}:${SERVICE_PORT}`));
    // The upstream block's keepalive_timeout (the second one; the first is the client side's).
    const upstreamIdle = seconds(conf.filter((d) => d.startsWith('keepalive_timeout '))[1].split(' ')[1]);
    const { services } = parseYaml(await compose(['config'])) as { services: Record<string, ComposeService> };
    for (const name of APP_SERVICES) expect(upstreamIdle).toBeLessThan(Number(services[name].environment?.TBO_DRAIN_TIMEOUT));
  });

  it(`exposes the admin port ${ADMIN_PORT} on the compose network only: nginx publishes the one host port, and routes only the public port`, async () => {
    const { services } = parseYaml(await compose(['config'])) as { services: Record<string, ComposeService> };
    for (const name of APP_SERVICES) {
      expect((services[name].expose ?? []).map(String).sort()).toEqual([String(SERVICE_PORT), String(ADMIN_PORT)].sort());
      expect(services[name].environment?.TBO_ADMIN_PORT).toBe(String(ADMIN_PORT));
    }
    const published = Object.entries(services).filter(([, s]) => s.ports !== undefined);
    expect(published.map(([name, s]) => [name, s.ports])).toEqual([['nginx', [{ published: 80, target: 80 }]]]);
    // With the public port moved on the host, still only nginx's.
    const moved = parseYaml(await compose(['config'], { TBO_PUBLIC_PORT: '8080' })) as { services: Record<string, ComposeService> };
    expect(Object.entries(moved.services).filter(([, s]) => s.ports !== undefined).map(([name, s]) => [name, s.ports])).toEqual([['nginx', [{ published: 8080, target: 80 }]]]);

    const conf = directives(await readNginxConf());
    expect(conf.filter((d) => d.includes(String(ADMIN_PORT)))).toEqual([]); // no upstream, proxy_pass or listen on 9464
    expect(new Set(conf.filter((d) => d.startsWith('proxy_pass ')))).toEqual(new Set(['proxy_pass http://tbo_backend']));
  });

  it('gives the three replicas one fixed Redis key prefix of their own, and the signing and admin keys from the host', async () => {
    const { services } = parseYaml(await compose(['config'])) as { services: Record<string, ComposeService> };
    const prefixes = APP_SERVICES.map((name) => services[name].environment?.TBO_REDIS_KEY_PREFIX);
    expect(new Set(prefixes).size).toBe(1);
    expect(prefixes[0]).toMatch(REDIS_KEY_PREFIX_PATTERN);
    expect(prefixes[0]).not.toBe(DEFAULT_REDIS_KEY_PREFIX); // not the default another deployment sharing the Redis would use
    // Every secret comes from the host: with none set there, each is empty, which the service reads
    // as unset (a signing key derived from the other secrets and the prefix, no admin keys).
    const secretEnv = Object.values(SETTINGS).flatMap((s) => ('secret' in s && s.secret ? [s.env] : []));
    for (const name of APP_SERVICES) {
      const env = services[name].environment ?? {};
      expect(Object.keys(env)).toEqual(expect.arrayContaining(['TBO_ADMIN_KEYS', 'TBO_CACHE_SIGNING_KEY']));
      expect(Object.fromEntries(secretEnv.filter((key) => key in env).map((key) => [key, env[key]]))).toEqual(
        Object.fromEntries(secretEnv.filter((key) => key in env).map((key) => [key, ''])),
      );
    }
  });
});

describe('nginx.conf', () => {
  it('passes `nginx -t` rendered with loopback addresses, as a non-root prefix', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tbo-nginx-t-'));
    try {
      await writeFile(join(dir, 'nginx.conf'), renderNginxConf(await readNginxConf(), loopbackValues(18080, [18001, 18002, 18003])));
      // stdout is /dev/null, which the conf's `access_log /dev/stdout` can open (a pipe here could not).
      const child = spawn(NGINX, nginxArgs(dir, ['-t']), { stdio: ['ignore', 'ignore', 'pipe'], timeout: 10_000 });
      let stderr = '';
      child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
      const [code] = (await once(child, 'exit')) as [number | null];
      expect(stderr).toContain('test is successful');
      expect(code).toBe(0);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("keeps the guide's balancing and limits and what streaming needs", async () => {
    const all = directives(await readNginxConf());
    const has = (d: string) => expect(all).toContain(d);
    has('least_conn');
    has('keepalive 32');
    expect(all.find((d) => d.startsWith('limit_req_zone '))).toMatch(/ rate=10r\/s$/);
    has('limit_req zone=tbo_req_per_ip burst=20 nodelay');
    has('limit_conn tbo_conn_per_ip 10');
    has('location = /health');
    // The admin listener's paths are answered by nginx itself, never passed to a replica.
    const body = (path: string) => {
      const at = all.indexOf(`location = ${path}`);
      return at < 0 ? [] : all.slice(at + 1, all.findIndex((d, i) => i > at && d.startsWith('location ')));
    };
    expect(body(PROBE_PATHS.metrics)).toEqual(['return 404']);
    expect(body(PROBE_PATHS.healthDetails)).toEqual(['return 404']);
    has('proxy_buffering off');
    has('proxy_http_version 1.1');
    has('proxy_set_header Connection ""');
    expect(all.find((d) => d.startsWith('proxy_read_timeout '))).toBe('proxy_read_timeout 600s');
    // POSTs that reached an instance are never re-sent (see the comment in nginx.conf).
    const next = all.find((d) => d.startsWith('proxy_next_upstream '));
    expect(next).toBe('proxy_next_upstream error timeout http_502 http_503 http_504');
  });

  it('renders only the marked tokens, and refuses values the file does not mark', async () => {
    const source = await readNginxConf();
    const rendered = renderNginxConf(source, loopbackValues(18080, [18001, 18002, 18003]));
    const changed = source.split('\n').filter((line, i) => line !== rendered.split('\n')[i]);
    expect(changed.every((line) => /# @render \S+$/.test(line))).toBe(true);
    expect(changed).toHaveLength(4);
    expect(() => renderNginxConf(source, { ...loopbackValues(1, [2, 3, 4]), 'rate=99r/s': 'x' })).toThrow(/no "# @render" line for rate=99r\/s/);
  });
});
