import 'cdktf/lib/testing/adapters/jest';
import { CloudRunV2Service } from '@cdktf/provider-google/lib/cloud-run-v2-service';
import { ComputeNetwork } from '@cdktf/provider-google/lib/compute-network';
import { ComputeSubnetwork } from '@cdktf/provider-google/lib/compute-subnetwork';
import { RedisInstance } from '@cdktf/provider-google/lib/redis-instance';
import { Testing } from 'cdktf';
import { NAME, resourcesOf, synthTbo } from './support';

Testing.setupJest();

describe('TboCloudRunService: the direct VPC egress network', () => {
  test('created by default: a custom-mode network and a /23 subnetwork in the region', () => {
    const json = synthTbo();
    const [[networkId]] = resourcesOf(json, 'google_compute_network');
    const [[subnetId]] = resourcesOf(json, 'google_compute_subnetwork');
    expect(json).toHaveResourceWithProperties(ComputeNetwork, { name: `${NAME}-vpc`, auto_create_subnetworks: false, routing_mode: 'REGIONAL', project: 'my-project' });
    expect(json).toHaveResourceWithProperties(ComputeSubnetwork, {
      name: `${NAME}-egress`,
      region: 'europe-west1',
      network: `\${google_compute_network.${networkId}.id}`,
      ip_cidr_range: '10.8.0.0/23',
      private_ip_google_access: true,
    });
    expect(json).toHaveResourceWithProperties(CloudRunV2Service, {
      template: expect.objectContaining({
        vpc_access: {
          egress: 'PRIVATE_RANGES_ONLY',
          network_interfaces: [{ network: `\${google_compute_network.${networkId}.id}`, subnetwork: `\${google_compute_subnetwork.${subnetId}.id}` }],
        },
      }),
    });
  });

  test('subnetCidr sets the created range', () => {
    expect(synthTbo({ subnetCidr: '10.20.0.0/22' })).toHaveResourceWithProperties(ComputeSubnetwork, { ip_cidr_range: '10.20.0.0/22' });
  });

  test('existingNetwork + existingSubnetwork: nothing created; the service and Redis use them', () => {
    const network = 'projects/host/global/networks/shared-vpc';
    const subnetwork = 'projects/host/regions/europe-west1/subnetworks/tbo';
    const json = synthTbo({ existingNetwork: network, existingSubnetwork: subnetwork });
    expect(resourcesOf(json, 'google_compute_network')).toHaveLength(0);
    expect(resourcesOf(json, 'google_compute_subnetwork')).toHaveLength(0);
    expect(json).toHaveResourceWithProperties(RedisInstance, { authorized_network: network });
    expect(json).toHaveResourceWithProperties(CloudRunV2Service, {
      template: expect.objectContaining({ vpc_access: { egress: 'PRIVATE_RANGES_ONLY', network_interfaces: [{ network, subnetwork }] } }),
    });
  });
});
