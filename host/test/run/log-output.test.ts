import { execFileSync, spawn } from 'node:child_process';
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

  it('gives a slow reader every line at close, the last one too, however long it takes while it keeps reading', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dc-log-slow-'));
    try {
      const fifo = join(dir, 'out');
      execFileSync('mkfifo', [fifo]);
      // A reader taking 64 KiB every 40 ms: 4.5 s or more for these 7 MiB, more than a stalled reader is given.
      const reader = spawn(process.execPath, ['-e', `
        const fs = require('node:fs');
        const fd = fs.openSync(process.argv[1], 'r');
        const chunk = Buffer.alloc(65536);
        let bytes = 0, tail = '';
        (function step() {
          const n = fs.readSync(fd, chunk, 0, chunk.length, null);
          if (n === 0) return process.stdout.write(JSON.stringify({ bytes, tail }));
          bytes += n;
          tail = (tail + chunk.toString('utf8', 0, n)).slice(-200);
          setTimeout(step, 40);
        })();
      `, fifo], { stdio: ['ignore', 'pipe', 'inherit'] });
      let out = '';
      reader.stdout.on('data', (data: Buffer) => (out += data.toString()));
      const exited = new Promise((resolve) => reader.once('exit', resolve));
      const output = await createLogOutput({ fd: openSync(fifo, 'w'), isTTY: false });
      const line = `${JSON.stringify({ level: 30, msg: 'x'.repeat(1000) })}\n`;
      const lines = Math.floor((7 * 1024 * 1024) / line.length);
      for (let i = 0; i < lines; i++) output.destination.write(line);
      output.destination.write(`${JSON.stringify({ level: 30, msg: 'the last line' })}\n`);
      await output.close();
      // What the host exits on: nothing may be left unwritten when close() resolves.
      expect(output.stats().bufferedBytes).toBe(0);
      await exited;
      const result = JSON.parse(out) as { bytes: number; tail: string };
      expect(output.stats().droppedLines).toBe(0);
      expect(result.tail).toContain('the last line');
      expect(result.bytes).toBe(lines * line.length + Buffer.byteLength(`${JSON.stringify({ level: 30, msg: 'the last line' })}\n`));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
