import { randomBytes } from 'node:crypto';
import type { DanubeMessage } from '@danube-connect/sdk';
import { type CliCommand, EXIT_CODES, parseCommandLine, UsageError } from './cli-command.js';
import { connect, danubeTarget, describeFailure } from './danube-target.js';

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** The payload as text when it is valid UTF-8, else base64. */
function payloadOf(payload: Buffer): { encoding: 'utf8' | 'base64'; payload: string } {
  try {
    return { encoding: 'utf8', payload: utf8.decode(payload) };
  } catch {
    return { encoding: 'base64', payload: payload.toString('base64') };
  }
}

/** One message as `--json` prints it. */
function messageJson(message: DanubeMessage) {
  return {
    topic: message.topic,
    partition: message.partition ?? null,
    offset: message.offset,
    key: message.routingKey ?? null,
    attributes: message.attributes,
    publishTime: new Date(message.publishTime).toISOString(),
    ...payloadOf(message.payload),
  };
}

/** One message as a line: text payloads quoted (JSON string syntax, so a newline cannot split the line), binary ones `base64:`. */
function messageLine(message: DanubeMessage): string {
  const m = messageJson(message);
  const attributes = Object.keys(m.attributes).length > 0 ? ` attributes=${JSON.stringify(m.attributes)}` : '';
  const payload = m.encoding === 'utf8' ? JSON.stringify(m.payload) : `base64:${m.payload}`;
  return `${m.topic}${m.partition === null ? '' : ` partition=${m.partition}`} offset=${m.offset}${m.key === null ? '' : ` key=${JSON.stringify(m.key)}`}${attributes} ${payload}`;
}

const USAGE = [
  'danube-connect tail <topic> [<host.toml>] [--service-url <url>] [--from latest] [--subscription <name>] [--count <n>] [--json]',
  '',
  '  Subscribes to <topic> (every partition of a partitioned one) and prints each message as it arrives:',
  '  topic, partition, offset, routing key, attributes and the payload (as a quoted string when it is UTF-8',
  '  text, else base64:...). --json prints one JSON object per message instead. Ctrl-C stops it.',
  '',
  '  --service-url <url>   the broker (else [danube] of <host.toml>, else DANUBE_SERVICE_URL); token: DANUBE_TOKEN',
  '  -c, --config <file>   host.toml, the same as the positional argument',
  '  --from latest         where to start; the only choice Danube offers: a new subscription starts at the',
  '                        end of the topic (there is no replay), a named one resumes after its last ack',
  '  --subscription <name> subscription name (default: tail-<random>, a new one each run); messages are acked',
  '                        once printed, so on a Reliable topic the next tail of this name goes on from there',
  '  -n, --count <n>       exit 0 after n messages',
  '  --json                one JSON object per line',
].join('\n');

/** `danube-connect tail <topic>`: consume and print, for debugging and the demo. */
export const tailCommand: CliCommand = {
  summary: 'print the messages of a Danube topic as they arrive',
  usage: USAGE,
  async run(args, io) {
    const { values, positionals } = parseCommandLine(
      args,
      {
        'service-url': { type: 'string' },
        config: { type: 'string', short: 'c' },
        from: { type: 'string' },
        subscription: { type: 'string' },
        count: { type: 'string', short: 'n' },
        json: { type: 'boolean' },
      },
      2,
    );
    const [topic, file] = positionals;
    if (topic === undefined) throw new UsageError('tail needs a topic, e.g. /default/readings');
    if (file !== undefined && values.config !== undefined) throw new UsageError('give host.toml once: as the argument or with --config');
    const from = values.from ?? 'latest';
    if (from === 'earliest') {
      throw new UsageError(
        "--from earliest cannot be honoured: Danube starts a new subscription at the end of the topic and cannot replay it (docs/danube-protocol.md §9.4); reuse a --subscription name to resume where it last left off",
      );
    }
    if (from !== 'latest') throw new UsageError(`--from must be latest (or earliest, which Danube cannot do), got "${from}"`);
    const count = values.count === undefined ? Infinity : Number(values.count);
    if (values.count !== undefined && !(Number.isInteger(count) && count >= 1)) throw new UsageError(`--count must be a whole number >= 1, got "${values.count}"`);
    const subscription = values.subscription ?? `tail-${randomBytes(4).toString('hex')}`;
    if (!/^[A-Za-z0-9_-]+$/.test(subscription)) throw new UsageError(`--subscription "${subscription}" is invalid: use letters, digits, _ and -`);
    const target = danubeTarget({ serviceUrl: values['service-url'], config: values.config ?? file }, io);
    if (typeof target === 'number') return target;
    const { client, sdk } = await connect(target);
    try {
      try {
        sdk.validateTopicName(topic);
      } catch (err) {
        throw new UsageError((err as Error).message);
      }
      let consumer;
      try {
        // Exclusive under a stable consumer name: a second tail of the same subscription takes it over (docs/danube-protocol.md §9.1).
        consumer = await client.subscribe({ topic, subscription, name: 'danube-connect-tail', type: 'exclusive', bufferSize: 16 });
      } catch (err) {
        io.err(`tail: cannot subscribe to ${topic} on ${target.serviceUrl}: ${describeFailure(err)}`);
        return EXIT_CODES.failure;
      }
      const stop = () => consumer.close();
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      io.err(`tail: subscription ${subscription} on ${topic} (${target.serviceUrl}), from the latest message; Ctrl-C to stop`);
      let printed = 0;
      try {
        for await (const message of consumer) {
          io.out(values.json ? JSON.stringify(messageJson(message)) : messageLine(message));
          // Acked once printed: a Reliable topic's window (10 unacked) would otherwise stop delivery.
          await consumer.ack(message);
          if (++printed >= count) break;
        }
      } catch (err) {
        io.err(`tail: ${topic}: ${describeFailure(err)}`);
        return EXIT_CODES.failure;
      } finally {
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
        consumer.close();
      }
      return EXIT_CODES.ok;
    } finally {
      await client.close(5_000);
    }
  },
};
