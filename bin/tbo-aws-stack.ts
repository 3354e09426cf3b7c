import { App, Stack, Validations, type AppProps, type StackProps } from 'aws-cdk-lib';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as route53 from 'aws-cdk-lib/aws-route53';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { Construct } from 'constructs';
import { PropValidator } from '../lib/core';
import { TboFargateService, type TboAwsTracingOptions, type TboBedrockModelAccess, type TboFargateServiceProps, type TboRedisSnapshotSource } from '../lib/aws';

/** A domain name in a Route 53 public hosted zone you own, to serve the gateway on over HTTPS. */
export interface TboAwsStackDomain {
  /** The name clients use, e.g. `tbo.example.com`. */
  readonly domainName: string;
  /** Id of the hosted zone that holds it, e.g. `Z0123456789ABCDEFGHIJ`. */
  readonly hostedZoneId: string;
  /** Name of that hosted zone, e.g. `example.com`. */
  readonly hostedZoneName: string;
}

export interface TboAwsStackProps extends StackProps {
  /** Props of the gateway construct. @default - every default */
  readonly tbo?: TboFargateServiceProps;
  /**
   * Serve the gateway on this domain: a DNS-validated certificate, an internet-facing HTTPS load
   * balancer with HTTP redirected to HTTPS, and an alias record in the zone.
   * @default - none: the load balancer is internal (plain HTTP, reachable only from the VPC)
   */
  readonly domain?: TboAwsStackDomain;
  /**
   * ARN of an ACM certificate (in the stack's region) for an internet-facing HTTPS load balancer;
   * point your DNS name at the `ServiceUrl` output's host yourself.
   * @default - none (see `domain`)
   */
  readonly certificateArn?: string;
  /**
   * Claude on Amazon Bedrock with the task role's own credentials: the models are granted to the
   * task role and the routing tiers send them to Bedrock (the construct's `modelAccess.bedrock`).
   * @default - none: every route uses an API key
   */
  readonly bedrock?: TboBedrockModelAccess;
  /**
   * CPU architecture of the tasks (the construct's `cpuArchitecture`): `ecs.CpuArchitecture.ARM64`
   * runs them on Graviton and builds the bundled image for linux/arm64.
   * @default ecs.CpuArchitecture.X86_64
   */
  readonly cpuArchitecture?: ecs.CpuArchitecture;
  /** Export Redis snapshots to a new S3 bucket (the construct's `redis.snapshotExport: true`). @default false */
  readonly redisSnapshotExport?: boolean;
  /**
   * Seed the Redis from a snapshot or RDB files (the construct's `redis.restoreFromSnapshot`): on a
   * deployed stack this REPLACES the replication group.
   * @default - an empty Redis
   */
  readonly redisRestoreFromSnapshot?: TboRedisSnapshotSource;
  /** Regions the construct's secrets are replicated to (`secretReplicaRegions`). @default - none */
  readonly secretReplicaRegions?: readonly string[];
  /** OpenTelemetry traces (the construct's `tracing`). @default - none */
  readonly tracing?: TboAwsTracingOptions;
  /** ARN of a Secrets Manager secret (in the stack's Region) holding a Sentry DSN, injected as `SENTRY_DSN`. @default - none */
  readonly sentryDsnSecretArn?: string;
}

/**
 * The example stack: the TBO gateway with every default, environment-agnostic (no account or
 * region). Without `domain` or `certificateArn` the gateway is internal: nothing reaches it in
 * plain text from the internet.
 */
export class TboAwsStack extends Stack {
  readonly tbo: TboFargateService;

  constructor(scope: Construct, id: string, props: TboAwsStackProps = {}) {
    super(scope, id, { description: 'TBO LLM gateway on ECS Fargate with ElastiCache Redis (tbo-deploy)', ...props });
    const tls: TboFargateServiceProps = {};
    if (props.domain) {
      const { domainName, hostedZoneId, hostedZoneName } = props.domain;
      Object.assign(tls, { domainName, hostedZone: route53.HostedZone.fromHostedZoneAttributes(this, 'HostedZone', { hostedZoneId, zoneName: hostedZoneName }) });
    }
    if (props.certificateArn) Object.assign(tls, { certificate: acm.Certificate.fromCertificateArn(this, 'Certificate', props.certificateArn) });
    const modelAccess = props.bedrock ? { modelAccess: { ...props.tbo?.modelAccess, bedrock: props.bedrock } } : {};
    const arch = props.cpuArchitecture ? { cpuArchitecture: props.cpuArchitecture } : {};
    this.tbo = new TboFargateService(this, 'Tbo', { ...tls, ...props.tbo, ...modelAccess, ...arch, ...this.backupAndTelemetry(props) });
  }

