import { Duration } from 'aws-cdk-lib';
import type * as acm from 'aws-cdk-lib/aws-certificatemanager';
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import type * as elasticache from 'aws-cdk-lib/aws-elasticache';
import type * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import type * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { DEPLOYED_JWT_CLAIMS, PropValidator, redisKeyPrefixFor, SERVICE_PORT, type RedisEndpoint, type ServiceConfig } from '../core';
import { allowAdminPortFrom, scraperProblem } from './admin-port';
import { alarmTopic, createAlarms, createOverheadAlarm } from './alarms';
import { cpuArchitectureOf, fargateSpotProblem } from './architecture';
import { createSnapshotExportBucket, grantSnapshotExport, replicateSecrets } from './backup';
import { bedrockModelGrants, createBedrockEndpoint, grantBedrockInvoke, warnUnroutedGrants, type TboBedrockModelGrant } from './bedrock';
import { createDashboard } from './dashboard';
import { restrictServiceEgress } from './egress';
import { EMF_METRICS } from './emf-metrics';
import { createLoadBalancer } from './load-balancer';
import { TboServiceMetrics } from './metrics';
import { createVpc } from './network';
import { createOutputs } from './outputs';
import type { TboFargateServiceProps } from './props';
import { createRedis, useExistingRedis, type TboRedis } from './redis';
import { resolveProps } from './resolve-props';
import { configureScaling, targetResponseTimeP95 } from './scaling';
import { createSecrets } from './secrets';
import { bundledServiceImage, CONTAINER_NAME, createTask } from './task';
import { addCollectorSidecar, grantXRayWrite } from './telemetry';

/**
 * The TBO gateway on ECS Fargate (x86_64, or Graviton with `cpuArchitecture`) behind an
 * Application Load Balancer, with an ElastiCache Redis shared cache, secrets from Secrets Manager,
 * the guide's autoscaler, alarms and a dashboard. The admin port (`/metrics`, `/health/details`)
 * is reachable only by the `metricsScrapers` named.
 * Every prop is optional; the defaults are secure and highly available: without a certificate the
 * load balancer is internal. Deploys keep the running task count and let responses in flight
 * finish (up to `maxStreamDuration`); every physical name derives from `serviceName`, so several
 * instances live side by side. With `modelAccess` the task role invokes Claude on Bedrock with
 * its own credentials (no API key), granted exactly the models the routing uses. The Redis it
 * creates keeps daily snapshots, takes a final one when deleted or replaced, can be seeded from a
 * snapshot and export snapshots to S3; `secretReplicaRegions` copies its secrets to other Regions.
 * `tracing` sends OpenTelemetry traces to a collector, or to X-Ray through an ADOT sidecar. Every
 * child is a public field, so any detail can be reached without forking.
 */
