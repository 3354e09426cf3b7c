export { EMF_METRICS, EMF_SERVICE_DIMENSION } from '../core';
