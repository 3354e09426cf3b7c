import { RemovalPolicy } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { AWS_DEFAULTS } from './defaults';

/**
 * The default network: a VPC over two AZs with public subnets (load balancer, one NAT gateway per
 * AZ so an AZ outage does not cut the other's egress to the model APIs) and private subnets (tasks,
 * Redis), with every flow logged to CloudWatch Logs.
 */
export function createVpc(scope: Construct, retention: logs.RetentionDays): ec2.Vpc {
  const flowLogGroup = new logs.LogGroup(scope, 'VpcFlowLogs', { retention, removalPolicy: RemovalPolicy.RETAIN });
  return new ec2.Vpc(scope, 'Vpc', {
    maxAzs: AWS_DEFAULTS.maxAzs,
    natGateways: AWS_DEFAULTS.maxAzs,
    subnetConfiguration: [
      { name: 'Public', subnetType: ec2.SubnetType.PUBLIC, cidrMask: 24, mapPublicIpOnLaunch: false },
      { name: 'Private', subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS, cidrMask: 20 },
    ],
    flowLogs: {
      FlowLog: { destination: ec2.FlowLogDestination.toCloudWatchLogs(flowLogGroup), trafficType: ec2.FlowLogTrafficType.ALL },
    },
  });
}
