import { ComputeNetwork } from '@cdktf/provider-google/lib/compute-network';
import { ComputeSubnetwork } from '@cdktf/provider-google/lib/compute-subnetwork';
import { Construct } from 'constructs';

/** Properties of {@link TboNetwork}. */
export interface TboNetworkProps {
  /** Prefix of the created network (`<name>-vpc`) and subnetwork (`<name>-egress`). */
  readonly name: string;
  /** Project. @default - the provider's project */
  readonly project?: string;
  /** Region of the created subnetwork. */
  readonly region: string;
  /** IPv4 range of the created subnetwork. */
  readonly subnetCidr: string;
  /** Existing network to use instead (with `existingSubnetwork`). @default - a new custom-mode network */
  readonly existingNetwork?: string;
  /** Existing subnetwork to use instead (with `existingNetwork`). @default - a new subnetwork */
  readonly existingSubnetwork?: string;
}

/** The VPC network and subnetwork the service's direct VPC egress and Redis share: given, or created. */
export class TboNetwork extends Construct {
  /** The created network. @default - undefined with `existingNetwork` */
  readonly network?: ComputeNetwork;
  /** The created subnetwork. @default - undefined with `existingSubnetwork` */
  readonly subnetwork?: ComputeSubnetwork;
  /** The network as Cloud Run and Memorystore accept it (`projects/P/global/networks/N`). */
  readonly networkRef: string;
  /** The subnetwork as Cloud Run accepts it. */
  readonly subnetworkRef: string;

  constructor(scope: Construct, id: string, props: TboNetworkProps) {
    super(scope, id);
    if (props.existingNetwork !== undefined && props.existingSubnetwork !== undefined) {
      this.networkRef = props.existingNetwork;
      this.subnetworkRef = props.existingSubnetwork;
      return;
    }
    this.network = new ComputeNetwork(this, 'Network', {
      project: props.project,
      name: `${props.name}-vpc`,
      autoCreateSubnetworks: false,
      routingMode: 'REGIONAL',
    });
    this.subnetwork = new ComputeSubnetwork(this, 'Subnetwork', {
      project: props.project,
      name: `${props.name}-egress`,
      region: props.region,
      network: this.network.id,
      ipCidrRange: props.subnetCidr,
      privateIpGoogleAccess: true,
    });
    this.networkRef = this.network.id;
    this.subnetworkRef = this.subnetwork.id;
  }
}
