import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as ecs from 'aws-cdk-lib/aws-ecs';
import type * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import type { Construct } from 'constructs';
import { EMF_METRICS } from './emf-metrics';
import type { TboServiceMetrics } from './metrics';
import { targetResponseTimeP95 } from './scaling';

export interface TboDashboardInputs {
  readonly metrics: TboServiceMetrics;
  readonly service: ecs.FargateService;
  readonly targetGroup: elbv2.ApplicationTargetGroup;
  readonly alarms: readonly cloudwatch.IAlarm[];
}

/** A dashboard with the guide's views: latency, requests, cache hit rate and bandwidth efficiency, plus TBO's overhead, the scaling signals, capacity and alarm state. */
export function createDashboard(scope: Construct, inputs: TboDashboardInputs): cloudwatch.Dashboard {
  const { metrics, service, targetGroup } = inputs;
  const m = EMF_METRICS;
  const dashboard = new cloudwatch.Dashboard(scope, 'Dashboard');
  dashboard.addWidgets(
    new cloudwatch.GraphWidget({
      title: 'Latency p95 (s)',
      left: [metrics.metric(m.requestLatency, { statistic: 'p95', label: 'service (EMF)' }), targetResponseTimeP95(targetGroup).with({ label: 'load balancer' })],
      right: [metrics.overheadP95({ label: 'TBO overhead (EMF)' })],
      width: 12,
    }),
    new cloudwatch.GraphWidget({
      title: 'Requests',
      left: [metrics.metric(m.requests, { statistic: 'Sum', label: 'proxied (EMF)' }), targetGroup.metrics.requestCount({ label: 'load balancer' })],
      width: 12,
    }),
    new cloudwatch.GraphWidget({ title: 'Cache hit rate', left: [metrics.metric(m.cacheHitRate, { statistic: 'Average' })], leftYAxis: { min: 0, max: 1 }, width: 8 }),
    new cloudwatch.GraphWidget({ title: 'Bandwidth efficiency (turns/s)', left: [metrics.metric(m.bandwidthEfficiency, { statistic: 'Average' })], width: 8 }),
    new cloudwatch.GraphWidget({
      title: 'Circuit breakers and sessions',
      left: [metrics.metric(m.circuitBreakerActive, { statistic: 'Maximum' })],
      right: [metrics.metric(m.activeSessions, { statistic: 'Sum' })],
      width: 8,
    }),
    new cloudwatch.GraphWidget({ title: 'Task CPU and memory (%)', left: [service.metricCpuUtilization(), service.metricMemoryUtilization()], width: 8 }),
    new cloudwatch.GraphWidget({
      title: 'Queue per task and requests per target',
      left: [metrics.queueLengthPerTask({ label: 'waiting for an upstream slot (EMF)' })],
      right: [targetGroup.metrics.requestCountPerTarget({ label: 'requests per target per minute' })],
      width: 8,
    }),
    new cloudwatch.GraphWidget({
      title: 'Healthy targets',
      left: [targetGroup.metrics.healthyHostCount(), targetGroup.metrics.unhealthyHostCount()],
      width: 8,
    }),
    new cloudwatch.AlarmStatusWidget({ title: 'TBO alarms', alarms: [...inputs.alarms], width: 24 }),
  );
  return dashboard;
}
