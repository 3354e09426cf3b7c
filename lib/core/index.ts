export * from './contract';
export * from './render';
export * from './service-dir';
export * from './validate';
export * from './alerts';
export * from './sizing';