export class TboFargateService extends Construct {
  /** The service configuration, every default filled in, with the service name, the JWT issuer and audience and the Redis key prefix as deployed. */
  readonly serviceConfig: ServiceConfig;
  /** This deployment's name (`TBO_SERVICE_NAME`): the EMF `Service` dimension, and the prefix of its alarm and log group names. */
  readonly serviceName: string;
  readonly vpc: ec2.IVpc;
  readonly cluster: ecs.ICluster;
  readonly taskDefinition: ecs.FargateTaskDefinition;
  /** The tasks' CPU architecture (`cpuArchitecture`; X86_64 unless given): a container you add to `taskDefinition` must be built for it. */
  readonly cpuArchitecture: ecs.CpuArchitecture;
  /** The service's container in the task definition. */
  readonly container: ecs.ContainerDefinition;
  readonly service: ecs.FargateService;
  readonly serviceSecurityGroup: ec2.SecurityGroup;
  readonly loadBalancer: elbv2.ApplicationLoadBalancer;
  readonly loadBalancerSecurityGroup: ec2.SecurityGroup;
  /** The listener that forwards to the service: HTTPS (443) with a certificate, else HTTP (80). */
  readonly listener: elbv2.ApplicationListener;
  /** The port 80 listener: redirects to HTTPS when there is a certificate, else it is `listener`. */
  readonly httpListener: elbv2.ApplicationListener;
  readonly targetGroup: elbv2.ApplicationTargetGroup;
  /** The HTTPS certificate, when there is one. */
  readonly certificate?: acm.ICertificate;
  /** The bucket of the load balancer's access logs, when they are on. */
  readonly accessLogsBucket?: s3.IBucket;
  /** The task count autoscaling (add your own policies here). */
  readonly scaling: ecs.ScalableTaskCount;
  /** The ElastiCache replication group, when the construct created it. */
  readonly redis?: elasticache.CfnReplicationGroup;
  /** The Redis security group, when the construct created it. */
  readonly redisSecurityGroup?: ec2.SecurityGroup;
  /** The bucket of Redis snapshot exports (created, or `redis.snapshotExport.existingBucket`), with `redis.snapshotExport`. */
  readonly redisBackupBucket?: s3.IBucket;
  /** The Redis AUTH token secret (generated, or the one given with `existingRedis`). */
  readonly redisAuthSecret?: secretsmanager.ISecret;
  /** Where the service connects to Redis; undefined with `redis: false`. */
  readonly redisEndpoint?: RedisEndpoint;
  /** The Anthropic API key secret (created, or given); none when no route uses `anthropic:` and none is given. */
  readonly anthropicApiKeySecret?: secretsmanager.ISecret;
  /** The OpenAI API key secret (created, or given), when `openAi`. */
  readonly openAiApiKeySecret?: secretsmanager.ISecret;
  readonly jwtSecret: secretsmanager.ISecret;
  readonly apiKeysSecret?: secretsmanager.ISecret;
  /** Admin credentials (`TBO_ADMIN_KEYS`), when given with `existingAdminKeysSecret`. */
  readonly adminKeysSecret?: secretsmanager.ISecret;
  /** The HMAC key of cache entries in Redis (`TBO_CACHE_SIGNING_KEY`): generated, or given; none with `redis: false`. */
  readonly cacheSigningKeySecret?: secretsmanager.ISecret;
  /** The Sentry DSN secret (`SENTRY_DSN`), when given with `existingSentryDsnSecret`. */
  readonly sentryDsnSecret?: secretsmanager.ISecret;
  /** The ADOT collector sidecar container, with `tracing.collectorSidecar`. */
  readonly collectorContainer?: ecs.ContainerDefinition;
  /** The task role's X-Ray policy (`xray:PutTraceSegments`, `xray:PutTelemetryRecords`), with `tracing.collectorSidecar`. */
  readonly xrayPolicy?: iam.Policy;
  /** Prefix of every Redis key of this deployment (`TBO_REDIS_KEY_PREFIX`). */
  readonly redisKeyPrefix: string;
  /** The container log group (`/ecs/<serviceName>/<stack id>`, stream prefix `ecs`). */
  readonly logGroup: logs.LogGroup;
  /** The guide's four alarms, in the order of `TBO_ALERT_RULES`. */
  readonly alarms: readonly cloudwatch.Alarm[];
  /** The alarm on TBO's own time per request (p95 of EMF `Overhead` above `overheadAlarmThreshold`). */
  readonly overheadAlarm: cloudwatch.Alarm;
  /** The topic the alarms notify, when there is one. */
  readonly alarmTopic?: sns.ITopic;
  readonly dashboard: cloudwatch.Dashboard;
  /** The URL clients use (https://domainName, else the load balancer's DNS name). */
  readonly url: string;
  /** The task role's Bedrock policy (one statement: `bedrock:InvokeModel` and `bedrock:InvokeModelWithResponseStream` on exactly the granted ARNs), with `modelAccess.bedrock`. */
  readonly bedrockPolicy?: iam.Policy;
  /** What `modelAccess.bedrock` grants, model by model: the id the service invokes and the ARNs allowed for it. */
  readonly bedrockModelGrants?: readonly TboBedrockModelGrant[];
  /** The `bedrock-runtime` interface VPC endpoint, with `modelAccess.bedrock.vpcEndpoint`. */
  readonly bedrockRuntimeEndpoint?: ec2.InterfaceVpcEndpoint;
  /** The endpoint's security group (only the tasks in, on 443), with `modelAccess.bedrock.vpcEndpoint`. */
  readonly bedrockRuntimeEndpointSecurityGroup?: ec2.SecurityGroup;
  private readonly serviceMetrics: TboServiceMetrics;

