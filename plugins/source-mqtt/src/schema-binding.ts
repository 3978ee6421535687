import { isDeepStrictEqual } from 'node:util';
import { isDanubeError, type Logger, type SchemaInfo, type SchemaRegistryClient } from '@danube-connect/sdk';
import type { RouteSchema } from './config.js';
import { schemaError, type SchemaFile } from './payload-check.js';

/** The version a route's messages carry, resolved at start and pinned, so producer and check agree. */
export interface BoundSchema {
  subject: string;
  version: { pinned: number };
}

/** A problem with the registry's answer that no retry changes: the start fails naming the key. */
class SchemaProblem extends Error {}

const isNotFound = (err: unknown) => isDanubeError(err) && err.code === 'DC_ERR_NOT_FOUND';

/** `version` of the config as the SDK's choice, for messages. */
const describeVersion = (version: RouteSchema['version']) => (version === 'latest' ? 'latest' : 'pinned' in version ? `pinned ${version.pinned}` : `minimum ${version.minimum}`);

/** Whether the registered definition is the file's: as parsed JSON for json_schema and avro, as text for .proto. */
function sameDefinition(file: SchemaFile, registered: string): boolean {
  if (file.json === undefined) return file.text.trim() === registered.trim();
  try {
    return isDeepStrictEqual(JSON.parse(registered), file.json);
  } catch {
    return false;
  }
}

/**
 * Registers and resolves one route's schema at start (docs/danube-protocol.md §10.1–10.2): with `auto_register`
 * the file is registered (a new subject gets version 1, a changed file the next version, an unchanged one
 * nothing; the subject's compatibility mode decides whether a change is allowed), then the configured version
 * is resolved as the clients do and must hold the file's definition, so the id and version on each message name
 * exactly the schema its payload was checked against. Returns it pinned. Registry refusals and answers that
 * contradict the config fail the start with a fatal `DC_ERR_MQTT_SCHEMA` naming the key; anything else (Danube
 * unavailable) is thrown as it is, and is retried.
 */
export async function bindSchema(registry: SchemaRegistryClient, schema: RouteSchema, file: SchemaFile | undefined, key: string, logger: Logger): Promise<BoundSchema> {
  try {
    let registered: { version: number; isNewVersion: boolean } | undefined;
    if (schema.auto_register) {
      try {
        registered = await registry.register({ subject: schema.subject, type: schema.type, definition: file?.text ?? '', description: 'registered by danube-connect source-mqtt' });
      } catch (err) {
        if (isDanubeError(err) && err.code === 'DC_ERR_SCHEMA') throw new SchemaProblem(`${key}/file: the schema registry refused it for subject "${schema.subject}": ${err.message}`);
        throw err;
      }
    }
    let latest: SchemaInfo;
    try {
      latest = await registry.getLatest(schema.subject);
    } catch (err) {
      if (isNotFound(err)) throw new SchemaProblem(`${key}/subject: subject "${schema.subject}" is not registered; register it, or set auto_register = true`);
      throw err;
    }
    const bound = await resolveVersion(registry, schema, latest, key);
    if (bound.type !== schema.type) throw new SchemaProblem(`${key}/type: version ${bound.version} of subject "${schema.subject}" is of type ${bound.type}, not ${schema.type}`);
    if (file && !sameDefinition(file, bound.definition)) {
      const hint = registered && registered.version !== bound.version ? ` (the file is version ${registered.version})` : '';
      throw new SchemaProblem(
        `${key}/file: differs from version ${bound.version} of subject "${schema.subject}"${hint}, which the messages would carry (version ${describeVersion(schema.version)}); ` +
          (schema.auto_register ? 'pin the version the file holds, or update the file' : 'set auto_register = true to register the file, or make it the registered definition'),
      );
    }
    logger.info({ subject: schema.subject, version: bound.version, schemaId: bound.schemaId, newVersion: registered?.isNewVersion ?? false }, 'schema bound');
    return { subject: schema.subject, version: { pinned: bound.version } };
  } catch (err) {
    if (err instanceof SchemaProblem) throw schemaError([err.message]);
    throw err;
  }
}

/** docs/danube-protocol.md §10.2, with the config's key in every refusal. */
async function resolveVersion(registry: SchemaRegistryClient, schema: RouteSchema, latest: SchemaInfo, key: string): Promise<SchemaInfo> {
  const { version } = schema;
  if (version === 'latest') return latest;
  if ('minimum' in version) {
    if (latest.version < version.minimum) throw new SchemaProblem(`${key}/version: subject "${schema.subject}" is at version ${latest.version}, below the minimum ${version.minimum}`);
    return latest;
  }
  if (version.pinned === latest.version) return latest;
  const missing = () => new SchemaProblem(`${key}/version: subject "${schema.subject}" has no version ${version.pinned} (latest is ${latest.version})`);
  if (version.pinned > latest.version) throw missing();
  try {
    return await registry.get(latest.schemaId, version.pinned);
  } catch (err) {
    if (isNotFound(err)) throw missing();
    throw err;
  }
}
