/**
 * tbo-deploy: the shared deployment contract. Each target lives in its own subpath
 * (`tbo-deploy/aws`, `tbo-deploy/gcp`, `tbo-deploy/k8s`) so one target never loads another's
 * dependencies.
 */
export * from './core';