  constructor(scope: Construct, id: string, props: TboFargateServiceProps = {}) {
    super(scope, id);
    const r = resolveProps(props, this);
    this.serviceName = r.serviceName;
    this.cpuArchitecture = cpuArchitectureOf(r.cpuArchitecture);
    this.redisKeyPrefix = props.redisKeyPrefix ?? redisKeyPrefixFor(this.node.addr);
    const jwtClaims = { issuer: r.config.jwtIssuer ?? DEPLOYED_JWT_CLAIMS.jwtIssuer, audience: r.config.jwtAudience ?? DEPLOYED_JWT_CLAIMS.jwtAudience };
    this.serviceConfig = { ...r.config, jwtIssuer: jwtClaims.issuer, jwtAudience: jwtClaims.audience, redisKeyPrefix: this.redisKeyPrefix };
    this.serviceMetrics = new TboServiceMetrics(r.config);
    const logRetention = props.logRetention ?? logs.RetentionDays.ONE_MONTH;

    this.vpc = props.existingVpc ?? props.existingCluster?.vpc ?? createVpc(this, logRetention);
    this.cluster = props.existingCluster ?? new ecs.Cluster(this, 'Cluster', { vpc: this.vpc, containerInsightsV2: ecs.ContainerInsights.ENABLED });
    const taskSubnets = props.taskSubnets ?? { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS };

    const secrets = createSecrets(this, props, r);
    this.anthropicApiKeySecret = secrets.anthropicApiKey;
    this.openAiApiKeySecret = secrets.openAiApiKey;
    this.jwtSecret = secrets.jwtSecret;
    this.apiKeysSecret = secrets.apiKeys;
    this.adminKeysSecret = secrets.adminKeys;
    this.cacheSigningKeySecret = secrets.cacheSigningKey;
    this.sentryDsnSecret = secrets.sentryDsn;

    let redis: TboRedis | undefined;
    if (r.redisMode === 'create') redis = createRedis(this, this.vpc, taskSubnets, r.redis);
    else if (r.redisMode === 'existing' && props.existingRedis) redis = useExistingRedis(props.existingRedis);
    this.redis = redis?.replicationGroup;
    this.redisSecurityGroup = redis?.securityGroup;
    this.redisAuthSecret = redis?.authSecret;
    this.redisEndpoint = redis?.endpoint;
    if (redis?.replicationGroup && r.redis.snapshotExport) {
      const { existingBucket } = r.redis.snapshotExport;
      this.redisBackupBucket = existingBucket ?? createSnapshotExportBucket(this, r.redis.snapshotExport);
      grantSnapshotExport(this, this.redisBackupBucket);
    }
    // every secret created here (never one the user brings: it exists before this construct)
    replicateSecrets(this.node.children.filter((c): c is secretsmanager.Secret => c instanceof secretsmanager.Secret), r.secretReplicaRegions);

    const task = createTask(this, r, {
      image: props.image ?? bundledServiceImage(r.cpuArchitecture),
      config: r.serviceConfig,
      secrets,
      redis,
      redisKeyPrefix: this.redisKeyPrefix,
      logGroupName: props.logGroupName,
      logRetention,
    });
    this.taskDefinition = task.taskDefinition;
    this.container = task.container;
    this.logGroup = task.logGroup;
    if (r.tracing?.sidecar) {
      this.collectorContainer = addCollectorSidecar(this.taskDefinition, this.logGroup, r.tracing.sidecar);
      this.xrayPolicy = grantXRayWrite(this, this.taskDefinition.taskRole);
    }

    const lb = createLoadBalancer(this, this.vpc, r, props);
    this.loadBalancer = lb.loadBalancer;
    this.loadBalancerSecurityGroup = lb.securityGroup;
    this.listener = lb.listener;
    this.httpListener = lb.httpListener;
    this.targetGroup = lb.targetGroup;
    this.certificate = lb.certificate;
    this.accessLogsBucket = lb.accessLogsBucket;
    this.url = lb.url;

    this.serviceSecurityGroup = new ec2.SecurityGroup(this, 'ServiceSecurityGroup', {
      vpc: this.vpc,
      description: 'TBO service tasks: the load balancer in; model APIs, AWS APIs and Redis out',
      allowAllOutbound: false,
    });
    restrictServiceEgress(this, this.serviceSecurityGroup, r.config, r.tracing?.otlpEndpoint);
    this.service = new ecs.FargateService(this, 'Service', {
      cluster: this.cluster,
      taskDefinition: this.taskDefinition,
      // No desired count: autoscaling owns it. CloudFormation then leaves the running count alone on
      // every update (a count in the template would reset it on each deploy); on create ECS starts
      // one task and registering the scalable target raises it to minCapacity.
      desiredCount: undefined,
      securityGroups: [this.serviceSecurityGroup],
      vpcSubnets: taskSubnets,
      assignPublicIp: false,
      circuitBreaker: { enable: true, rollback: true },
      minHealthyPercent: 100,
      maxHealthyPercent: 200,
      healthCheckGracePeriod: Duration.seconds(60),
      propagateTags: ecs.PropagatedTagSource.SERVICE,
      enableECSManagedTags: true,
    });
    // the load balancer targets the public port only (its security group reaches no other)
    this.service.loadBalancerTarget({ containerName: CONTAINER_NAME, containerPort: SERVICE_PORT }).attachToApplicationTargetGroup(this.targetGroup);
    redis?.allowFrom(this.service);
    if (this.xrayPolicy) this.service.node.addDependency(this.xrayPolicy); // tasks start with the grant in place
    // The construct runs on the FARGATE launch type; a strategy set later on `service` is checked at synth.
    this.node.addValidation({ validate: () => [fargateSpotProblem(this.service, r.cpuArchitecture)].filter((p) => p !== undefined).map((p) => `TboFargateService: ${p}`) });
    if (r.bedrock) {
      this.bedrockModelGrants = bedrockModelGrants(this, r.bedrock);
      this.bedrockPolicy = grantBedrockInvoke(this, this.taskDefinition.taskRole, this.bedrockModelGrants);
      this.service.node.addDependency(this.bedrockPolicy); // tasks start with the grant in place
      warnUnroutedGrants(this, r.config, r.bedrock);
      if (r.bedrock.vpcEndpoint) {
        const endpoint = createBedrockEndpoint(this, this.vpc, taskSubnets, this.serviceSecurityGroup);
        this.bedrockRuntimeEndpoint = endpoint.endpoint;
        this.bedrockRuntimeEndpointSecurityGroup = endpoint.securityGroup;
      }
    }
    for (const scraper of props.metricsScrapers ?? []) this.allowMetricsScrapeFrom(scraper);

    this.scaling = configureScaling(this.service, this.targetGroup, this.serviceMetrics, r);
    this.alarmTopic = alarmTopic(this, props);
    this.alarms = createAlarms(this, this.serviceMetrics, this.alarmTopic);
    this.overheadAlarm = createOverheadAlarm(this, this.serviceMetrics, r.overheadAlarmThresholdSeconds, this.alarmTopic);
    this.dashboard = createDashboard(this, { metrics: this.serviceMetrics, service: this.service, targetGroup: this.targetGroup, alarms: [...this.alarms, this.overheadAlarm] });
    createOutputs(this, {
      url: this.url,
      toFill: secrets.toFill,
      cluster: this.cluster,
      service: this.service,
      jwtSecret: this.jwtSecret,
      jwtClaims,
      dashboard: this.dashboard,
      redis: this.redis,
      redisBackupBucket: this.redisBackupBucket,
    });
  }

