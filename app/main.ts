/**
 * The cdktf app: example stacks for the GCP and Kubernetes targets. `npx cdktf synth` (or
 * `npm run synth`) writes Terraform JSON to cdktf.out; `cdktf deploy <stack>` applies one.
 */
import { App } from 'cdktf';
import { TboGcpStack } from './gcp-stack';
import { TboKubernetesStack } from './k8s-stack';

const app = new App();
new TboGcpStack(app, 'tbo-gcp');
new TboKubernetesStack(app, 'tbo-k8s');
app.synth();
