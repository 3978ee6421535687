import type { StreamMessageWire } from '@danube-connect/sdk/internal';
import { compileJsonSchema, describeAjvErrors } from './json-schema.js';
import type { SchemaDefinition } from './schema-definition.js';
import type { SchemaRegistry } from './schema-registry.js';
import type { BrokerTopic } from './topic.js';

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Why a payload does not fit its schema, or undefined when it does (docs/danube-protocol.md §10.3). */
export function payloadProblem(schema: SchemaDefinition, payload: Buffer): string | undefined {
  switch (schema.type) {
    case 'bytes':
      return undefined;
    case 'string':
      try {
        utf8.decode(payload);
        return undefined;
      } catch {
        return 'payload is not valid UTF-8';
      }
    case 'number':
      return payload.length === 4 || payload.length === 8 ? undefined : `a number payload must be 4 or 8 bytes, got ${payload.length}`;
    case 'json_schema': {
      let value: unknown;
      try {
        value = JSON.parse(payload.toString('utf8'));
      } catch (err) {
        return `payload is not valid JSON: ${(err as Error).message}`;
      }
      schema.validator ??= compileJsonSchema(schema.json);
      return schema.validator(value) ? undefined : describeAjvErrors(schema.validator);
    }
    case 'avro':
    case 'protobuf':
      // Binary Avro/Protobuf decoding needs libraries the SDK does not ship; such payloads are accepted.
      return undefined;
  }
}

/**
 * The broker's publish-time schema checks (docs/danube-protocol.md §10.3), in its order, worded as the broker's texts that
 * docs/danube-protocol.md §8.2 lists (clients sort rejections by them). Returns the reason to reject the
 * message, or undefined to accept it. Under 'warn' the broker only logs; the TestBroker logs nothing.
 */
export function schemaRejection(topic: BrokerTopic, message: StreamMessageWire, registry: SchemaRegistry): string | undefined {
  const policy = topic.validationPolicy;
  if (policy === 'none') return undefined;
  const enforce = policy === 'enforce';
  const subjectName = topic.schemaSubject;
  if (subjectName === undefined) {
    return enforce ? `Topic ${topic.name} requires schema but none is configured` : undefined;
  }
  const schemaId = message.schema_id;
  if (schemaId === undefined) return enforce ? `Message missing schema_id for topic ${topic.name} (subject ${subjectName})` : undefined;
  const subject = registry.subjectById(schemaId);
  if (!subject) return `Schema ID ${schemaId} not found in the schema registry`;
  if (subject.name !== subjectName) {
    // Accepted under warn without looking at the payload (assumed: the document does not say).
    return enforce ? `Schema ID ${schemaId} not found for subject ${subjectName} of topic ${topic.name} (it belongs to ${subject.name})` : undefined;
  }
  if (!topic.enablePayloadValidation) return undefined;
  const versionNumber = message.schema_version ?? 1;
  const version = registry.version(subject, versionNumber);
  // Under warn a failed check is only logged, like the other warn cases of docs/danube-protocol.md §10.3
  // (assumed: the document only says that unknown schema ids fail under both policies).
  if (!enforce) return undefined;
  // A missing version is the producer's configuration, not the payload's fault (docs/danube-protocol.md §8.2).
  if (!version) return `Schema version not found: version ${versionNumber} of subject ${subject.name}`;
  const problem = payloadProblem(version.schema, message.payload);
  return problem === undefined ? undefined : `Payload validation failed: ${problem}`;
}
