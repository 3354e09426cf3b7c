/**
 * Test certificate authorities and server certificates made with the `openssl` CLI, in a temp dir.
 * Nothing here trusts anything: the files are what a TLS server presents and what a client is
 * told to trust, so tests can build exactly the certificate shapes they need (for example a
 * Memorystore-shaped one: CA-signed, the IP only in the subject CN, no subjectAltName).
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const OPENSSL = '/usr/bin/openssl';
const execFileAsync = promisify(execFile);

export interface TestCa {
  /** PEM of the CA certificate (what a client trusts). */
  readonly pem: string;
  readonly certFile: string;
  readonly keyFile: string;
}

export interface TestServerCert {
  readonly certFile: string;
  readonly keyFile: string;
  /** PEM of the server certificate. */
  readonly pem: string;
}

export interface ServerCertOptions {
  /** The subject's common name (CN). */
  readonly cn: string;
  /** subjectAltName entries, e.g. `['IP:127.0.0.1', 'DNS:redis.internal']`. @default none: no subjectAltName extension */
  readonly san?: readonly string[];
}

/** A temp dir of certificates; `remove()` deletes it. */
export interface CertDir {
  readonly dir: string;
  /** A self-signed CA (EC P-256, valid 2 days) named `name`. */
  ca(name: string): Promise<TestCa>;
  /** A server certificate signed by `ca` (EC P-256, valid 2 days, serverAuth). */
  serverCert(ca: TestCa, options: ServerCertOptions): Promise<TestServerCert>;
  remove(): Promise<void>;
}

async function openssl(...args: string[]): Promise<void> {
  await execFileAsync(OPENSSL, args, { timeout: 30_000 });
}

const KEY_ARGS = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

export async function certDir(): Promise<CertDir> {
  const dir = await mkdtemp(join(tmpdir(), 'tbo-certs-'));
  let n = 0;
  const file = (name: string): string => join(dir, `${n}-${name}`);
  return {
    dir,
    async ca(name) {
      n++;
      const certFile = file('ca.pem');
      const keyFile = file('ca.key');
      const config = file('ca.cnf');
      // An explicit config: the system openssl.cnf's defaults must not shape the certificate.
      await writeFile(
        config,
        [
          '[req]',
          'distinguished_name = dn',
          'x509_extensions = v3_ca',
          'prompt = no',
          '[dn]',
          `CN = ${name}`,
          '[v3_ca]',
          'basicConstraints = critical, CA:TRUE',
          'keyUsage = critical, keyCertSign, cRLSign',
          'subjectKeyIdentifier = hash',
          '',
        ].join('\n'),
      );
      await openssl('req', '-x509', ...KEY_ARGS, '-keyout', keyFile, '-out', certFile, '-days', '2', '-config', config);
      return { pem: await readFile(certFile, 'utf8'), certFile, keyFile };
    },
    async serverCert(ca, options) {
      n++;
      const certFile = file('server.pem');
      const keyFile = file('server.key');
      const csr = file('server.csr');
      const ext = file('server.ext');
      await openssl('req', '-new', ...KEY_ARGS, '-keyout', keyFile, '-out', csr, '-subj', `/CN=${options.cn}`);
      await writeFile(
        ext,
        [
          'basicConstraints = critical, CA:FALSE',
          'keyUsage = critical, digitalSignature, keyEncipherment',
          'extendedKeyUsage = serverAuth',
          'authorityKeyIdentifier = keyid',
          ...(options.san?.length ? [`subjectAltName = ${options.san.join(', ')}`] : []),
          '',
        ].join('\n'),
      );
      await openssl(
        'x509', '-req', '-in', csr, '-CA', ca.certFile, '-CAkey', ca.keyFile,
        '-set_serial', `0x${randomBytes(8).toString('hex')}`, '-days', '2', '-extfile', ext, '-out', certFile,
      );
      return { certFile, keyFile, pem: await readFile(certFile, 'utf8') };
    },
    remove: () => rm(dir, { recursive: true, force: true }),
  };
}

/** `openssl x509 -noout -text` of a certificate file: what a test asserts a certificate's shape on. */
export async function describeCert(certFile: string): Promise<string> {
  const { stdout } = await execFileAsync(OPENSSL, ['x509', '-in', certFile, '-noout', '-text'], { timeout: 30_000 });
  return stdout;
}
