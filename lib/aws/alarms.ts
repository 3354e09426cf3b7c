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

/** One CloudWatch alarm for one of the guide's rules, evaluated on the service's EMF metric. */
export function ruleAlarm(scope: Construct, rule: TboAlertRule, metrics: TboServiceMetrics): cloudwatch.Alarm {
  const metric = metrics.forSignal(rule.signal);
  const periods = Math.max(1, Math.ceil(rule.forSeconds / metric.period.toSeconds()));
  return new cloudwatch.Alarm(scope, rule.name, {
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

/** The guide's four alerting rules (defined once in lib/core) as alarms, with the topic as alarm and OK action. */
export function createAlarms(scope: Construct, metrics: TboServiceMetrics, topic: sns.ITopic | undefined): cloudwatch.Alarm[] {
  return TBO_ALERT_RULES.map((rule) => {
    const alarm = ruleAlarm(scope, rule, metrics);
    if (topic) {
      alarm.addAlarmAction(new actions.SnsAction(topic));
      alarm.addOkAction(new actions.SnsAction(topic));
    }
    return alarm;
  });
}
