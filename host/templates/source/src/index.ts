// A source: tails a text file into Danube, one message per line. The byte offset after each line is committed
// to `state_file` only once Danube has that line and every line before it, so a crash at any point loses
// nothing (the next start resumes after the last committed line; lines after it come again: at-least-once).
import { open, readFile, rename, writeFile } from 'node:fs/promises';
import { ConnectorError, definePlugin, textRecord, type ConnectorHealth, type SourceConnector, type SourceRecord } from '@danube-connect/sdk';
import type { Config } from './config-schema.js';

/** Bytes read from the file per poll at most. */
const READ_BYTES = 64 * 1024;

export default definePlugin<Config>({
  kind: 'source',
  async create(config, ctx) {
    const stateFile = config.state_file ?? `${config.path}.offset`;
    const saved = await readFile(stateFile, 'utf8').catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return '0';
      throw ConnectorError.fatal(`cannot read the state file ${stateFile}`, { cause: err });
    });
    const start = Number(saved);
    if (!Number.isSafeInteger(start) || start < 0) throw ConnectorError.fatal(`the state file ${stateFile} holds "${saved.slice(0, 40)}", not a byte offset`);
    /** End of the last line handed to the runtime. */
    let offset = start;
    /** End of the last line Danube has, with every line before it: what `commit` saves. */
    let committed = start;
    /** Bytes read after `offset` that do not end in a newline yet. */
    let pending = Buffer.alloc(0);
    let health: ConnectorHealth = { status: 'healthy' };

    const source: SourceConnector = {
      // Declared here, the topic is checked at start (a missing namespace fails the start, not the first send).
      producerConfigs: () => [{ topic: config.topic }],

      // Pull style: called whenever the runtime's in-flight window has room; [] = nothing new (it waits
      // poll_interval_ms, or returns at once when ctx.signal aborts: a stop).
      async poll(): Promise<SourceRecord[]> {
        const file = await open(config.path, 'r').catch((err: NodeJS.ErrnoException) => {
          if (err.code === 'ENOENT') return undefined;
          // Retried with backoff; after max_retries, on_retry_exhausted decides.
          throw ConnectorError.retryable(`cannot open ${config.path}`, { cause: err });
        });
        if (!file) {
          health = { status: 'degraded', detail: `waiting for ${config.path} to exist` };
          return [];
        }
        health = { status: 'healthy' };
        try {
          const chunk = Buffer.alloc(READ_BYTES);
          const { bytesRead } = await file.read(chunk, 0, chunk.length, offset + pending.length);
          pending = Buffer.concat([pending, chunk.subarray(0, bytesRead)]);
        } finally {
          await file.close();
        }
        const records: SourceRecord[] = [];
        let newline: number;
        while (records.length < config.batch_lines && (newline = pending.indexOf(0x0a)) >= 0) {
          const line = pending.subarray(0, newline);
          pending = pending.subarray(newline + 1);
          offset += line.length + 1;
          const end = offset;
          // `ack` runs once Danube has this record and every record before it, in this order.
          const ack = () => {
            committed = end;
          };
          records.push(textRecord(config.topic, line.toString('utf8'), { attributes: { file: config.path }, ack }));
        }
        return records;
      },

      // Called in read order after the acks of the records it carries. Written to a temporary file and renamed,
      // so a crash mid-write leaves the previous offset, never a torn one.
      async commit() {
        await writeFile(`${stateFile}.tmp`, String(committed));
        await rename(`${stateFile}.tmp`, stateFile);
      },

      // Asked on each heartbeat; shown by the host as the connector's state and detail.
      health: () => health,
    };
    ctx.logger.info({ path: config.path, topic: config.topic, offset: start }, 'tailing');
    return source;
  },
});