  /** The construct props the stack's backup and observability props set (none by default). */
  private backupAndTelemetry(props: TboAwsStackProps): TboFargateServiceProps {
    const out: { -readonly [K in keyof TboFargateServiceProps]?: TboFargateServiceProps[K] } = {};
    const redisOptions = { ...(props.redisSnapshotExport ? { snapshotExport: true } : {}), ...(props.redisRestoreFromSnapshot ? { restoreFromSnapshot: props.redisRestoreFromSnapshot } : {}) };
    if (Object.keys(redisOptions).length) {
      const given = (['redisSnapshotExport', 'redisRestoreFromSnapshot'] as const).filter((k) => props[k] !== undefined);
      new PropValidator()
        .check(props.tbo?.redis !== false, given.join(', '), true, 'needs the Redis the construct creates, and tbo.redis is false; remove one of them')
        .throwIfInvalid('TboAwsStack');
      out.redis = { ...(props.tbo?.redis || {}), ...redisOptions };
    }
    if (props.secretReplicaRegions) out.secretReplicaRegions = props.secretReplicaRegions;
    if (props.tracing) out.tracing = props.tracing;
    if (props.sentryDsnSecretArn) out.existingSentryDsnSecret = secretsmanager.Secret.fromSecretCompleteArn(this, 'SentryDsn', props.sentryDsnSecretArn);
    return out;
  }
}

/** The context keys of the example app (`cdk deploy -c key=value`, or `cdk.json` / `cdk.context.json`). */
export const TBO_AWS_CONTEXT = {
  domainName: 'domainName',
  hostedZoneId: 'hostedZoneId',
  hostedZoneName: 'hostedZoneName',
  certificateArn: 'certificateArn',
  bedrockModels: 'bedrockModels',
  bedrockRegion: 'bedrockRegion',
  bedrockCrossRegion: 'bedrockCrossRegion',
  cpuArchitecture: 'cpuArchitecture',
  redisSnapshotExport: 'redisSnapshotExport',
  redisRestoreSnapshotName: 'redisRestoreSnapshotName',
  redisRestoreSnapshotArns: 'redisRestoreSnapshotArns',
  secretReplicaRegions: 'secretReplicaRegions',
  otlpEndpoint: 'otlpEndpoint',
  xraySidecar: 'xraySidecar',
  traceSamplingRatio: 'traceSamplingRatio',
  sentryDsnSecretArn: 'sentryDsnSecretArn',
} as const;

/** The stack props the backup and observability context keys set. */
type ContextBackupAndTelemetry = Pick<TboAwsStackProps, 'redisSnapshotExport' | 'redisRestoreFromSnapshot' | 'secretReplicaRegions' | 'tracing' | 'sentryDsnSecretArn'>;

/** A complete Secrets Manager secret ARN (with the 6-character suffix Secrets Manager appends). */
const SECRET_COMPLETE_ARN = /^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:.+-[A-Za-z0-9]{6}$/;

/** The values of the `cpuArchitecture` context key (case-insensitive), as Docker and Go name them. */
const CONTEXT_ARCHITECTURES: Readonly<Record<string, ecs.CpuArchitecture>> = { x86_64: ecs.CpuArchitecture.X86_64, amd64: ecs.CpuArchitecture.X86_64, arm64: ecs.CpuArchitecture.ARM64 };

/**
 * The example stack's domain, certificate, Bedrock models, CPU architecture, backup and
 * observability options, from the app's context; a partial domain, Bedrock settings without
 * models, an unknown architecture and malformed backup or observability keys are refused.
 */
