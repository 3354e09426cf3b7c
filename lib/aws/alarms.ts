import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import type { Construct } from 'constructs';
import { TBO_ALERT_RULES, type TboAlertRule } from '../core';
import type { TboServiceMetrics } from './metrics';
import type { TboFargateServiceProps } from './props';

/**
 * The alarm topic: the user's, or a new one when emails are to be notified, encrypted with its own
 * rotating KMS key (CloudWatch cannot publish to a topic under the AWS managed SNS key).
 */
export function alarmTopic(scope: Construct, props: TboFargateServiceProps): sns.ITopic | undefined {
  const emails = props.alarmEmails ?? [];
  let topic = props.existingAlarmTopic;
  if (!topic && emails.length) {
    const masterKey = new kms.Key(scope, 'AlarmTopicKey', { description: 'Encrypts the TBO alarm topic', enableKeyRotation: true });
    masterKey.grant(new iam.ServicePrincipal('cloudwatch.amazonaws.com'), 'kms:Decrypt', 'kms:GenerateDataKey*');
    topic = new sns.Topic(scope, 'AlarmTopic', { displayName: 'TBO gateway alarms', masterKey, enforceSSL: true });
  }
  for (const email of emails) topic?.addSubscription(new subscriptions.EmailSubscription(email));
  return topic;
}

/** How long TBO's overhead must stay above the threshold before the overhead alarm fires (as the guide's latency rule). */
export const OVERHEAD_ALARM_FOR_SECONDS = 300;
/** The construct id, and the suffix of the name, of the overhead alarm. */
export const OVERHEAD_ALARM_ID = 'TBOHighOverhead';

/** An alarm's name: the deployment's service name, then what it watches (alarm names are unique per account and region). */
export function alarmName(serviceName: string, id: string): string {
  return `${serviceName}-${id}`;
}

function periodsFor(forSeconds: number, metric: cloudwatch.Metric): number {
  return Math.max(1, Math.ceil(forSeconds / metric.period.toSeconds()));
}

/** One CloudWatch alarm for one of the guide's rules, evaluated on this deployment's EMF metric. */
export function ruleAlarm(scope: Construct, rule: TboAlertRule, metrics: TboServiceMetrics): cloudwatch.Alarm {
  const metric = metrics.forSignal(rule.signal);
  const periods = periodsFor(rule.forSeconds, metric);
  return new cloudwatch.Alarm(scope, rule.name, {
    alarmName: alarmName(metrics.serviceName, rule.name),
    metric,
    threshold: rule.threshold,
    comparisonOperator:
      rule.comparison === 'above' ? cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD : cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
    evaluationPeriods: periods,
    datapointsToAlarm: periods,
    treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    alarmDescription: `${rule.name} (${rule.severity}): ${rule.summary}; ${rule.comparison} ${rule.threshold} for ${rule.forSeconds} s.`,
  });
}

/**
 * The guide's latency signal, as TBO's own share of it: p95 of the time TBO adds to a request
 * (queueing for an upstream slot, cache, routing; EMF `Overhead`) above the threshold. An alarm,
 * not a scaling signal: the model's generation time, which dominates response time, is excluded.
 */
export function overheadAlarm(scope: Construct, metrics: TboServiceMetrics, thresholdSeconds: number): cloudwatch.Alarm {
  const metric = metrics.overheadP95();
  const periods = periodsFor(OVERHEAD_ALARM_FOR_SECONDS, metric);
  return new cloudwatch.Alarm(scope, OVERHEAD_ALARM_ID, {
    alarmName: alarmName(metrics.serviceName, OVERHEAD_ALARM_ID),
    metric,
    threshold: thresholdSeconds,
    comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
    evaluationPeriods: periods,
    datapointsToAlarm: periods,
    treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    alarmDescription: `${OVERHEAD_ALARM_ID} (warning): TBO's own time per request (queueing, cache, routing; not the model's) has a p95 above ${thresholdSeconds} s for ${OVERHEAD_ALARM_FOR_SECONDS} s.`,
  });
}

function notify(alarm: cloudwatch.Alarm, topic: sns.ITopic | undefined): cloudwatch.Alarm {
  if (topic) {
    alarm.addAlarmAction(new actions.SnsAction(topic));
    alarm.addOkAction(new actions.SnsAction(topic));
  }
  return alarm;
}

/** The guide's four alerting rules (defined once in lib/core) as alarms, with the topic as alarm and OK action. */
export function createAlarms(scope: Construct, metrics: TboServiceMetrics, topic: sns.ITopic | undefined): cloudwatch.Alarm[] {
  return TBO_ALERT_RULES.map((rule) => notify(ruleAlarm(scope, rule, metrics), topic));
}

/** The overhead alarm, with the topic as alarm and OK action. */
export function createOverheadAlarm(scope: Construct, metrics: TboServiceMetrics, thresholdSeconds: number, topic: sns.ITopic | undefined): cloudwatch.Alarm {
  return notify(overheadAlarm(scope, metrics, thresholdSeconds), topic);
}
