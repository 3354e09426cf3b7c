import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type { AlertSignal, ServiceConfig } from '../core';
import { EMF_METRICS, EMF_SERVICE_DIMENSION } from './emf-metrics';

export { EMF_SERVICE_DIMENSION };

/** How each alert signal of the shared rules is read from the service's EMF metrics. */
export const SIGNAL_METRICS: Readonly<Record<AlertSignal, { readonly metricName: string; readonly statistic: string }>> = {
  latencyP95: { metricName: EMF_METRICS.requestLatency, statistic: 'p95' },
  circuitBreakerActive: { metricName: EMF_METRICS.circuitBreakerActive, statistic: 'Maximum' },
  cacheHitRate: { metricName: EMF_METRICS.cacheHitRate, statistic: 'Average' },
  bandwidthEfficiency: { metricName: EMF_METRICS.bandwidthEfficiency, statistic: 'Average' },
};

/**
 * The CloudWatch period for the service's metrics: one minute, or the EMF flush interval rounded up
 * to whole minutes when it is longer (so every period holds a data point).
 */
export function emfPeriod(config: ServiceConfig): Duration {
  return Duration.minutes(Math.max(1, Math.ceil(config.metricsExportInterval / 60)));
}

/** The service's own metrics, as it writes them in EMF (namespace and Service dimension from its config). */
export class TboServiceMetrics {
  constructor(private readonly config: ServiceConfig) {}

  /** The `Service` dimension of every metric: the deployment's `TBO_SERVICE_NAME`. */
  get serviceName(): string {
    return this.config.serviceName;
  }

  /** Any EMF metric of the service. */
  metric(metricName: string, props: cloudwatch.MetricOptions = {}): cloudwatch.Metric {
    return new cloudwatch.Metric({
      namespace: this.config.metricsNamespace,
      metricName,
      dimensionsMap: { [EMF_SERVICE_DIMENSION]: this.config.serviceName },
      period: emfPeriod(this.config),
      ...props,
    });
  }

  /** The metric an alert signal is evaluated on. */
  forSignal(signal: AlertSignal, props: cloudwatch.MetricOptions = {}): cloudwatch.Metric {
    const { metricName, statistic } = SIGNAL_METRICS[signal];
    return this.metric(metricName, { statistic, ...props });
  }

  /** Requests waiting for an upstream slot, averaged over the tasks (each writes its own queue length). */
  queueLengthPerTask(props: cloudwatch.MetricOptions = {}): cloudwatch.Metric {
    return this.metric(EMF_METRICS.queueLength, { statistic: 'Average', ...props });
  }

  /** p95 of the time TBO itself adds to a proxied request (queueing, cache, routing), seconds. */
  overheadP95(props: cloudwatch.MetricOptions = {}): cloudwatch.Metric {
    return this.metric(EMF_METRICS.overhead, { statistic: 'p95', ...props });
  }
}