export function stackPropsFromContext(app: App): Pick<TboAwsStackProps, 'domain' | 'certificateArn' | 'bedrock' | 'cpuArchitecture'> & ContextBackupAndTelemetry {
  const read = (key: string): string | undefined => {
    const value: unknown = app.node.tryGetContext(key);
    return value === undefined || value === '' ? undefined : String(value);
  };
  const c = TBO_AWS_CONTEXT;
  const [domainName, hostedZoneId, hostedZoneName, certificateArn] = [read(c.domainName), read(c.hostedZoneId), read(c.hostedZoneName), read(c.certificateArn)];
  const given = { domainName, hostedZoneId, hostedZoneName };
  const missing = Object.entries(given).filter(([, v]) => v === undefined).map(([k]) => k);
  const [bedrockModels, bedrockRegion, bedrockCrossRegion] = [read(c.bedrockModels), read(c.bedrockRegion), read(c.bedrockCrossRegion)];
  const models = bedrockModels?.split(',').map((m) => m.trim()).filter(Boolean);
  const architecture = read(c.cpuArchitecture);
  const cpuArchitecture = architecture === undefined ? undefined : CONTEXT_ARCHITECTURES[architecture.toLowerCase()];
  new PropValidator()
    .check(
      architecture === undefined || cpuArchitecture !== undefined,
      'context',
      { cpuArchitecture: architecture },
      `accepted values of -c ${c.cpuArchitecture}=…: ${Object.keys(CONTEXT_ARCHITECTURES).join(', ')} (x86_64 when not given)`,
    )
    .check(
      models !== undefined || (bedrockRegion === undefined && bedrockCrossRegion === undefined),
      'context',
      { bedrockRegion, bedrockCrossRegion },
      `Bedrock settings need the models to grant: -c ${c.bedrockModels}=claude-sonnet-4-5,claude-haiku-4-5`,
    )
    .check(
      missing.length === 0 || missing.length === 3,
      'context',
      given,
      `a domain needs all three of -c ${c.domainName}=… -c ${c.hostedZoneId}=… -c ${c.hostedZoneName}=… (missing: ${missing.join(', ')})`,
    )
    .throwIfInvalid('TboAwsStack');
  return {
    domain: domainName && hostedZoneId && hostedZoneName ? { domainName, hostedZoneId, hostedZoneName } : undefined,
    certificateArn,
    bedrock: models ? { models, region: bedrockRegion, crossRegion: bedrockCrossRegion as TboBedrockModelAccess['crossRegion'] } : undefined,
    cpuArchitecture,
    ...backupAndTelemetryFromContext(read),
  };
}

/**
 * The backup and observability keys: `redisSnapshotExport=true`, `redisRestoreSnapshotName=…` or
 * `redisRestoreSnapshotArns=arn,…`, `secretReplicaRegions=r1,r2`, `xraySidecar=true` or
 * `otlpEndpoint=http://…:4318`, `traceSamplingRatio=0.1`, `sentryDsnSecretArn=arn:…`. The
 * construct validates the values themselves; here only their form.
 */
function backupAndTelemetryFromContext(read: (key: string) => string | undefined): ContextBackupAndTelemetry {
  const c = TBO_AWS_CONTEXT;
  const list = (value: string | undefined) => value?.split(',').map((v) => v.trim()).filter(Boolean);
  const flag = (key: string) => read(key)?.toLowerCase();
  const [exportFlag, sidecarFlag] = [flag(c.redisSnapshotExport), flag(c.xraySidecar)];
  const [snapshotName, snapshotArns] = [read(c.redisRestoreSnapshotName), list(read(c.redisRestoreSnapshotArns))];
  const [otlpEndpoint, ratioText, sentryDsnSecretArn] = [read(c.otlpEndpoint), read(c.traceSamplingRatio), read(c.sentryDsnSecretArn)];
  const samplingRatio = ratioText === undefined ? undefined : Number(ratioText);
  const booleans = ['true', 'false', undefined];
  new PropValidator()
    .check(booleans.includes(exportFlag) && booleans.includes(sidecarFlag), 'context', { redisSnapshotExport: exportFlag, xraySidecar: sidecarFlag }, `-c ${c.redisSnapshotExport}=… and -c ${c.xraySidecar}=… accept true or false`)
    .check(samplingRatio === undefined || (ratioText !== '' && Number.isFinite(samplingRatio)), 'context', { traceSamplingRatio: ratioText }, `-c ${c.traceSamplingRatio}=… must be a number from 0 to 1`)
    .check(sentryDsnSecretArn === undefined || SECRET_COMPLETE_ARN.test(sentryDsnSecretArn), 'context', { sentryDsnSecretArn }, `-c ${c.sentryDsnSecretArn}=… must be a complete secret ARN (arn:aws:secretsmanager:<region>:<account>:secret:<name>-AbCdEf)`)
    .throwIfInvalid('TboAwsStack');
  const tracing: TboAwsTracingOptions = {
    ...(otlpEndpoint !== undefined ? { otlpEndpoint } : {}),
    ...(sidecarFlag === 'true' ? { collectorSidecar: true } : {}),
    ...(samplingRatio !== undefined ? { samplingRatio } : {}),
  };
  const restore = snapshotName !== undefined || snapshotArns !== undefined;
  return {
    redisSnapshotExport: exportFlag === 'true' ? true : undefined,
    redisRestoreFromSnapshot: restore ? { snapshotName, snapshotArns } : undefined,
    secretReplicaRegions: list(read(c.secretReplicaRegions)),
    tracing: Object.keys(tracing).length ? tracing : undefined,
    sentryDsnSecretArn,
  };
}

