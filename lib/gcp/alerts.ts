import type { CloudRunV2ServiceTemplateContainers, CloudRunV2ServiceTemplateVolumes } from '@cdktf/provider-google/lib/cloud-run-v2-service';
import { MonitoringAlertPolicy } from '@cdktf/provider-google/lib/monitoring-alert-policy';
import { ProjectIamMember } from '@cdktf/provider-google/lib/project-iam-member';
import { SecretManagerSecret, type SecretManagerSecretReplication } from '@cdktf/provider-google/lib/secret-manager-secret';
import { SecretManagerSecretIamMember } from '@cdktf/provider-google/lib/secret-manager-secret-iam-member';
import { SecretManagerSecretVersion } from '@cdktf/provider-google/lib/secret-manager-secret-version';
import { Token, type ITerraformDependable } from 'cdktf';
import { Construct } from 'constructs';
import { stringify } from 'yaml';
import { ADMIN_PORT, PROBE_PATHS, PropValidator, scopeAlertRule, TBO_ALERT_RULES, type AlertScope, type ServiceConfig, type TboAlertRule } from '../core';
import { sidecarConfig } from './sidecar-config';

/** Cloud Monitoring alert policies of the guide's alert rules (`alerts` of `TboCloudRunService`). */
export interface TboAlertPolicyOptions {
  /** Notification channels (`projects/PROJECT/notificationChannels/ID`) told when an incident opens or closes. @default - none: incidents open in Cloud Monitoring without notifying anyone */
  readonly notificationChannels?: readonly string[];
  /** How often Cloud Monitoring evaluates each rule, in seconds (a positive multiple of 30). @default 60 (Prometheus' default evaluation interval, which the promtool tests use) */
  readonly evaluationIntervalSeconds?: number;
}

/** The Managed Service for Prometheus collector sidecar (`managedPrometheus` of `TboCloudRunService`). */
export interface TboManagedPrometheusOptions {
  /** Collector image. @default - {@link GMP_SIDECAR_IMAGE}, Google's Cloud Run sidecar, pinned */
  readonly image?: string;
  /** Seconds between scrapes of the service's `/metrics` on its admin port (5 to 60: the latency rule's 5m rate window needs several samples). @default 30 */
  readonly scrapeIntervalSeconds?: number;
  /** Grant the service's account `roles/monitoring.metricWriter` on the project (the only project-level grant this construct makes; the role has no narrower scope). @default true */
  readonly grantMetricWriter?: boolean;
}

/** Google's Managed Service for Prometheus collector for Cloud Run (an OpenTelemetry Collector build). */
export const GMP_SIDECAR_IMAGE = 'us-docker.pkg.dev/cloud-ops-agents-artifacts/cloud-run-gmp-sidecar/cloud-run-gmp-sidecar:1.2.0';
/** The role the collector needs to write time series to Managed Service for Prometheus. */
export const METRIC_WRITER_ROLE = 'roles/monitoring.metricWriter';
/** Where the collector reads its `RunMonitoring` configuration. */
export const GMP_CONFIG_MOUNT = '/etc/rungmp';
/** Name of the collector container. */
export const GMP_CONTAINER_NAME = 'collector';
/** CPU and memory of the collector container (Cloud Run's default container size). */
export const GMP_SIDECAR_LIMITS = { cpu: '1', memory: '512Mi' } as const;
/** The Prometheus rule group the policies name (`rule_group`), as in ops/prometheus/tbo-rules.yml. */
export const ALERT_RULE_GROUP = 'tbo';
/**
 * The `cluster` label Google's Cloud Run collector gives every series it writes (run-gmp-sidecar
 * sets `cluster="__run__"` and `namespace` = the Cloud Run service name, from `K_SERVICE`, on every
 * scraped target; both are protected labels a relabeling rule cannot change).
 */
export const GMP_CLOUD_RUN_CLUSTER = '__run__';

/**
 * The labels that select one Cloud Run service's series in Managed Service for Prometheus, as
 * Google's Cloud Run collector writes them: `cluster="__run__"` and `namespace="<service name>"`.
 */
export function cloudRunMetricScope(serviceName: string): AlertScope {
  return { cluster: GMP_CLOUD_RUN_CLUSTER, namespace: serviceName };
}

const CONSTRUCT = 'TboCloudRunService';
const CHANNEL = /^projects\/[^/\s]+\/notificationChannels\/[^/\s]+$/;
const SEVERITY: Readonly<Record<TboAlertRule['severity'], string>> = { warning: 'WARNING', critical: 'CRITICAL' };

const known = (value: unknown): boolean => value !== undefined && !Token.isUnresolved(value);

