// A sink: appends the messages of a Danube topic to a text file, one line each. A batch is acknowledged to
// Danube only once it is in the file (and, with `sync`, on disk): processBatch resolves after the write.
// Delivery is at-least-once, so after a crash a line may be written twice; a sink whose target can upsert keys
// its writes by topic, partition and offset instead (unique on reliable topics).
import { open } from 'node:fs/promises';
import { ConnectorError, definePlugin, type SinkConnector, type SinkRecord } from '@danube-connect/sdk';
import type { Config } from './config-schema.js';

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** One record as a line of the file; throws invalid data for one that cannot be one line of text. */
function toLine(record: SinkRecord): string {
  let text: string;
  try {
    text = utf8.decode(record.payload);
  } catch (err) {
    throw ConnectorError.invalidData(`message ${record.topic}@${record.offset} is not UTF-8 text`, { cause: err, code: 'FILE_SINK_NOT_TEXT' });
  }
  if (text.includes('\n')) throw ConnectorError.invalidData(`message ${record.topic}@${record.offset} spans several lines`, { code: 'FILE_SINK_MULTILINE' });
  return `${text}\n`;
}

export default definePlugin<Config>({
  kind: 'sink',
  create(config, ctx) {
    const sink: SinkConnector = {
      consumerConfigs: () => [{ topic: config.topic, subscription: config.subscription ?? `${ctx.name}-file-sink`, type: 'exclusive' }],

      // One partition's records, in order. All or nothing: every record is checked before anything is written,
      // so an invalid one fails the batch untouched (the runtime then writes its records one by one and
      // dead-letters or drops the bad one). `signal` aborts only at a stop's drain deadline: a graceful stop lets
      // the write in progress finish, and that write is acked.
      async processBatch(records, signal) {
        const text = records.map(toLine).join('');
        signal.throwIfAborted();
        const file = await open(config.path, 'a').catch((err: unknown) => {
          throw ConnectorError.retryable(`cannot open ${config.path}`, { cause: err });
        });
        try {
          await file.appendFile(text);
          if (config.sync) await file.datasync();
        } finally {
          await file.close();
        }
      },
    };
    ctx.logger.info({ path: config.path, topic: config.topic }, 'appending');
    return sink;
  },
});
