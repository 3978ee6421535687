import { defineProject } from 'vitest/config';

// The Danube client contract suite again, with SendMessage/Ack/Nack and the ReceiveMessages stream on the
// node:http2 transport (issue 16): both transports must pass it, against the TestBroker and unchanged against
// DANUBE_SERVICE_URL.
export default defineProject({
  test: {
    name: 'sdk-contract-http2',
    include: ['test/contract/**/*.test.ts'],
    env: { DANUBE_TRANSPORT: 'http2' },
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
  },
});
