/**
 * The pods' cloud identity (`workloadIdentity`): the ServiceAccount annotations each mechanism reads,
 * and the only egress each needs beyond HTTPS to the model APIs.
 *
 * - EKS IRSA: the pod identity webhook mutates every pod whose ServiceAccount has
 *   `eks.amazonaws.com/role-arn`: it adds its own projected token volume (`aws-iam-token`, audience
 *   `sts.amazonaws.com`) and `AWS_ROLE_ARN` / `AWS_WEB_IDENTITY_TOKEN_FILE`, independently of
 *   `automountServiceAccountToken` (which stays false); the SDK calls STS over HTTPS.
 *   https://docs.aws.amazon.com/eks/latest/userguide/iam-roles-for-service-accounts.html
 * - EKS Pod Identity: the association lives in EKS; the webhook adds a projected token
 *   (`eks-pod-identity-token`) and `AWS_CONTAINER_CREDENTIALS_FULL_URI`; the SDK fetches credentials
 *   from the node's agent at 169.254.170.23 (IPv4) or [fd00:ec2::23] (IPv6), port 80.
 *   https://docs.aws.amazon.com/eks/latest/userguide/pod-id-agent-setup.html
 * - GKE Workload Identity Federation: the GKE metadata server answers the pods at 169.254.169.254:80;
 *   with a NetworkPolicy, GKE asks to also allow 169.254.169.252:988, where the node's metadata server
 *   listens (clusters without Dataplane V2 rewrite the address before the policy applies).
 *   https://cloud.google.com/kubernetes-engine/docs/how-to/network-policy
 */
import type { NetworkPolicyV1SpecEgress } from '@cdktf/provider-kubernetes/lib/network-policy-v1';
import type { PropValidator } from '../core';
import type { TboWorkloadIdentityProps } from './props';

/** The ServiceAccount annotation EKS's pod identity webhook reads (IRSA). */
export const IRSA_ROLE_ANNOTATION = 'eks.amazonaws.com/role-arn';
/** The ServiceAccount annotation GKE Workload Identity reads (the Google service account to act as). */
export const GKE_SERVICE_ACCOUNT_ANNOTATION = 'iam.gke.io/gcp-service-account';

/** Where a pod reaches the EKS Pod Identity Agent on its node. */
export const EKS_POD_IDENTITY_AGENT = { ipv4: '169.254.170.23', ipv6: 'fd00:ec2::23', port: 80 } as const;
/** Where a pod reaches the GKE metadata server: the address it dials, and where the node's server listens. */
export const GKE_METADATA_SERVER = { ip: '169.254.169.254', port: 80, nodeIp: '169.254.169.252', nodePort: 988 } as const;

/** An IAM role ARN in any AWS partition (`arn:aws:iam::111122223333:role/path/name`). */
const IAM_ROLE_ARN = /^arn:aws(-cn|-us-gov|-iso(-[a-z])?|-eusc)?:iam::\d{12}:role\/([\w+=,.@-]+\/)*[\w+=,.@-]{1,64}$/;
/** A Google service account email (`NAME@PROJECT.iam.gserviceaccount.com`). */
const GCP_SERVICE_ACCOUNT = /^[a-z][a-z0-9-]{4,28}[a-z0-9]@[a-z][a-z0-9-]{4,28}[a-z0-9]\.iam\.gserviceaccount\.com$/;

/** `workloadIdentity` resolved: which mechanisms the pods use. */
export interface WorkloadIdentityPlan {
  readonly awsRoleArn?: string;
  readonly eksPodIdentity: boolean;
  readonly gcpServiceAccount?: string;
  readonly gkeWorkloadIdentity: boolean;
}

