import type { ExtendedJSONSchema, FromExtendedSchema } from 'json-schema-to-ts';

/**
 * The marks the host reads besides standard JSON Schema: `"x-secret": true` makes a field secret (masked in
 * `validate --print`, /connectors and logs) and `false` shows one whose name looks secret. `writeOnly: true`
 * marks a secret too. Fields named like secrets (password, token, …) are masked without a mark.
 */
type HostMarks = { 'x-secret': boolean };

/**
 * The connector config's JSON Schema, the one source of truth: the build writes it to schema.json, which the
 * host validates each `[connectors.config]` with (applying the defaults) before `create` runs, and `Config` is
 * derived from it. Keep it one self-contained schema (no external $ref): the host compiles it alone.
 */
export const configSchema = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  title: '{{name}} config',
  type: 'object',
  additionalProperties: false,
  required: ['path', 'topic'],
  properties: {
    path: { type: 'string', minLength: 1, description: 'The text file to tail, one message per line (it may not exist yet).' },
    topic: { type: 'string', pattern: '^/[A-Za-z0-9_-]+/[A-Za-z0-9_-]+$', description: 'The Danube topic to publish to, /<namespace>/<topic>.' },
    state_file: { type: 'string', minLength: 1, description: 'Where the byte offset after the last line Danube has is kept. Default: <path>.offset.' },
    batch_lines: { type: 'integer', minimum: 1, maximum: 10000, default: 100, description: 'Most lines one poll hands to the runtime.' },
  },
} as const satisfies ExtendedJSONSchema<HostMarks>;

/** The config `create` gets: valid, with every default applied (so `batch_lines` is always there). */
export type Config = FromExtendedSchema<HostMarks, typeof configSchema>;
