import { App, SecretValue, Stack, Token } from 'aws-cdk-lib';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { DEFAULT_TRACE_SAMPLING_RATIO, OTLP_HTTP_PORT, renderEnvironment, SECRET_ENV, SETTINGS, SIDECAR_OTLP_ENDPOINT, TboConfigValidationError } from '../../lib/core';
import { AWS_DEFAULTS, COLLECTOR_CONTAINER_NAME, TboFargateService, XRAY_WRITE_ACTIONS, type TboFargateServiceProps } from '../../lib/aws';
import { policyStatements } from './support/bedrock';
import { containersOf, envOfContainer, onlyResource, registryImage, resourcesOfType, synthTbo, TempDirs, type Synthesized } from './support/synth';

// CDK's own CloudFormation validation would add ~20 s per synth; cfn-lint checks a template with the sidecar (and every other
// backup and observability option) in backup.test.ts.
process.env.CDK_VALIDATION = 'false';

const dirs = new TempDirs();
afterAll(() => dirs.cleanup());

const ref = (id: string) => ({ Ref: id });
const SENTRY_ARN = 'arn:aws:secretsmanager:us-east-1:111122223333:secret:tbo/sentry-dsn-AbCdEf';
const PUSHGATEWAY = 'http://pushgateway.monitoring.internal:9091';
const COLLECTOR = `http://otel-collector.observability.internal:${OTLP_HTTP_PORT}`;
const logicalId = (s: Synthesized, c: { node: { defaultChild?: unknown } }) => s.stack.getLogicalId(c.node.defaultChild as never);

/** The tasks' egress ports to anywhere (the Redis rule names a security group instead). */
function egressPorts(s: Synthesized): number[] {
  const sg = s.json.Resources[logicalId(s, s.tbo.serviceSecurityGroup)].Properties!;
  return (sg.SecurityGroupEgress as { CidrIp?: string; FromPort: number }[]).filter((e) => e.CidrIp === '0.0.0.0/0').map((e) => e.FromPort);
}

let sidecar: Synthesized;
let collector: Synthesized;
beforeAll(() => {
  sidecar = synthTbo(dirs, (stack) => ({
    image: registryImage(),
    tracing: { collectorSidecar: { memoryLimitMiB: 256 }, samplingRatio: 0.5 },
    existingSentryDsnSecret: secretsmanager.Secret.fromSecretCompleteArn(stack, 'Sentry', SENTRY_ARN),
    config: { prometheusGateway: PUSHGATEWAY },
  }));
  collector = synthTbo(dirs, { image: registryImage(), tracing: { otlpEndpoint: COLLECTOR } });
}, 120_000);

