/**
 * What the bundle gets for `node-fetch` (service/build.mjs aliases it here): Node's own fetch.
 * gaxios (under google-auth-library) imports node-fetch on Node; the built-in fetch it supports as
 * well (and uses in the tests), so the image carries no second HTTP client and no stream polyfill.
 */
export default globalThis.fetch;