/** `alerts` with its defaults applied, or undefined for `alerts: false`; throws naming each bad option. */
export function resolveAlertOptions(alerts: false | TboAlertPolicyOptions | undefined): Required<TboAlertPolicyOptions> | undefined {
  if (alerts === false) return undefined;
  const v = new PropValidator();
  const resolved = { notificationChannels: alerts?.notificationChannels ?? [], evaluationIntervalSeconds: alerts?.evaluationIntervalSeconds ?? 60 };
  for (const channel of resolved.notificationChannels) {
    if (known(channel)) v.check(CHANNEL.test(channel), 'alerts.notificationChannels', channel, 'each must be a notification channel name, projects/PROJECT/notificationChannels/ID');
  }
  const interval = resolved.evaluationIntervalSeconds;
  if (known(interval)) v.check(Number.isInteger(interval) && interval >= 30 && interval <= 86_400 && interval % 30 === 0, 'alerts.evaluationIntervalSeconds', interval, 'must be a multiple of 30 from 30 to 86400 (Cloud Monitoring evaluates PromQL conditions in 30 s steps)');
  v.throwIfInvalid(CONSTRUCT);
  return resolved;
}

/** `managedPrometheus` with its defaults applied, or undefined when off; throws naming each bad option. */
export function resolveManagedPrometheus(option: boolean | TboManagedPrometheusOptions | undefined, config: ServiceConfig): Required<TboManagedPrometheusOptions> | undefined {
  if (option === undefined || option === false) return undefined;
  const o = option === true ? {} : option;
  const resolved = { image: o.image ?? GMP_SIDECAR_IMAGE, scrapeIntervalSeconds: o.scrapeIntervalSeconds ?? 30, grantMetricWriter: o.grantMetricWriter ?? true };
  const v = new PropValidator();
  if (known(resolved.image)) v.check(resolved.image.trim().length > 0 && !/\s/.test(resolved.image), 'managedPrometheus.image', resolved.image, 'must be a container image reference');
  v.integer('managedPrometheus.scrapeIntervalSeconds', o.scrapeIntervalSeconds, 5, 60);
  v.check(config.enableMetrics, 'config.enableMetrics', config.enableMetrics, 'must be true with managedPrometheus (the collector scrapes /metrics)');
  v.throwIfInvalid(CONSTRUCT);
  return resolved;
}

/** Properties of {@link TboAlertPolicies}. */
export interface TboAlertPoliciesProps {
  /** The rules to create a policy for. @default TBO_ALERT_RULES */
  readonly rules?: readonly TboAlertRule[];
  /** Project of the policies. @default - the provider's project */
  readonly project?: string;
  /** Names the policies (`<serviceName> <rule>`), labels them and their incidents, and (by default) scopes their queries. */
  readonly serviceName: string;
  /**
   * Labels every series a query reads must carry, so each policy watches this service only.
   * @default - `cloudRunMetricScope(serviceName)`: `cluster="__run__"`, `namespace="<serviceName>"`, the labels Google's Cloud Run collector writes
   */
  readonly metricScope?: AlertScope;
  /** Notification channels. @default - none */
  readonly notificationChannels?: readonly string[];
  /** Evaluation interval in seconds. @default 60 */
  readonly evaluationIntervalSeconds?: number;
}

/**
 * One Cloud Monitoring alert policy per alert rule, each with a PromQL condition: the rule's
 * PromQL narrowed to this service's series (`metricScope`), held for the rule's `for`; without
 * the scope it is exactly ops/prometheus/tbo-rules.yml's expression.
 *
 * PromQL conditions read Google Cloud Managed Service for Prometheus, which holds the service's
 * metrics only when something scrapes `/metrics` on the admin port (`localhost:9464`, inside the
 * instance) and writes them there: on Cloud Run, the Managed Service for Prometheus sidecar
 * (`managedPrometheus: true`). Without it the policies never see data and never fire. Every
 * selector of every query matches `cluster="__run__"` and `namespace="<serviceName>"`, the labels
 * that collector puts on each series, so two TBO services in one project alert separately (a
 * collector of your own must set the same two labels).
 */
export class TboAlertPolicies extends Construct {
  /** The policies by rule name (`TBOHighLatency`, …). */
  readonly policies: Readonly<Record<string, MonitoringAlertPolicy>>;

  constructor(scope: Construct, id: string, props: TboAlertPoliciesProps) {
    super(scope, id);
    const interval = `${props.evaluationIntervalSeconds ?? 60}s`;
    const metricScope = props.metricScope ?? cloudRunMetricScope(props.serviceName);
    const policies: Record<string, MonitoringAlertPolicy> = {};
    for (const unscoped of props.rules ?? TBO_ALERT_RULES) {
      const rule = scopeAlertRule(unscoped, metricScope);
      policies[rule.name] = new MonitoringAlertPolicy(this, rule.name, {
        project: props.project,
        displayName: `${props.serviceName} ${rule.name}`,
        combiner: 'OR',
        severity: SEVERITY[rule.severity],
        notificationChannels: props.notificationChannels?.length ? [...props.notificationChannels] : undefined,
        userLabels: { app: 'tbo', service: props.serviceName, severity: rule.severity },
        documentation: {
          mimeType: 'text/markdown',
          subject: `${props.serviceName}: ${rule.summary}`,
          content: [
            `**${rule.summary}** (${rule.name}, severity ${rule.severity}).`,
            '',
            `Fires when \`${rule.promql}\` has held for ${rule.forSeconds} s.`,
            '',
            'Defined once in tbo-deploy `lib/core/alerts.ts` (TBO_ALERT_RULES), like ops/prometheus/tbo-rules.yml.',
          ].join('\n'),
        },
        conditions: [
          {
            displayName: rule.summary,
            conditionPrometheusQueryLanguage: {
              query: rule.promql,
              duration: `${rule.forSeconds}s`,
              evaluationInterval: interval,
              alertRule: rule.name,
              ruleGroup: ALERT_RULE_GROUP,
              labels: { severity: rule.severity, service: props.serviceName },
              // The metrics appear only once the service has been scraped: allow creating the policy first.
              disableMetricValidation: true,
            },
          },
        ],
      });
    }
    this.policies = policies;
  }
}

