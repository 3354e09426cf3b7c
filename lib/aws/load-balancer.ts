import { Annotations, Duration, Token } from 'aws-cdk-lib';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as route53 from 'aws-cdk-lib/aws-route53';
import * as targets from 'aws-cdk-lib/aws-route53-targets';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type { Construct } from 'constructs';
import { PROBE_PATHS, SERVICE_PORT } from '../core';
import { createAccessLogsBucket, enableAccessLogs } from './access-logs';
import { acknowledge } from './nag';
import type { TboFargateServiceProps } from './props';
import type { ResolvedProps } from './resolve-props';

const ANYWHERE = ['0.0.0.0/0', '::/0'];

export interface TboLoadBalancer {
  readonly loadBalancer: elbv2.ApplicationLoadBalancer;
  readonly securityGroup: ec2.SecurityGroup;
  /** The listener that forwards to the service: HTTPS (443) when a certificate is given, else HTTP (80). */
  readonly listener: elbv2.ApplicationListener;
  /** The port 80 listener: redirects to HTTPS, or forwards when there is no certificate. */
  readonly httpListener: elbv2.ApplicationListener;
  readonly targetGroup: elbv2.ApplicationTargetGroup;
  readonly certificate?: acm.ICertificate;
  readonly accessLogsBucket?: s3.IBucket;
  /** The URL clients use. */
  readonly url: string;
}

function peer(cidr: string): ec2.IPeer {
  return cidr.includes(':') ? ec2.Peer.ipv6(cidr) : ec2.Peer.ipv4(cidr);
}

/**
 * The Application Load Balancer in front of the tasks: internet-facing HTTPS with a redirect from
 * HTTP when there is a certificate (else internal HTTP, with a synth warning, unless
 * `allowPlaintextInternet`), ingress only from `allowedCidrs`, health checks on the readiness path,
 * a deregistration delay of `maxStreamDuration` (so responses in flight finish when a task stops),
 * an idle timeout long enough for a silent upstream, invalid headers dropped, and access logs in S3.
 */
export function createLoadBalancer(scope: Construct, vpc: ec2.IVpc, r: ResolvedProps, props: TboFargateServiceProps): TboLoadBalancer {
  const securityGroup = new ec2.SecurityGroup(scope, 'LoadBalancerSecurityGroup', {
    vpc,
    description: 'TBO load balancer: clients in allowedCidrs to the listeners, and the listeners to the service tasks',
    allowAllOutbound: false,
  });
  const cidrs = props.allowedCidrs ?? (r.internetFacing ? ['0.0.0.0/0'] : [vpc.vpcCidrBlock]);
  const ports = r.https ? [443, 80] : [80];
  for (const cidr of cidrs) {
    for (const port of ports) securityGroup.addIngressRule(peer(cidr), ec2.Port.tcp(port), port === 80 && r.https ? 'HTTP, redirected to HTTPS' : 'TBO clients');
  }
  if (cidrs.some((c) => ANYWHERE.includes(c))) {
    acknowledge(
      securityGroup,
      'AwsSolutions-EC23',
      'The gateway is an internet-facing API for clients anywhere: only the listener ports are open (80 redirects to 443 when a ' +
        'certificate is given), every request is authenticated by JWT or client API key, and allowedCidrs narrows the ranges.',
    );
  } else if (cidrs.some((c) => Token.isUnresolved(c))) {
    acknowledge(
      securityGroup,
      'AwsSolutions-EC23',
      'The source is a deploy-time value (by default the VPC\'s own CIDR block for an internal load balancer) that cdk-nag cannot ' +
        'resolve, so it reports the rule as unevaluated; it is never 0.0.0.0/0 or ::/0, which are literals.',
    );
  }

  const loadBalancer = new elbv2.ApplicationLoadBalancer(scope, 'LoadBalancer', {
    vpc,
    internetFacing: r.internetFacing,
    securityGroup,
    idleTimeout: Duration.seconds(r.idleTimeoutSeconds),
    dropInvalidHeaderFields: true,
  });
  let accessLogsBucket: s3.IBucket | undefined;
  if (r.accessLogs) {
    accessLogsBucket = props.existingAccessLogsBucket ?? createAccessLogsBucket(scope);
    enableAccessLogs(scope, loadBalancer, accessLogsBucket);
  } else {
    Annotations.of(scope).addWarningV2('tbo-deploy:accessLogsOff', 'accessLogs: false turns off the load balancer access logs, the record of who called the gateway.');
  }

  const targetGroup = new elbv2.ApplicationTargetGroup(scope, 'TargetGroup', {
    vpc,
    port: SERVICE_PORT,
    protocol: elbv2.ApplicationProtocol.HTTP,
    targetType: elbv2.TargetType.IP,
    deregistrationDelay: Duration.seconds(r.deregistrationDelaySeconds),
    healthCheck: {
      path: PROBE_PATHS.readiness,
      healthyHttpCodes: '200',
      interval: Duration.seconds(r.healthCheckIntervalSeconds),
      timeout: Duration.seconds(5),
      healthyThresholdCount: 2,
      unhealthyThresholdCount: 3,
    },
  });

  let certificate = props.certificate;
  if (!certificate && props.domainName && props.hostedZone) {
    certificate = new acm.Certificate(scope, 'Certificate', {
      domainName: props.domainName,
      validation: acm.CertificateValidation.fromDns(props.hostedZone),
    });
  }
  if (props.domainName && props.hostedZone) {
    new route53.ARecord(scope, 'AliasRecord', {
      zone: props.hostedZone,
      recordName: props.domainName,
      target: route53.RecordTarget.fromAlias(new targets.LoadBalancerTarget(loadBalancer)),
    });
  }

  let listener: elbv2.ApplicationListener;
  let httpListener: elbv2.ApplicationListener;
  if (certificate) {
    listener = loadBalancer.addListener('HttpsListener', {
      port: 443,
      protocol: elbv2.ApplicationProtocol.HTTPS,
      certificates: [elbv2.ListenerCertificate.fromCertificateManager(certificate)],
      sslPolicy: elbv2.SslPolicy.RECOMMENDED_TLS,
      open: false,
      defaultTargetGroups: [targetGroup],
    });
    httpListener = loadBalancer.addListener('HttpListener', {
      port: 80,
      protocol: elbv2.ApplicationProtocol.HTTP,
      open: false,
      defaultAction: elbv2.ListenerAction.redirect({ protocol: 'HTTPS', port: '443', permanent: true }),
    });
  } else {
    listener = httpListener = loadBalancer.addListener('HttpListener', {
      port: 80,
      protocol: elbv2.ApplicationProtocol.HTTP,
      open: false,
      defaultTargetGroups: [targetGroup],
    });
    const where = r.internetFacing
      ? 'to the internet (allowPlaintextInternet: true), so API keys and prompts cross the internet unencrypted'
      : 'on an internal load balancer (reachable only through the VPC: its own range, or allowedCidrs), so API keys and prompts cross your network unencrypted';
    Annotations.of(scope).addWarningV2(
      'tbo-deploy:httpOnly',
      `TboFargateService serves plain HTTP ${where}: pass certificate, or domainName and hostedZone, for HTTPS on an internet-facing load balancer with a redirect from HTTP.`,
    );
  }
  const host = props.domainName ?? loadBalancer.loadBalancerDnsName;
  const url = certificate ? `https://${host}` : `http://${loadBalancer.loadBalancerDnsName}`;
  return { loadBalancer, securityGroup, listener, httpListener, targetGroup, certificate, accessLogsBucket, url };
}