  /**
   * Lets a metrics scraper (a Prometheus task, an ADOT collector: a security group, a service, or a
   * CIDR peer narrower than anywhere) reach the admin port, as `metricsScrapers` does.
   */
  allowMetricsScrapeFrom(scraper: ec2.IConnectable): void {
    const v = new PropValidator();
    const problem = scraperProblem(scraper);
    if (problem) v.check(false, 'allowMetricsScrapeFrom', problem.received, problem.accepted);
    const isLoadBalancer = scraper.connections.securityGroups.includes(this.loadBalancerSecurityGroup);
    v.check(!isLoadBalancer, 'allowMetricsScrapeFrom', 'the load balancer', 'the load balancer reaches only the public port; name the scrapers (a Prometheus task, an ADOT collector)');
    v.throwIfInvalid('TboFargateService');
    allowAdminPortFrom(this.serviceSecurityGroup, scraper);
  }

  /** p95 latency of proxied requests, as the service measures it (EMF `RequestLatency`). */
  metricLatency(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.serviceMetrics.metric(EMF_METRICS.requestLatency, { statistic: 'p95', ...props });
  }

  /** Proxied requests (EMF `Requests`, summed). */
  metricRequests(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.serviceMetrics.metric(EMF_METRICS.requests, { statistic: 'Sum', ...props });
  }

  /** Share of cacheable requests answered from the cache (EMF `CacheHitRate`). */
  metricCacheHitRate(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.serviceMetrics.metric(EMF_METRICS.cacheHitRate, { statistic: 'Average', ...props });
  }

  /** Collaborative bandwidth, turns per second (EMF `BandwidthEfficiency`). */
  metricBandwidthEfficiency(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.serviceMetrics.metric(EMF_METRICS.bandwidthEfficiency, { statistic: 'Average', ...props });
  }

  /** 1 while any upstream circuit breaker is open (EMF `CircuitBreakerActive`, maximum). */
  metricCircuitBreakerActive(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.serviceMetrics.metric(EMF_METRICS.circuitBreakerActive, { statistic: 'Maximum', ...props });
  }

  /** Active collaboration sessions (EMF `ActiveSessions`, summed over tasks). */
  metricActiveSessions(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.serviceMetrics.metric(EMF_METRICS.activeSessions, { statistic: 'Sum', ...props });
  }

  /** Requests waiting for an upstream slot, averaged over the tasks (EMF `QueueLength`: what queue scaling tracks). */
  metricQueueLength(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.serviceMetrics.queueLengthPerTask(props);
  }

  /** p95 of the time TBO itself adds to a request, seconds (EMF `Overhead`: what the overhead alarm watches). */
  metricOverhead(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.serviceMetrics.overheadP95(props);
  }

  /** p95 target response time at the load balancer: mostly the model's generation time (no scaling acts on it). */
  metricTargetResponseTime(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return targetResponseTimeP95(this.targetGroup).with(props ?? {});
  }
}
