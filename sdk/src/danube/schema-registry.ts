import type { ClientContext } from './client-context.js';
import { DanubeError, fromGrpcError } from './errors.js';
import type {
  CheckCompatibilityResponseWire,
  GetSchemaResponseWire,
  GetTopicSchemaConfigResponseWire,
  RegisterSchemaResponseWire,
  SchemaVersionInfoWire,
  SubjectSummaryWire,
  SuccessMessageResponseWire,
} from './wire.js';

export type SchemaType = 'json_schema' | 'string' | 'bytes' | 'number' | 'avro' | 'protobuf';
export type CompatibilityMode = 'none' | 'backward' | 'forward' | 'full';
export type ValidationPolicy = 'none' | 'warn' | 'enforce';

export interface RegisterSchemaInput {
  subject: string;
  type: SchemaType;
  /** The schema text (JSON Schema, Avro JSON, .proto); empty for string, bytes and number. */
  definition?: string | Buffer;
  description?: string;
  createdBy?: string;
  tags?: string[];
}

export interface RegisteredSchema {
  schemaId: string;
  version: number;
  /** False when an identical definition was already registered under the subject. */
  isNewVersion: boolean;
  fingerprint: string;
}

export interface SchemaInfo {
  schemaId: string;
  version: number;
  subject: string;
  type: string;
  /** The schema text as registered, unwrapped from the broker's envelope (docs/danube-protocol.md §10.4). */
  definition: string;
  description: string;
  createdAt: number;
  createdBy: string;
  tags: string[];
  fingerprint: string;
  compatibilityMode: string;
}

export interface SchemaVersionInfo {
  version: number;
  schemaId: string;
  createdAt: number;
  createdBy: string;
  description: string;
  fingerprint: string;
}

export interface CompatibilityResult {
  compatible: boolean;
  errors: string[];
}

export interface TopicSchemaConfig {
  subject: string | undefined;
  validationPolicy: string;
  payloadValidation: boolean;
  schemaId: string;
}

const ENVELOPE_KEYS = ['JsonSchema', 'Avro', 'Protobuf'] as const;

/**
 * GetSchema returns the broker's internal definition as JSON, e.g. {"JsonSchema":{"raw_schema":"…"}},
 * {"Protobuf":{"raw_proto":"…"}} or the bare string "Bytes" (docs/danube-protocol.md §10.4). Unwrap it defensively and fall
 * back to the raw text, so a broker that starts returning the original text keeps working.
 */
export function unwrapSchemaDefinition(bytes: Buffer): string {
  const text = bytes.toString('utf8');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return text;
  }
  if (typeof parsed === 'string' && ['Bytes', 'String', 'Number'].includes(parsed)) return '';
  if (parsed && typeof parsed === 'object') {
    for (const key of ENVELOPE_KEYS) {
      const inner = (parsed as Record<string, unknown>)[key];
      if (inner && typeof inner === 'object') {
        const raw = (inner as Record<string, unknown>).raw_schema ?? (inner as Record<string, unknown>).raw_proto;
        if (typeof raw === 'string') return raw;
      }
    }
  }
  return text;
}

function toSchemaInfo(response: GetSchemaResponseWire): SchemaInfo {
  return {
    schemaId: response.schema_id,
    version: response.version,
    subject: response.subject,
    type: response.schema_type,
    definition: unwrapSchemaDefinition(response.schema_definition),
    description: response.description,
    createdAt: Number(response.created_at),
    createdBy: response.created_by,
    tags: response.tags,
    fingerprint: response.fingerprint,
    compatibilityMode: response.compatibility_mode,
  };
}

function definitionBytes(definition: string | Buffer | undefined): Buffer {
  if (definition === undefined) return Buffer.alloc(0);
  return Buffer.isBuffer(definition) ? definition : Buffer.from(definition, 'utf8');
}

/**
 * Client of Danube's schema registry. Registry calls go to the service URL (any broker answers, docs/danube-protocol.md §7.2);
 * the topic-bound ones (configureTopic, updateTopicValidation, topicConfig) go to the topic's owner (docs/danube-protocol.md §10.5).
 */
export class SchemaRegistryClient {
  constructor(private readonly ctx: ClientContext) {}

  private async call<Res>(method: string, request: unknown, subject?: string, topic?: string): Promise<Res> {
    try {
      const connection = topic ? this.ctx.pool.get((await this.ctx.lookup(topic)).connectUrl) : this.ctx.service;
      return await connection.unary<Res>('danube_schema', 'SchemaRegistry', method, request, { timeoutMs: this.ctx.requestTimeoutMs });
    } catch (err) {
      const mapped = fromGrpcError(err, { rpc: method, subject: subject ?? '', topic });
      // Registry rejections (invalid schema, incompatible) come back as INTERNAL; give them the schema code.
      if (mapped.code === 'DC_ERR_INTERNAL') {
        throw new DanubeError(mapped.message, { code: 'DC_ERR_SCHEMA', retryable: false, grpcStatus: mapped.grpcStatus, cause: err });
      }
      throw mapped;
    }
  }

