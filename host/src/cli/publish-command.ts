import { randomBytes } from 'node:crypto';
import { createInterface } from 'node:readline';
import type { Producer } from '@danube-connect/sdk';
import { type CliCommand, EXIT_CODES, parseCommandLine, UsageError } from './cli-command.js';
import { connect, danubeTarget, describeFailure } from './danube-target.js';

const USAGE = [
  'danube-connect publish <topic> [<message>...] [--service-url <url> | --config <host.toml>] [--key <key>] [--attr <k=v>]... [--partitions <n>] [--dispatch reliable|non_reliable]',
  '',
  '  Sends each <message> argument to <topic> as one UTF-8 message, or, without any, each line of stdin, and',
  '  prints what was sent (topic, partition, request id, bytes). Exit 0 once the broker acknowledged them all.',
  '',
  '  --service-url <url>   the broker (else [danube] of --config, else DANUBE_SERVICE_URL); token: DANUBE_TOKEN',
  '  -c, --config <file>   host.toml whose [danube] to use (create_namespaces applies)',
  '  -k, --key <key>       routing key of every message (picks the partition; KeyShared dispatch uses it)',
  '  -a, --attr <k=v>      an attribute of every message; repeat for more',
  '  --partitions <n>      create the topic with n partitions when it does not exist (default: a plain topic)',
  '  --dispatch <mode>     reliable (default: stored, acked, redelivered) or non_reliable (live only); fixed',
  '                        when the topic is created, and a mismatch with an existing topic is an error',
].join('\n');

function attributes(pairs: string[] | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pair of pairs ?? []) {
    const at = pair.indexOf('=');
    if (at < 1) throw new UsageError(`--attr takes key=value, got "${pair}"`);
    out[pair.slice(0, at)] = pair.slice(at + 1);
  }
  return out;
}

/** The messages to send: the arguments, else stdin's lines (a last line without a newline counts too). */
async function* messages(args: string[]): AsyncGenerator<string> {
  if (args.length > 0) {
    yield* args;
    return;
  }
  for await (const line of createInterface({ input: process.stdin, crlfDelay: Infinity })) yield line;
}

/** `danube-connect publish <topic>`: send messages, for debugging and the demo. */
export const publishCommand: CliCommand = {
  summary: 'send messages (arguments or stdin lines) to a Danube topic',
  usage: USAGE,
  async run(args, io) {
    const { values, positionals } = parseCommandLine(
      args,
      {
        'service-url': { type: 'string' },
        config: { type: 'string', short: 'c' },
        key: { type: 'string', short: 'k' },
        attr: { type: 'string', short: 'a', multiple: true },
        partitions: { type: 'string' },
        dispatch: { type: 'string' },
      },
      Infinity,
    );
    const [topic, ...texts] = positionals;
    if (topic === undefined) throw new UsageError('publish needs a topic, e.g. /default/readings');
    const attrs = attributes(values.attr);
    const partitions = values.partitions === undefined ? 0 : Number(values.partitions);
    if (values.partitions !== undefined && !(Number.isInteger(partitions) && partitions >= 1)) {
      throw new UsageError(`--partitions must be a whole number >= 1, got "${values.partitions}"`);
    }
    const dispatch = values.dispatch ?? 'reliable';
    if (dispatch !== 'reliable' && dispatch !== 'non_reliable') throw new UsageError(`--dispatch must be reliable or non_reliable, got "${dispatch}"`);
    const target = danubeTarget({ serviceUrl: values['service-url'], config: values.config }, io);
    if (typeof target === 'number') return target;
    const { client, sdk } = await connect(target);
    try {
      try {
        sdk.validateTopicName(topic);
      } catch (err) {
        throw new UsageError((err as Error).message);
      }
      let producer: Producer;
      try {
        producer = await client.createProducer({
          topic,
          name: `danube-connect-publish-${randomBytes(4).toString('hex')}`,
          dispatch,
          ...(partitions > 0 ? { partitions } : {}),
        });
      } catch (err) {
        io.err(`publish: cannot create a producer for ${topic} on ${target.serviceUrl}: ${describeFailure(err)}`);
        return EXIT_CODES.failure;
      }
      let sent = 0;
      try {
        for await (const text of messages(texts)) {
          const payload = Buffer.from(text, 'utf8');
          const receipt = await producer.send(payload, { ...(values.key !== undefined ? { key: values.key } : {}), attributes: attrs });
          sent++;
          io.out(`sent ${receipt.topic}${receipt.partition === undefined ? '' : ` partition=${receipt.partition}`} request=${receipt.requestId} bytes=${payload.length}${values.key === undefined ? '' : ` key=${JSON.stringify(values.key)}`}`);
        }
      } catch (err) {
        io.err(`publish: ${topic}: message ${sent + 1} not sent: ${describeFailure(err)}`);
        return EXIT_CODES.failure;
      }
      io.err(`publish: ${sent} message${sent === 1 ? '' : 's'} sent to ${topic}`);
      return EXIT_CODES.ok;
    } finally {
      await client.close(5_000);
    }
  },
};
