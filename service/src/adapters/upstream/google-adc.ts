import { readFile } from 'node:fs/promises';
import { gcpMetadata, GoogleAuth } from 'google-auth-library';

/**
 * The workload's Google identity for Vertex AI calls: OAuth access tokens and the project they
 * are billed to. One instance serves every Vertex backend (Claude and the OpenAI-compatible
 * endpoint), so both share one cached token.
 */
export interface VertexAuth {
  /** A bearer token with at least a few seconds left; rejects (naming ADC) when none can be had. */
  token(): Promise<string>;
  /** The Google Cloud project the calls go to. */
  project(): Promise<string>;
  /** The identity tokens are issued to (a service account's email) when known, for error messages. */
  principal?(): Promise<string | undefined>;
}

/** The scope Vertex AI needs (https://cloud.google.com/vertex-ai/docs/authentication). */
export const CLOUD_PLATFORM_SCOPE = 'https://www.googleapis.com/auth/cloud-platform';

/**
 * A token with less left than this is never sent (Google checks expiry when the request arrives).
 * The library itself refreshes a cached token once it has less than 5 minutes left
 * (`DEFAULT_EAGER_REFRESH_THRESHOLD_MILLIS` in google-auth-library's authclient), so only a token
 * that was issued nearly expired (a skewed clock) meets this check.
 */
const MIN_TOKEN_VALIDITY_MS = 5_000;
/** Bound on getting a token or the project: the library sets no timeout of its own on GCP. */
const ADC_TIMEOUT_MS = 10_000;
/** Bound on finding the identity's email for an error message. */
const PRINCIPAL_TIMEOUT_MS = 2_000;
/** Longest piece of a library error quoted in ours. */
const MAX_CAUSE_CHARS = 300;

/** Options of {@link adcAuth}. */
export interface AdcOptions {
  /**
   * Where the project look-up reads `GOOGLE_CLOUD_PROJECT`, `GCLOUD_PROJECT` and
   * `GOOGLE_APPLICATION_CREDENTIALS` (the library reads the credentials' own settings from
   * process.env). @default process.env
   */
  readonly env?: NodeJS.ProcessEnv;
  /** Bound on one token or project look-up. @default 10 s */
  readonly timeoutMs?: number;
}

/**
 * Application Default Credentials (https://cloud.google.com/docs/authentication/application-default-credentials)
 * through google-auth-library: `GOOGLE_APPLICATION_CREDENTIALS`, then gcloud's well-known ADC file,
 * then the metadata server (Cloud Run, GKE Workload Identity, Compute Engine), which issues the
 * service account's tokens. Tokens are cached by the library and refreshed before they expire.
 *
 * The project is `project` when given, else the credentials': `GOOGLE_CLOUD_PROJECT` /
 * `GCLOUD_PROJECT`, the credentials file's `project_id` (or `quota_project_id`), else the metadata
 * server's project. gcloud's configured project is deliberately not consulted: the library would
 * run the `gcloud` CLI for it, and a server does not shell out (set TBO_VERTEX_PROJECT instead).
 */
export function adcAuth(project?: string, opts: AdcOptions = {}): VertexAuth {
  return new ApplicationDefaultCredentials(project, opts.env ?? process.env, opts.timeoutMs ?? ADC_TIMEOUT_MS);
}

class ApplicationDefaultCredentials implements VertexAuth {
  private projectId: Promise<string> | undefined;
  private auth: GoogleAuth | undefined;
  private email: string | undefined;

  constructor(private readonly configuredProject: string | undefined, private readonly env: NodeJS.ProcessEnv, private readonly timeoutMs: number) {}

  project(): Promise<string> {
    if (!this.projectId) {
      const found = this.configuredProject ? Promise.resolve(this.configuredProject) : this.discoverProject();
      // A failed look-up is not kept: the next call tries again (the metadata server may be back).
      found.catch(() => {
        if (this.projectId === found) this.projectId = undefined;
      });
      this.projectId = found;
    }
    return this.projectId;
  }