/**
 * The CDK app of `cdk.json`: `TboAwsStack` checked by cdk-nag's AwsSolutions pack (a finding fails
 * the synth).
 *
 * By default the gateway is internal (reachable only from inside its VPC, over HTTP). To serve it
 * on the internet over HTTPS, give it a domain in a Route 53 public hosted zone you own (a
 * DNS-validated certificate, an alias record and an HTTP → HTTPS redirect are created):
 *
 * ```sh
 * npx cdk deploy -c domainName=tbo.example.com -c hostedZoneId=Z0123456789ABCDEFGHIJ -c hostedZoneName=example.com
 * ```
 *
 * or a certificate you already have in ACM (same region as the stack), then point your DNS name at
 * the `ServiceUrl` output's host:
 *
 * ```sh
 * npx cdk deploy -c certificateArn=arn:aws:acm:us-east-1:111122223333:certificate/…
 * ```
 *
 * To serve Claude from Amazon Bedrock with the task role's own credentials (no Anthropic key),
 * name the models; the task role is granted exactly them and the routing sends them to Bedrock.
 * `bedrockRegion` is needed for the default geographic inference profiles, as the stack itself is
 * environment-agnostic (`-c bedrockCrossRegion=global` works without it):
 *
 * ```sh
 * npx cdk deploy -c bedrockModels=claude-haiku-4-5,claude-sonnet-4-5,claude-opus-4-1 -c bedrockRegion=us-east-1
 * ```
 *
 * To run the tasks on AWS Graviton (Fargate bills ARM64 less per vCPU-hour and GB-hour), build
 * the bundled image for linux/arm64 and run it there; on an x86 machine Docker needs arm64
 * emulation (QEMU, built into Docker Desktop; on a Linux engine
 * `docker run --privileged --rm tonistiigi/binfmt --install arm64` once):
 *
 * ```sh
 * npx cdk deploy -c cpuArchitecture=arm64
 * ```
 *
 * Backup and observability (see lib/aws/README.md): export Redis snapshots to a new bucket
 * (`RedisBackupBucketName` output), replicate the secrets to other Regions, send traces to X-Ray
 * through an ADOT collector sidecar (or `-c otlpEndpoint=http://collector:4318`), report errors to
 * Sentry with a DSN kept in Secrets Manager; after a loss, seed a new Redis from a snapshot (this
 * replaces the replication group of a deployed stack):
 *
 * ```sh
 * npx cdk deploy -c redisSnapshotExport=true -c secretReplicaRegions=us-west-2 -c xraySidecar=true -c sentryDsnSecretArn=arn:aws:secretsmanager:…
 * npx cdk deploy -c redisRestoreSnapshotName=<final or automatic snapshot name>
 * ```
 *
 * The same keys may sit in `cdk.json`'s `context` (see {@link TBO_AWS_CONTEXT}).
 */
export function createTboAwsApp(props: AppProps = {}): App {
  const app = new App(props);
  new TboAwsStack(app, 'TboAwsStack', stackPropsFromContext(app));
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return app;
}
