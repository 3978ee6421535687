import { mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createConnectorLogger } from '@danube-connect/sdk';
import { describe, expect, it } from 'vitest';
import { createLogOutput } from '../../src/run/log-output.js';

async function written(isTTY: boolean): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'dc-log-'));
  const file = join(dir, 'out');
  try {
    // The output owns the fd: close() writes every line, in order, then closes it.
    const output = await createLogOutput({ fd: openSync(file, 'w'), isTTY });
    createConnectorLogger({ component: 'host' }, 'info', output.destination).info({ connectors: 1 }, 'danube-connect running');
    output.relay(JSON.stringify({ level: 30, time: Date.now(), connector: 'iot', msg: 'connector ready' }));
    await output.close();
    return readFileSync(file, 'utf8');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('log output', () => {
  it('is NDJSON (host lines and relayed child lines) when stdout is not a terminal', async () => {
    const lines = (await written(false)).trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.map((l) => l.msg)).toEqual(['danube-connect running', 'connector ready']);
    expect(lines[1]?.connector).toBe('iot');
  });

  it('is human-readable for both when stdout is a terminal and pino-pretty is installed', async () => {
    // Strip the colours before matching.
    const text = (await written(true)).replace(/\u001b\[[0-9;]*m/g, '');
    expect(text).not.toMatch(/^\{/m);
    expect(text).toMatch(/INFO.*danube-connect running/);
    expect(text).toMatch(/INFO.*connector ready/);
    expect(text).toContain('connector: "iot"');
  });
});
