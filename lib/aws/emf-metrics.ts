/** The service's CloudWatch EMF metric names and dimension, from the shared contract. */
export { EMF_METRICS, EMF_SERVICE_DIMENSION } from '../core';