describe('tracing.collectorSidecar: an ADOT collector exporting to X-Ray', () => {
  it('points the gateway at the sidecar on localhost with the OTEL_* variables of lib/core, sampling as given', () => {
    const env = envOfContainer(containersOf(sidecar.json).tbo);
    expect(env).toMatchObject({
      OTEL_EXPORTER_OTLP_ENDPOINT: SIDECAR_OTLP_ENDPOINT,
      OTEL_SERVICE_NAME: sidecar.tbo.serviceName,
      OTEL_TRACES_SAMPLER: 'parentbased_traceidratio',
      OTEL_TRACES_SAMPLER_ARG: '0.5',
    });
    expect(SIDECAR_OTLP_ENDPOINT).toBe('http://localhost:4318');
  });

  it('runs the pinned ADOT image with its X-Ray config: not essential, restarted by ECS, non-root, read-only, memory-capped, health-checked, logging with the gateway', () => {
    const containers = containersOf(sidecar.json);
    expect(Object.keys(containers)).toEqual(['tbo', COLLECTOR_CONTAINER_NAME]);
    const c = containers[COLLECTOR_CONTAINER_NAME];
    expect(c).toMatchObject({
      Image: 'public.ecr.aws/aws-observability/aws-otel-collector:v0.49.0',
      Essential: false,
      RestartPolicy: { Enabled: true },
      Command: ['--config=/etc/ecs/ecs-xray.yaml'],
      Memory: 256,
      User: '4317:4317',
      ReadonlyRootFilesystem: true,
      HealthCheck: { Command: ['CMD', '/healthcheck'], Interval: 30, Timeout: 5, Retries: 3, StartPeriod: 10 },
      LogConfiguration: { LogDriver: 'awslogs', Options: { 'awslogs-group': ref(logicalId(sidecar, sidecar.tbo.logGroup)), 'awslogs-stream-prefix': 'ecs' } },
    });
    expect(envOfContainer(c)).toEqual({ GOMEMLIMIT: '204MiB' }); // 80 % of the hard limit
    expect(c).not.toHaveProperty('PortMappings'); // nothing outside the task reaches it
    expect(containers.tbo.Essential).toBe(true);
    expect(sidecar.tbo.collectorContainer?.containerName).toBe(COLLECTOR_CONTAINER_NAME);
    expect(AWS_DEFAULTS.collectorSidecar.memoryLimitMiB).toBe(128);
  });

  it('sizes the gateway\'s in-flight body budget on the task memory the sidecar leaves', () => {
    const env = envOfContainer(containersOf(sidecar.json).tbo);
    const expected = renderEnvironment({}, undefined, { memoryBytes: (1024 - 256) * 1024 ** 2 })[SETTINGS.maxInflightBodyBytes.env];
    const whole = renderEnvironment({}, undefined, { memoryBytes: 1024 * 1024 ** 2 })[SETTINGS.maxInflightBodyBytes.env];
    expect(env[SETTINGS.maxInflightBodyBytes.env]).toBe(expected);
    expect(Number(expected)).toBeLessThan(Number(whole));
  });

  it('grants the task role exactly xray:PutTraceSegments and xray:PutTelemetryRecords, in one acknowledged policy the service waits for', () => {
    const taskRole = logicalId(sidecar, sidecar.tbo.taskDefinition.taskRole);
    const onTaskRole = policyStatements(sidecar.json).filter(({ roles }) => JSON.stringify(roles).includes(taskRole));
    expect(onTaskRole.map(({ policy, statement }) => ({ policy, statement }))).toEqual([
      { policy: logicalId(sidecar, sidecar.tbo.xrayPolicy!), statement: { Effect: 'Allow', Action: ['xray:PutTraceSegments', 'xray:PutTelemetryRecords'], Resource: '*' } },
    ]);
    expect([...XRAY_WRITE_ACTIONS]).toEqual(['xray:PutTraceSegments', 'xray:PutTelemetryRecords']);
    expect(JSON.stringify(resourcesOfType(sidecar.json, 'AWS::IAM::Policy'))).not.toMatch(/xray:GetSampling|xray:\*/);
    expect(onlyResource(sidecar.json, 'AWS::ECS::Service').id).toBeDefined();
    const service = sidecar.json.Resources[onlyResource(sidecar.json, 'AWS::ECS::Service').id];
    expect(service.DependsOn).toContain(logicalId(sidecar, sidecar.tbo.xrayPolicy!));
  });
});

describe('PROMETHEUS_GATEWAY and SENTRY_DSN', () => {
  it('renders config.prometheusGateway through the shared contract and opens its port', () => {
    expect(envOfContainer(containersOf(sidecar.json).tbo)[SETTINGS.prometheusGateway.env]).toBe(PUSHGATEWAY);
    expect(SETTINGS.prometheusGateway.env).toBe('PROMETHEUS_GATEWAY');
    expect(egressPorts(sidecar)).toEqual([443, 9091]);
  });

  it('injects the Sentry DSN from Secrets Manager by reference, never as a plain value, readable by the execution role only', () => {
    const tbo = containersOf(sidecar.json).tbo;
    expect((tbo.Secrets ?? []).find((e) => e.Name === SECRET_ENV.sentryDsn)).toEqual({ Name: 'SENTRY_DSN', ValueFrom: SENTRY_ARN });
    expect(envOfContainer(tbo)).not.toHaveProperty(SECRET_ENV.sentryDsn);
    const reads = policyStatements(sidecar.json).filter(({ statement }) => JSON.stringify(statement.Resource) === JSON.stringify(SENTRY_ARN));
    expect(reads.map(({ roles }) => roles)).toEqual([[ref(logicalId(sidecar, sidecar.tbo.taskDefinition.executionRole!))]]);
    expect(sidecar.tbo.sentryDsnSecret?.secretArn).toBe(SENTRY_ARN);
  });
});

describe('tracing.otlpEndpoint: an existing collector', () => {
  it('points the gateway at it, sampling 10 % by default, with no sidecar and no X-Ray grant', () => {
    const containers = containersOf(collector.json);
    expect(Object.keys(containers)).toEqual(['tbo']);
    expect(envOfContainer(containers.tbo)).toMatchObject({
      OTEL_EXPORTER_OTLP_ENDPOINT: COLLECTOR,
      OTEL_SERVICE_NAME: collector.tbo.serviceName,
      OTEL_TRACES_SAMPLER: 'parentbased_traceidratio',
      OTEL_TRACES_SAMPLER_ARG: String(DEFAULT_TRACE_SAMPLING_RATIO),
    });
    expect(DEFAULT_TRACE_SAMPLING_RATIO).toBe(0.1);
    expect(JSON.stringify(resourcesOfType(collector.json, 'AWS::IAM::Policy'))).not.toContain('xray:');
    expect(collector.tbo.xrayPolicy).toBeUndefined();
  });

  it('lets the tasks reach the collector\'s port', () => {
    expect(egressPorts(collector)).toEqual([443, OTLP_HTTP_PORT]);
    const rule = (collector.json.Resources[logicalId(collector, collector.tbo.serviceSecurityGroup)].Properties!.SecurityGroupEgress as { FromPort: number; Description: string }[]).find((e) => e.FromPort === OTLP_HTTP_PORT);
    expect(rule?.Description).toBe('Pushgateway or OTLP collector port');
  });
});

