import { describe, expect, it } from 'vitest';
import { definePlugin, isPlugin, PLUGIN_BRAND } from '../../src/plugin/define-plugin.js';
import { isChildMessage, isHostMessage, PROTOCOL_VERSION } from '../../src/plugin/protocol.js';

describe('definePlugin', () => {
  it('brands the definition with a global symbol, so another SDK copy recognises it', () => {
    const plugin = definePlugin({ kind: 'source', create: () => ({ poll: async () => [] }) });
    expect(isPlugin(plugin)).toBe(true);
    expect(Object.isFrozen(plugin)).toBe(true);
    expect(PLUGIN_BRAND).toBe(Symbol.for('danube-connect.plugin'));
    const foreign = { kind: 'sink', create: () => ({}), [Symbol.for('danube-connect.plugin')]: 1 };
    expect(isPlugin(foreign)).toBe(true);
  });

  it('rejects what is not a plugin definition', () => {
    expect(isPlugin({ kind: 'source', create: () => ({}) })).toBe(false);
    expect(isPlugin(null)).toBe(false);
    expect(() => definePlugin({ kind: 'pipe', create: () => ({}) } as never)).toThrow(/kind must be "source" or "sink"/);
    expect(() => definePlugin({ kind: 'sink' } as never)).toThrow(/create must be a function/);
  });
});

describe('IPC message guards', () => {
  it('accept only known types of this protocol version', () => {
    expect(isHostMessage({ v: PROTOCOL_VERSION, type: 'ping', id: 1 })).toBe(true);
    expect(isHostMessage({ v: PROTOCOL_VERSION + 1, type: 'ping', id: 1 })).toBe(false);
    expect(isHostMessage({ v: PROTOCOL_VERSION, type: 'pong', id: 1 })).toBe(false);
    expect(isChildMessage({ v: PROTOCOL_VERSION, type: 'ready', pid: 1, sdkVersion: '0.1.0' })).toBe(true);
    expect(isChildMessage({ type: 'ready' })).toBe(false);
    expect(isChildMessage('ready')).toBe(false);
  });
});
