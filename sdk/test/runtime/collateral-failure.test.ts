import { describe, expect, it } from 'vitest';
import { DanubeError } from '../../src/danube/errors.js';
import { isCollateralFailure } from '../../src/runtime/collateral-failure.js';
import { uniqueName, uniqueTopic } from '../contract/target.js';
import { startBroker } from '../broker.js';
import { testClient } from './source-fixtures.js';

describe('isCollateralFailure', () => {
  it("tells a send failed for an earlier one's sake from the failure itself", async () => {
    const broker = await startBroker({ maxMessageSize: 10 });
    const producer = await testClient(broker.serviceUrl).createProducer({ topic: uniqueTopic('cf'), name: uniqueName('p'), ordering: 'partition', retry: { maxRetries: 0 } });
    const [big, small] = await Promise.allSettled([producer.send('x'.repeat(11)), producer.send('ok')]);
    expect(big.status === 'rejected' && big.reason).toMatchObject({ code: 'DC_ERR_MESSAGE_TOO_LARGE' });
    expect(small.status === 'rejected' && small.reason).toMatchObject({ code: 'DC_ERR_MESSAGE_TOO_LARGE' });
    expect(isCollateralFailure(big.status === 'rejected' && big.reason)).toBe(false);
    expect(isCollateralFailure(small.status === 'rejected' && small.reason)).toBe(true);
  });

  it('is false for anything else', () => {
    expect(isCollateralFailure(new DanubeError('down', { code: 'DC_ERR_UNAVAILABLE', retryable: true }))).toBe(false);
    expect(isCollateralFailure(new Error('x', { cause: new DanubeError('down', { code: 'DC_ERR_UNAVAILABLE', retryable: true }) }))).toBe(false);
    expect(isCollateralFailure(undefined)).toBe(false);
  });
});