describe('tracing validation (no synth)', () => {
  const build = (props: TboFargateServiceProps | ((stack: Stack) => TboFargateServiceProps)) => () => {
    const stack = new Stack(new App(), 'S');
    return new TboFargateService(stack, 'Tbo', { image: registryImage(), ...(typeof props === 'function' ? props(stack) : props) });
  };
  const problems = (props: Parameters<typeof build>[0]): string[] => {
    try {
      build(props)();
    } catch (err) {
      expect(err).toBeInstanceOf(TboConfigValidationError);
      return [...(err as TboConfigValidationError).problems];
    }
    throw new Error('expected a TboConfigValidationError');
  };

  it.each<[string, TboFargateServiceProps, string[]]>([
    ['an endpoint and the sidecar together', { tracing: { otlpEndpoint: COLLECTOR, collectorSidecar: true } }, [
      `tracing.collectorSidecar: received true; contradicts tracing.otlpEndpoint ("${COLLECTOR}"): the gateway exports to one collector; remove one of them`,
    ]],
    ['an endpoint that is not an http(s) URL', { tracing: { otlpEndpoint: 'otel-collector:4317' } }, [
      'tracing.otlpEndpoint: received "otel-collector:4317"; must be an http:// or https:// URL (the collector\'s OTLP/HTTP base, e.g. http://otel-collector.observability:4318)',
    ]],
    ['a ratio above 1', { tracing: { collectorSidecar: true, samplingRatio: 1.5 } }, ['tracing.samplingRatio: received 1.5; must be a number from 0 to 1']],
    ['a ratio with tracing off', { tracing: { samplingRatio: 0.5 } }, [
      'tracing.samplingRatio: received 0.5; is unused without tracing.otlpEndpoint or tracing.collectorSidecar (tracing is off); add one of them or remove it',
    ]],
    ['a sidecar taking more than half the task', { tracing: { collectorSidecar: { memoryLimitMiB: 768 } } }, ['tracing.collectorSidecar.memoryLimitMiB: received 768; must be an integer from 32 to 512']],
    ['a relative config path', { tracing: { collectorSidecar: { configPath: 'ecs/ecs-xray.yaml' } } }, [
      'tracing.collectorSidecar.configPath: received "ecs/ecs-xray.yaml"; must be an absolute path in the image (e.g. /etc/ecs/ecs-xray.yaml)',
    ]],
  ])('refuses %s, naming the props', (_name, props, expected) => {
    expect(problems(props)).toEqual(expected.map((p) => `TboFargateService: ${p}`));
  });

  it('refuses a Sentry DSN secret whose value would sit in the template, without showing it', () => {
    const message = problems((stack) => ({ existingSentryDsnSecret: new secretsmanager.Secret(stack, 'Dsn', { secretStringValue: SecretValue.unsafePlainText('https://do-not-show@o1.ingest.sentry.io/1') }) }));
    expect(message).toEqual([expect.stringMatching(/^TboFargateService: existingSentryDsnSecret: received "\(secret, not shown\)"; its value would be written into the template in plain text/)]);
    expect(message.join('\n')).not.toContain('do-not-show');
  });

  it('warns when the endpoint is known only at deploy (no egress rule can name its port)', () => {
    const tbo = build({ tracing: { otlpEndpoint: Token.asString({ Ref: 'CollectorUrl' }) } })();
    const warnings = tbo.node.metadata.filter((m) => m.type === 'aws:cdk:warning').map((m) => String(m.data));
    expect(warnings).toEqual(expect.arrayContaining([expect.stringMatching(/^a URL the service calls \(tracing\.otlpEndpoint or a config URL\) is known only at deploy/)]));
  });

  it('accepts a sidecar with your own image and a ratio of 0 or 1', () => {
    expect(build({ tracing: { collectorSidecar: { image: registryImage(), memoryLimitMiB: 512 }, samplingRatio: 0 } })).not.toThrow();
    expect(build({ tracing: { otlpEndpoint: 'https://collector.example.com', samplingRatio: 1 } })).not.toThrow();
    expect(build({ tracing: {} })).not.toThrow();
  });
});