/** Applies the defaults of `workloadIdentity` (validated first). */
export function resolveWorkloadIdentity(props: TboWorkloadIdentityProps | undefined): WorkloadIdentityPlan {
  return {
    awsRoleArn: props?.awsRoleArn,
    eksPodIdentity: props?.eksPodIdentity ?? false,
    gcpServiceAccount: props?.gcpServiceAccount,
    gkeWorkloadIdentity: props?.gkeWorkloadIdentity ?? props?.gcpServiceAccount !== undefined,
  };
}

/** True when the pods get AWS credentials from IRSA or EKS Pod Identity. */
export function hasAwsIdentity(wi: WorkloadIdentityPlan): boolean {
  return wi.awsRoleArn !== undefined || wi.eksPodIdentity;
}

/** Checks `workloadIdentity`; `known` says whether a value is a literal (tokens are checked by the cloud). */
export function validateWorkloadIdentity(v: PropValidator, props: TboWorkloadIdentityProps | undefined, known: (value: string | undefined) => value is string): void {
  if (!props) return;
  const { awsRoleArn, gcpServiceAccount } = props;
  if (known(awsRoleArn)) {
    v.check(IAM_ROLE_ARN.test(awsRoleArn), 'workloadIdentity.awsRoleArn', awsRoleArn, 'must be an IAM role ARN such as arn:aws:iam::111122223333:role/tbo-gateway');
  }
  if (awsRoleArn !== undefined && props.eksPodIdentity) {
    v.check(false, 'workloadIdentity.eksPodIdentity', true, "give awsRoleArn (IRSA) or eksPodIdentity (EKS Pod Identity), not both: the AWS SDK's default chain reads the IRSA token before the Pod Identity credentials, so the association would go unused");
  }
  if (known(gcpServiceAccount)) {
    v.check(GCP_SERVICE_ACCOUNT.test(gcpServiceAccount), 'workloadIdentity.gcpServiceAccount', gcpServiceAccount, 'must be a Google service account email, NAME@PROJECT.iam.gserviceaccount.com');
  }
  if (gcpServiceAccount !== undefined && props.gkeWorkloadIdentity === false) {
    v.check(false, 'workloadIdentity.gkeWorkloadIdentity', false, 'must be true (or unset) with gcpServiceAccount: the pods reach that service account through the GKE metadata server');
  }
}

/** The ServiceAccount annotations of the mechanisms used. */
export function serviceAccountAnnotations(wi: WorkloadIdentityPlan): Record<string, string> {
  return {
    ...(wi.awsRoleArn !== undefined && { [IRSA_ROLE_ANNOTATION]: wi.awsRoleArn }),
    ...(wi.gcpServiceAccount !== undefined && { [GKE_SERVICE_ACCOUNT_ANNOTATION]: wi.gcpServiceAccount }),
  };
}

const to = (cidr: string, port: number): NetworkPolicyV1SpecEgress => ({ to: [{ ipBlock: { cidr } }], ports: [{ port: String(port), protocol: 'TCP' }] });

/**
 * The egress rules the mechanisms need, each to one address and port: the EKS Pod Identity Agent
 * (both address families), the GKE metadata server (where pods dial it and where it listens). IRSA
 * needs none: STS is HTTPS, which the model APIs' rule already allows.
 */
export function workloadIdentityEgress(wi: WorkloadIdentityPlan): NetworkPolicyV1SpecEgress[] {
  const rules: NetworkPolicyV1SpecEgress[] = [];
  if (wi.eksPodIdentity) {
    rules.push(to(`${EKS_POD_IDENTITY_AGENT.ipv4}/32`, EKS_POD_IDENTITY_AGENT.port), to(`${EKS_POD_IDENTITY_AGENT.ipv6}/128`, EKS_POD_IDENTITY_AGENT.port));
  }
  if (wi.gkeWorkloadIdentity) {
    rules.push(to(`${GKE_METADATA_SERVER.ip}/32`, GKE_METADATA_SERVER.port), to(`${GKE_METADATA_SERVER.nodeIp}/32`, GKE_METADATA_SERVER.nodePort));
  }
  return rules;
}
