import { Duration } from 'aws-cdk-lib';
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as ecs from 'aws-cdk-lib/aws-ecs';
import type * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import type { TboServiceMetrics } from './metrics';
import type { ResolvedProps } from './resolve-props';

/** The load balancer's p95 target response time: mostly the model's generation time (a view on the dashboard, not a scaling signal). */
export function targetResponseTimeP95(targetGroup: elbv2.ApplicationTargetGroup): cloudwatch.Metric {
  return targetGroup.metrics.targetResponseTime({ statistic: 'p95', period: Duration.minutes(1) });
}

/** How long after a queue-driven scale-out another may start: a new task takes about this long to pass its health checks. */
const QUEUE_SCALE_OUT_COOLDOWN = Duration.seconds(60);

/**
 * The guide's autoscaler on TBO's own signals: target tracking on CPU (70 %) and on requests per
 * target, which scale out and in, and on the service's queue length per task (EMF `QueueLength`,
 * the guide's "queue > 50"), which only scales out (scale-in is left to CPU and requests: an empty
 * queue says nothing about how many tasks are needed). The load balancer's response time is not a
 * signal: it is mostly the model's generation time, which more tasks cannot shorten. The service
 * does not export in-flight upstream calls per task, so nothing scales on them.
 */
export function configureScaling(service: ecs.FargateService, targetGroup: elbv2.ApplicationTargetGroup, metrics: TboServiceMetrics, r: ResolvedProps): ecs.ScalableTaskCount {
  const scaling = service.autoScaleTaskCount({ minCapacity: r.minCapacity, maxCapacity: r.maxCapacity });
  scaling.scaleOnCpuUtilization('CpuScaling', { targetUtilizationPercent: r.targetCpuUtilization });
  scaling.scaleOnRequestCount('RequestScaling', { requestsPerTarget: r.requestsPerTarget, targetGroup });
  scaling.scaleToTrackCustomMetric('QueueScaling', {
    metric: metrics.queueLengthPerTask(),
    targetValue: r.targetQueueLength,
    disableScaleIn: true,
    scaleOutCooldown: QUEUE_SCALE_OUT_COOLDOWN,
  });
  return scaling;
}
