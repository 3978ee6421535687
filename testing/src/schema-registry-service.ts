import type {
  CheckCompatibilityRequestWire,
  CheckCompatibilityResponseWire,
  ConfigureTopicSchemaRequestWire,
  GetSchemaRequestWire,
  GetSchemaResponseWire,
  GetTopicSchemaConfigResponseWire,
  RegisterSchemaRequestWire,
  RegisterSchemaResponseWire,
  SchemaVersionInfoWire,
  SubjectSummaryWire,
  SuccessMessageResponseWire,
  UpdateTopicValidationPolicyRequestWire,
} from '@danube-connect/sdk/internal';
import type { Broker } from './broker.js';
import { failedPrecondition, invalidArgument, notFound } from './broker-error.js';
import { unary } from './grpc-handlers.js';
import type { BrokerTopic, ValidationPolicy } from './topic.js';

function validationPolicy(input: string): ValidationPolicy {
  const policy = input.toLowerCase();
  if (policy === 'none' || policy === 'warn' || policy === 'enforce') return policy;
  throw invalidArgument(`Invalid validation policy ${JSON.stringify(input)}: expected none, warn or enforce`);
}

/** Topic-bound registry RPCs act on the live topic, so only its owner answers them (docs/danube-protocol.md §10.5). */
function ownedTopic(broker: Broker, name: string): BrokerTopic {
  const topic = broker.localTopic(name);
  if (!topic) throw notFound(`Topic ${name} not found on this broker`);
  return topic;
}

/** danube_schema.SchemaRegistry, served on both ports (docs/danube-protocol.md §2.1, §4, §10). */
export function schemaRegistryService(broker: Broker): Record<string, unknown> {
  const registry = broker.cluster.schemaRegistry;
  return {
    RegisterSchema: unary<RegisterSchemaRequestWire, RegisterSchemaResponseWire>((request) => registry.register(request)),
    GetSchema: unary<GetSchemaRequestWire, GetSchemaResponseWire>((request) =>
      registry.getSchema(request.schema_id, request.version),
    ),
    GetLatestSchema: unary<{ subject: string }, GetSchemaResponseWire>((request) => registry.getLatest(request.subject)),
    ListVersions: unary<{ subject: string }, { versions: SchemaVersionInfoWire[] }>((request) => ({
      versions: registry.listVersions(request.subject),
    })),
    CheckCompatibility: unary<CheckCompatibilityRequestWire, CheckCompatibilityResponseWire>((request) =>
      registry.checkCompatibility(request),
    ),
    DeleteSchemaVersion: unary<{ subject: string; version: number }, SuccessMessageResponseWire>((request) => ({
      success: true,
      message: registry.deleteVersion(request.subject, request.version),
    })),
    SetCompatibilityMode: unary<{ subject: string; compatibility_mode: string }, SuccessMessageResponseWire>((request) => ({
      success: true,
      message: registry.setCompatibilityMode(request.subject, request.compatibility_mode),
    })),
    ConfigureTopicSchema: unary<ConfigureTopicSchemaRequestWire, SuccessMessageResponseWire>((request) => {
      const topic = ownedTopic(broker, request.topic_name);
      if (!registry.subject(request.schema_subject)) throw notFound(`Subject ${request.schema_subject} not found`);
      const policy = validationPolicy(request.validation_policy);
      topic.schemaSubject = request.schema_subject;
      const record = broker.cluster.topic(topic.name);
      if (record) record.schemaSubject = request.schema_subject;
      topic.validationPolicy = policy;
      topic.enablePayloadValidation = request.enable_payload_validation;
      return { success: true, message: `Topic ${topic.name} uses subject ${request.schema_subject} with policy ${policy}` };
    }),
    UpdateTopicValidationPolicy: unary<UpdateTopicValidationPolicyRequestWire, SuccessMessageResponseWire>((request) => {
      const topic = ownedTopic(broker, request.topic_name);
      const policy = validationPolicy(request.validation_policy);
      if (topic.schemaSubject === undefined) {
        throw failedPrecondition(`Topic ${topic.name} has no schema subject; configure one first`);
      }
      topic.validationPolicy = policy;
      topic.enablePayloadValidation = request.enable_payload_validation;
      return { success: true, message: `Topic ${topic.name} validation policy set to ${policy}` };
    }),
    GetTopicSchemaConfig: unary<{ topic_name: string }, GetTopicSchemaConfigResponseWire>((request) => {
      const topic = ownedTopic(broker, request.topic_name);
      const subject = topic.schemaSubject === undefined ? undefined : registry.subject(topic.schemaSubject);
      return {
        schema_subject: topic.schemaSubject ?? '',
        validation_policy: topic.validationPolicy,
        enable_payload_validation: topic.enablePayloadValidation,
        schema_id: subject?.schemaId ?? '0',
      };
    }),
    ListSubjects: unary<Record<string, never>, { subjects: SubjectSummaryWire[] }>(() => ({
      subjects: registry.listSubjects(),
    })),
  };
}
