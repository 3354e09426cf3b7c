/** `cdk synth` / `cdk deploy` entry point (see cdk.json). */
import { createTboAwsApp } from './tbo-aws-stack';

createTboAwsApp().synth();
