export { TestBroker } from './test-broker.js';
export type { StoredMessage, TestBrokerOptions } from './test-broker.js';
export { TestCluster } from './test-cluster.js';
export type { TopicRecord } from './test-cluster.js';
export { mintJwt } from './mint-jwt.js';
export type { DanubeJwtClaims } from './mint-jwt.js';
export { DEFAULT_FAILURE_POLICY } from './failure-policy.js';
export type { BackoffStrategy, FailurePolicy, PoisonPolicy } from './failure-policy.js';
export { BrokerError } from './broker-error.js';