  async register(input: RegisterSchemaInput): Promise<RegisteredSchema> {
    const response = await this.call<RegisterSchemaResponseWire>(
      'RegisterSchema',
      {
        subject: input.subject,
        schema_type: input.type,
        schema_definition: definitionBytes(input.definition),
        description: input.description ?? '',
        created_by: input.createdBy ?? 'danube-connect',
        tags: input.tags ?? [],
      },
      input.subject,
    );
    return { schemaId: response.schema_id, version: response.version, isNewVersion: response.is_new_version, fingerprint: response.fingerprint };
  }

  async getLatest(subject: string): Promise<SchemaInfo> {
    return toSchemaInfo(await this.call<GetSchemaResponseWire>('GetLatestSchema', { subject }, subject));
  }

  /** A schema by id; `version` omitted = the subject's latest. */
  async get(schemaId: string, version?: number): Promise<SchemaInfo> {
    const request = version === undefined ? { schema_id: schemaId } : { schema_id: schemaId, version };
    return toSchemaInfo(await this.call<GetSchemaResponseWire>('GetSchema', request, `id ${schemaId}`));
  }

  async listVersions(subject: string): Promise<SchemaVersionInfo[]> {
    const response = await this.call<{ versions: SchemaVersionInfoWire[] }>('ListVersions', { subject }, subject);
    return response.versions.map((v) => ({
      version: v.version,
      schemaId: v.schema_id,
      createdAt: Number(v.created_at),
      createdBy: v.created_by,
      description: v.description,
      fingerprint: v.fingerprint,
    }));
  }

  async checkCompatibility(subject: string, type: SchemaType, definition: string | Buffer, mode?: CompatibilityMode): Promise<CompatibilityResult> {
    const request: Record<string, unknown> = { subject, schema_type: type, new_schema_definition: definitionBytes(definition) };
    if (mode !== undefined) request.compatibility_mode = mode;
    const response = await this.call<CheckCompatibilityResponseWire>('CheckCompatibility', request, subject);
    return { compatible: response.is_compatible, errors: response.errors };
  }

  async setCompatibilityMode(subject: string, mode: CompatibilityMode): Promise<void> {
    await this.expectSuccess('SetCompatibilityMode', { subject, compatibility_mode: mode }, subject);
  }

  async deleteVersion(subject: string, version: number): Promise<void> {
    await this.expectSuccess('DeleteSchemaVersion', { subject, version }, subject);
  }

  async listSubjects(): Promise<Array<{ subject: string; type: string; latestVersion: number; compatibilityMode: string; schemaId: string; tags: string[] }>> {
    const response = await this.call<{ subjects: SubjectSummaryWire[] }>('ListSubjects', {});
    return response.subjects.map((s) => ({
      subject: s.subject,
      type: s.schema_type,
      latestVersion: s.latest_version,
      compatibilityMode: s.compatibility_mode,
      schemaId: s.schema_id,
      tags: s.tags,
    }));
  }

  /** Attaches `subject` to a topic and sets the broker-side validation (docs/danube-protocol.md §10.3, §10.5). */
  async configureTopic(topic: string, subject: string, policy: ValidationPolicy, payloadValidation = false): Promise<void> {
    await this.expectSuccess(
      'ConfigureTopicSchema',
      { topic_name: topic, schema_subject: subject, validation_policy: policy, enable_payload_validation: payloadValidation },
      subject,
      topic,
    );
  }

  async updateTopicValidation(topic: string, policy: ValidationPolicy, payloadValidation = false): Promise<void> {
    await this.expectSuccess(
      'UpdateTopicValidationPolicy',
      { topic_name: topic, validation_policy: policy, enable_payload_validation: payloadValidation },
      undefined,
      topic,
    );
  }

  async topicConfig(topic: string): Promise<TopicSchemaConfig> {
    const response = await this.call<GetTopicSchemaConfigResponseWire>('GetTopicSchemaConfig', { topic_name: topic }, undefined, topic);
    return {
      subject: response.schema_subject || undefined,
      validationPolicy: response.validation_policy,
      payloadValidation: response.enable_payload_validation,
      schemaId: response.schema_id,
    };
  }

  private async expectSuccess(method: string, request: unknown, subject?: string, topic?: string): Promise<void> {
    const response = await this.call<SuccessMessageResponseWire>(method, request, subject, topic);
    if (!response.success) {
      throw new DanubeError(`${method}${subject ? `, subject ${subject}` : ''}${topic ? `, topic ${topic}` : ''} failed: ${response.message || 'the broker said no'}`, {
        code: 'DC_ERR_SCHEMA',
        retryable: false,
      });
    }
  }
}
