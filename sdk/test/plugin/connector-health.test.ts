import { describe, expect, it, vi } from 'vitest';
import { mergeHealth, probeConnectorHealth } from '../../src/plugin/connector-health.js';

describe('probeConnectorHealth', () => {
  it('is healthy without a health() and passes through what health() says', async () => {
    expect(await probeConnectorHealth({})).toEqual({ status: 'healthy' });
    expect(await probeConnectorHealth({ health: () => ({ status: 'degraded', detail: 'broker reconnecting' }) })).toEqual({ status: 'degraded', detail: 'broker reconnecting' });
    expect(await probeConnectorHealth({ health: async () => ({ status: 'healthy' }) })).toEqual({ status: 'healthy' });
  });

  it('reports unhealthy when health() throws', async () => {
    const health = await probeConnectorHealth({
      health: () => {
        throw new Error('socket gone');
      },
    });
    expect(health).toEqual({ status: 'unhealthy', detail: 'health() threw: socket gone' });
  });

  it('reports unhealthy when health() hangs', async () => {
    vi.useFakeTimers();
    try {
      const probe = probeConnectorHealth({ health: () => new Promise(() => {}) });
      await vi.advanceTimersByTimeAsync(2_000);
      expect(await probe).toEqual({ status: 'unhealthy', detail: 'health() did not answer within 2000 ms' });
    } finally {
      vi.useRealTimers();
    }
  });
});

describe('mergeHealth', () => {
  it('keeps the runtime status when the connector is healthy, degrades it otherwise and joins the details', () => {
    expect(mergeHealth({ state: 'connected' }, { status: 'healthy' })).toEqual({ state: 'connected' });
    expect(mergeHealth({ state: 'connected' }, { status: 'unhealthy', detail: 'MQTT down' })).toEqual({ state: 'degraded', detail: 'connector unhealthy: MQTT down' });
    expect(mergeHealth({ state: 'degraded', detail: 'Danube unavailable' }, { status: 'degraded' })).toEqual({ state: 'degraded', detail: 'Danube unavailable; connector degraded' });
  });
});