  async token(): Promise<string> {
    const auth = await this.google();
    let client: Awaited<ReturnType<GoogleAuth['getClient']>>;
    try {
      client = await bounded(auth.getClient(), this.timeoutMs, 'finding credentials');
    } catch (err) {
      this.forget(auth);
      throw new Error(`Application Default Credentials found no usable credentials (${cause(err)}); on Cloud Run and GKE the metadata server provides them, elsewhere set GOOGLE_APPLICATION_CREDENTIALS`, { cause: err });
    }
    let token: string | null | undefined;
    try {
      ({ token } = await bounded(client.getAccessToken(), this.timeoutMs, 'getting an access token'));
    } catch (err) {
      throw new Error(`Application Default Credentials could not get an access token (${cause(err)})`, { cause: err });
    }
    if (!token) throw new Error('Application Default Credentials returned no access token');
    const expiry = client.credentials.expiry_date;
    if (typeof expiry === 'number' && expiry - Date.now() < MIN_TOKEN_VALIDITY_MS) {
      throw new Error(`Application Default Credentials issued an access token that expires in ${Math.max(0, Math.round((expiry - Date.now()) / 1000))} s; check the clock of this machine`);
    }
    return token;
  }

  async principal(): Promise<string | undefined> {
    if (this.email) return this.email;
    try {
      const auth = await this.google();
      // Only the email is read: for a key file the library returns the private key beside it.
      const { client_email: email } = await bounded(auth.getCredentials(), PRINCIPAL_TIMEOUT_MS, 'finding the identity');
      if (email) this.email = email;
      return email ?? undefined;
    } catch {
      return undefined;
    }
  }

  /** The library's client, made once the project is known (so the library never looks it up itself). */
  private async google(): Promise<GoogleAuth> {
    const projectId = await this.project();
    this.auth ??= new GoogleAuth({ scopes: [CLOUD_PLATFORM_SCOPE], projectId });
    return this.auth;
  }

  /**
   * Drops a client whose credential discovery failed: the library keeps that outcome (and
   * gcp-metadata its "no metadata server" answer) for the life of the process, so without this a
   * metadata server that was briefly unreachable at the first call would never be used.
   */
  private forget(auth: GoogleAuth): void {
    if (this.auth !== auth) return;
    this.auth = undefined;
    gcpMetadata.resetIsAvailableCache();
  }

  private async discoverProject(): Promise<string> {
    const fromEnv = this.env.GOOGLE_CLOUD_PROJECT || this.env.GCLOUD_PROJECT;
    if (fromEnv) return fromEnv;
    const file = this.env.GOOGLE_APPLICATION_CREDENTIALS;
    if (file) {
      const fromFile = await projectOfCredentialsFile(file);
      if (fromFile) return fromFile;
    }
    try {
      const fromMetadata: unknown = await bounded(gcpMetadata.project('project-id'), this.timeoutMs, 'asking the metadata server');
      if (typeof fromMetadata === 'string' && fromMetadata) return fromMetadata;
      throw new Error('it answered no project id');
    } catch (err) {
      throw new Error(`Application Default Credentials gave no Google Cloud project: the metadata server did not name one (${cause(err)}); set TBO_VERTEX_PROJECT, or check that the metadata server is reachable`, { cause: err });
    }
  }
}

/** The project a credentials JSON file names (a service account key's, or an ADC user file's quota project). */
async function projectOfCredentialsFile(path: string): Promise<string | undefined> {
  try {
    const json = JSON.parse(await readFile(path, 'utf8')) as { project_id?: unknown; quota_project_id?: unknown };
    const id = json.project_id ?? json.quota_project_id;
    return typeof id === 'string' && id ? id : undefined;
  } catch {
    return undefined; // the library reports an unreadable file when it loads the credentials
  }
}

/** Rejects once `ms` passed (the underlying call carries on; the library shares it with later calls). */
async function bounded<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms / 1000} s ${what}`)), ms);
    timer.unref();
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** A library error and its causes (the network error under gaxios' own), short and on one line. */
function cause(err: unknown): string {
  const parts: string[] = [];
  for (let e: unknown = err, depth = 0; e !== undefined && e !== null && depth < 4; depth++) {
    // Duck-typed: errors of node's own fetch may come from another realm.
    const { message, code, cause: next } = (typeof e === 'object' ? e : { message: String(e) }) as { message?: unknown; code?: unknown; cause?: unknown };
    const text = typeof message === 'string' ? message : String(e);
    const part = typeof code === 'string' && !text.includes(code) ? `${text} (${code})` : text;
    if (!parts.some((p) => p.includes(text))) parts.push(part);
    e = next;
  }
  const text = parts.join(': ').replace(/\s+/g, ' ').trim();
  return text.length > MAX_CAUSE_CHARS ? `${text.slice(0, MAX_CAUSE_CHARS)}…` : text;
}
