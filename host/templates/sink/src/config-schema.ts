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
    path: { type: 'string', minLength: 1, description: 'The text file the messages are appended to, one line each.' },
    topic: { type: 'string', pattern: '^/[A-Za-z0-9_-]+/[A-Za-z0-9_-]+$', description: 'The Danube topic to read, /<namespace>/<topic>.' },
    subscription: { type: 'string', minLength: 1, description: 'The Danube subscription (exclusive). Default: <connector name>-file-sink, stable across restarts.' },
    sync: { type: 'boolean', default: true, description: 'fsync each batch before it is acknowledged, so a power loss loses nothing Danube was told is written.' },
  },
} as const satisfies ExtendedJSONSchema<HostMarks>;

/** The config `create` gets: valid, with every default applied (so `sync` is always there). */
export type Config = FromExtendedSchema<HostMarks, typeof configSchema>;
