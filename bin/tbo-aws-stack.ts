import { App, Stack, Validations, type AppProps, type StackProps } from 'aws-cdk-lib';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as route53 from 'aws-cdk-lib/aws-route53';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { Construct } from 'constructs';
import { PropValidator } from '../lib/core';
import { TboFargateService, type TboBedrockModelAccess, type TboFargateServiceProps } from '../lib/aws';

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
    this.tbo = new TboFargateService(this, 'Tbo', { ...tls, ...props.tbo, ...modelAccess, ...arch });
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
} as const;

/** The values of the `cpuArchitecture` context key (case-insensitive), as Docker and Go name them. */
const CONTEXT_ARCHITECTURES: Readonly<Record<string, ecs.CpuArchitecture>> = { x86_64: ecs.CpuArchitecture.X86_64, amd64: ecs.CpuArchitecture.X86_64, arm64: ecs.CpuArchitecture.ARM64 };

/**
 * The example stack's domain, certificate, Bedrock models and CPU architecture, from the app's
 * context; a partial domain, Bedrock settings without models and an unknown architecture are refused.
 */
export function stackPropsFromContext(app: App): Pick<TboAwsStackProps, 'domain' | 'certificateArn' | 'bedrock' | 'cpuArchitecture'> {
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
 * The same keys may sit in `cdk.json`'s `context` (see {@link TBO_AWS_CONTEXT}).
 */
export function createTboAwsApp(props: AppProps = {}): App {
  const app = new App(props);
  new TboAwsStack(app, 'TboAwsStack', stackPropsFromContext(app));
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return app;
}