/** Properties of {@link TboManagedPrometheus}. */
export interface TboManagedPrometheusProps extends Required<TboManagedPrometheusOptions> {
  /** Project of the config secret and of the metric writer grant. @default - the provider's project */
  readonly project?: string;
  /** Prefixes the config secret (`<serviceName>-gmp-config`). */
  readonly serviceName: string;
  /** The service's identity (`serviceAccount:…`): reads the config, writes the metrics. */
  readonly accessor: string;
  /** Terraform deletion protection of the config secret. @default true */
  readonly deletionProtection?: boolean;
  /** Replication policy of the config secret. @default - automatic replication */
  readonly replication?: SecretManagerSecretReplication;
}

/**
 * Google Cloud Managed Service for Prometheus for the service on Cloud Run: the collector sidecar
 * (Google's `cloud-run-gmp-sidecar`) scrapes the TBO container's `/metrics` on its admin port
 * (`ADMIN_PORT`, `localhost:9464`; containers of one instance share localhost, and the public
 * port, the only one Cloud Run routes, answers 404 for `/metrics`) and writes the series to Managed Service for Prometheus, where the alert policies' PromQL and
 * Grafana (through the Prometheus API of Cloud Monitoring) read them.
 *
 * Its `RunMonitoring` configuration (port, path, interval; no credential) is a Secret Manager
 * secret version mounted at `/etc/rungmp/config.yaml`, readable by the service's account only.
 */
export class TboManagedPrometheus extends Construct {
  /** The collector's `RunMonitoring` configuration. */
  readonly config: string;
  /** The secret holding {@link config}. */
  readonly configSecret: SecretManagerSecret;
  /** Its version (the configuration holds no credential). */
  readonly configVersion: SecretManagerSecretVersion;
  /** `roles/secretmanager.secretAccessor` on the config secret only. */
  readonly configAccessorGrant: SecretManagerSecretIamMember;
  /** `roles/monitoring.metricWriter` on the project. @default - undefined with `grantMetricWriter: false` */
  readonly metricWriterGrant?: ProjectIamMember;
  /** The Cloud Run volume of the configuration. */
  readonly volume: CloudRunV2ServiceTemplateVolumes;
  /** What the Cloud Run revision needs before it starts: the config version, read access, and the metric writer grant. */
  readonly prerequisites: ITerraformDependable[];
  private readonly image: string;

  constructor(scope: Construct, id: string, props: TboManagedPrometheusProps) {
    super(scope, id);
    this.image = props.image;
    this.config = stringify({
      apiVersion: 'monitoring.googleapis.com/v1beta',
      kind: 'RunMonitoring',
      metadata: { name: 'tbo' },
      spec: {
        endpoints: [{ port: ADMIN_PORT, path: PROBE_PATHS.metrics, interval: `${props.scrapeIntervalSeconds}s` }],
        targetLabels: { metadata: ['instance', 'revision', 'service', 'configuration'] },
      },
    });
    const parts = sidecarConfig(this, {
      project: props.project,
      secretId: `${props.serviceName}-gmp-config`,
      content: 'gmp-runmonitoring-config',
      config: this.config,
      volumeName: 'gmp-config',
      accessor: props.accessor,
      deletionProtection: props.deletionProtection,
      replication: props.replication,
      projectRole: props.grantMetricWriter ? { id: 'MetricWriterGrant', role: METRIC_WRITER_ROLE } : undefined,
    });
    ({ configSecret: this.configSecret, configVersion: this.configVersion, configAccessorGrant: this.configAccessorGrant, projectRoleGrant: this.metricWriterGrant, volume: this.volume } = parts);
    this.prerequisites = parts.prerequisites;
  }


  /** The collector container, started after `mainContainer` (so its first scrape finds /metrics). */
  container(mainContainer: string): CloudRunV2ServiceTemplateContainers {
    return {
      name: GMP_CONTAINER_NAME,
      image: this.image,
      dependsOn: [mainContainer],
      resources: { limits: { ...GMP_SIDECAR_LIMITS }, cpuIdle: false },
      volumeMounts: [{ name: this.volume.name, mountPath: GMP_CONFIG_MOUNT }],
    };
  }
}
