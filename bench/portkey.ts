/**
 * The peer: the Portkey AI gateway (`@portkey-ai/gateway`, a dev dependency), started the way its
 * package starts it (`build/start-server.js --port=N --headless`) with a preload that forces every
 * listen() onto 127.0.0.1 (it has no host option), proxying to the bench's fake upstream through
 * its custom-host headers. Like TBO it is not bench-owned: CPU and memory come from /proc/<pid>.
 */
import { readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { ROOT, spawnLogged, type LoggedProcess } from './processes';

const requireFromRoot = createRequire(join(ROOT, 'package.json'));

export interface PortkeyInstall {
  readonly version: string;
  readonly startServer: string;
}

/** Where the installed gateway is, and its version; throws with the install command when missing. */
export function portkeyInstall(): PortkeyInstall {
  let pkgPath: string;
  try {
    pkgPath = requireFromRoot.resolve('@portkey-ai/gateway/package.json');
  } catch {
    throw new Error('@portkey-ai/gateway is not installed: run `npm ci` (it is a dev dependency)');
  }
  const pkg = JSON.parse(readFileSync(pkgPath, 'utf8')) as { version?: string };
  return { version: pkg.version ?? 'unknown', startServer: join(dirname(pkgPath), 'build', 'start-server.js') };
}

/** Starts the gateway on a free loopback port; stdout (its banner and logs) goes to `logPath`. */
export async function spawnPortkey(name: string, logPath: string): Promise<LoggedProcess & { readonly version: string }> {
  const install = portkeyInstall();
  const preload = join(ROOT, 'bench', 'loopback-listen.mjs');
  const proc = await spawnLogged(
    name,
    (port) => ({ args: ['--import', preload, install.startServer, `--port=${port}`, '--headless'], env: {} }),
    logPath,
    '/',
    true, // any HTTP answer means it listens
  );
  const addresses = listeningAddresses(proc.pid);
  if (!addresses.includes(`127.0.0.1:${proc.port}`)) throw new Error(`${name}: cannot see its listening socket in /proc (found: ${addresses.join(', ') || 'none'})`);
  const open = addresses.filter((a) => !a.startsWith('127.0.0.1:'));
  if (open.length > 0) throw new Error(`${name} listens beyond loopback: ${open.join(', ')}`);
  return { ...proc, version: install.version };
}

/** Headers that make Portkey forward an OpenAI request to `upstreamUrl` (the fake upstream). */
export function portkeyHeaders(upstreamUrl: string, openaiKey: string): Record<string, string> {
  return {
    authorization: `Bearer ${openaiKey}`,
    'x-portkey-provider': 'openai',
    'x-portkey-custom-host': `${upstreamUrl}/v1`,
  };
}

function hexToIpv4(hex: string): string {
  // /proc/net/tcp prints the address as a little-endian 32-bit word.
  return [6, 4, 2, 0].map((i) => parseInt(hex.slice(i, i + 2), 16)).join('.');
}

function hexToIpv6(hex: string): string {
  if (hex === '0'.repeat(32)) return '::';
  if (hex === '00000000000000000000000001000000') return '::1';
  if (hex.startsWith('0000000000000000FFFF0000')) return `::ffff:${hexToIpv4(hex.slice(24))}`;
  return hex;
}

/** Every TCP socket process `pid` listens on, as `address:port` (from /proc/<pid>/fd and /proc/net/tcp{,6}). */
export function listeningAddresses(pid: number): string[] {
  const inodes = new Set<string>();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const match = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (match) inodes.add(match[1]);
    } catch {
      // closed meanwhile
    }
  }
  const out: string[] = [];
  for (const [file, decode] of [['/proc/net/tcp', hexToIpv4], ['/proc/net/tcp6', hexToIpv6]] as const) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length < 10 || f[3] !== '0A' || !inodes.has(f[9])) continue; // 0A = LISTEN
      const [addr, port] = f[1].split(':');
      out.push(`${decode(addr)}:${parseInt(port, 16)}`);
    }
  }
  return out;
}
