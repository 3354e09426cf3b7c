import { Duration } from 'aws-cdk-lib';
import * as appscaling from 'aws-cdk-lib/aws-applicationautoscaling';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as ecs from 'aws-cdk-lib/aws-ecs';
import type * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import type { ResolvedProps } from './resolve-props';

/** The load balancer's p95 target response time, the latency signal autoscaling acts on. */
export function targetResponseTimeP95(targetGroup: elbv2.ApplicationTargetGroup): cloudwatch.Metric {
  return targetGroup.metrics.targetResponseTime({ statistic: 'p95', period: Duration.minutes(1) });
}

/**
 * The guide's autoscaler: target tracking on CPU and on requests per target (which also scale in),
 * and step scaling out when the p95 latency passes `scaleOutLatency` (one task, three past twice it).
 */
export function configureScaling(service: ecs.FargateService, targetGroup: elbv2.ApplicationTargetGroup, r: ResolvedProps): ecs.ScalableTaskCount {
  const scaling = service.autoScaleTaskCount({ minCapacity: r.minCapacity, maxCapacity: r.maxCapacity });
  scaling.scaleOnCpuUtilization('CpuScaling', { targetUtilizationPercent: r.targetCpuUtilization });
  scaling.scaleOnRequestCount('RequestScaling', { requestsPerTarget: r.requestsPerTarget, targetGroup });
  scaling.scaleOnMetric('LatencyScaling', {
    metric: targetResponseTimeP95(targetGroup),
    adjustmentType: appscaling.AdjustmentType.CHANGE_IN_CAPACITY,
    scalingSteps: [
      { lower: r.scaleOutLatencySeconds, change: +1 },
      { lower: r.scaleOutLatencySeconds * 2, change: +3 },
    ],
    cooldown: Duration.seconds(60),
    evaluationPeriods: 2,
    datapointsToAlarm: 2,
  });
  return scaling;
}
