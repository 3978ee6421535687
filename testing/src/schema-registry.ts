import type {
  CheckCompatibilityRequestWire,
  CheckCompatibilityResponseWire,
  GetSchemaResponseWire,
  RegisterSchemaRequestWire,
  RegisterSchemaResponseWire,
  SchemaVersionInfoWire,
  SubjectSummaryWire,
} from '@danube-connect/sdk/internal';
import { internal, invalidArgument, notFound } from './broker-error.js';
import { compatibilityErrors } from './schema-compatibility.js';
import {
  definitionEnvelope,
  parseCompatibilityMode,
  parseSchemaDefinition,
  parseSchemaType,
} from './schema-definition.js';
import type { CompatibilityMode, SchemaDefinition, SchemaType } from './schema-definition.js';

export interface SchemaVersion {
  readonly version: number;
  readonly schema: SchemaDefinition;
  readonly description: string;
  readonly createdBy: string;
  readonly tags: readonly string[];
  /** Unix seconds. */
  readonly createdAt: number;
}

export interface SchemaSubject {
  readonly name: string;
  /** One id per subject, allocated once (docs/danube-protocol.md §10.1). */
  readonly schemaId: string;
  readonly type: SchemaType;
  compatibilityMode: CompatibilityMode;
  /** Ascending by version; deleted versions are removed. */
  readonly versions: SchemaVersion[];
  nextVersion: number;
}

/**
 * The cluster's schema registry (docs/danube-protocol.md §4, §10): subjects with versions 1..n, one schema_id per subject,
 * fingerprint de-duplication and compatibility checks against the latest version. Errors carry the statuses
 * of docs/danube-protocol.md §10.6.
 */
export class SchemaRegistry {
  private readonly subjects = new Map<string, SchemaSubject>();
  private readonly byId = new Map<string, SchemaSubject>();
  private nextId = 1;

  subject(name: string): SchemaSubject | undefined {
    return this.subjects.get(name);
  }

  subjectById(schemaId: string): SchemaSubject | undefined {
    return this.byId.get(schemaId);
  }

  version(subject: SchemaSubject, version: number): SchemaVersion | undefined {
    return subject.versions.find((v) => v.version === version);
  }

  latest(subject: SchemaSubject): SchemaVersion | undefined {
    return subject.versions[subject.versions.length - 1];
  }

  register(request: RegisterSchemaRequestWire): RegisterSchemaResponseWire {
    const fail = (reason: string) => internal(`Failed to register schema: ${reason}`);
    const type = parseSchemaType(request.schema_type);
    if (!type) throw fail(`unknown schema type ${JSON.stringify(request.schema_type)}`);
    let schema: SchemaDefinition;
    try {
      schema = parseSchemaDefinition(type, request.schema_definition);
    } catch (err) {
      throw fail((err as Error).message);
    }
    let subject = this.subjects.get(request.subject);
    if (subject) {
      // A subject keeps one schema type (assumed: the document does not say what a type change does).
      if (subject.type !== type) throw fail(`subject ${subject.name} holds ${subject.type} schemas, not ${type}`);
      const same = subject.versions.find((v) => v.schema.fingerprint === schema.fingerprint);
      if (same) {
        return { schema_id: subject.schemaId, version: same.version, is_new_version: false, fingerprint: same.schema.fingerprint };
      }
      const latest = this.latest(subject);
      const errors = latest ? compatibilityErrors(subject.compatibilityMode, latest.schema, schema) : [];
      if (errors.length > 0) throw fail(`incompatible with version ${latest?.version ?? 0} of ${request.subject}: ${errors.join('; ')}`);
    } else {
      subject = {
        name: request.subject,
        schemaId: String(this.nextId++),
        type,
        compatibilityMode: 'backward',
        versions: [],
        nextVersion: 1,
      };
      this.subjects.set(subject.name, subject);
      this.byId.set(subject.schemaId, subject);
    }
    const version: SchemaVersion = {
      version: subject.nextVersion++,
      schema,
      description: request.description,
      createdBy: request.created_by,
      tags: [...request.tags],
      createdAt: Math.floor(Date.now() / 1000),
    };
    subject.versions.push(version);
    return { schema_id: subject.schemaId, version: version.version, is_new_version: true, fingerprint: schema.fingerprint };
  }

  /** GetSchema: `version` absent means the latest. */
  getSchema(schemaId: string, version: number | undefined): GetSchemaResponseWire {
    const subject = this.byId.get(schemaId);
    if (!subject) throw notFound(`Schema with id ${schemaId} not found`);
    const found = version === undefined ? this.latest(subject) : this.version(subject, version);
    if (!found) throw notFound(`Version ${version ?? 'latest'} of schema id ${schemaId} not found`);
    return this.toResponse(subject, found);
  }

  getLatest(subjectName: string): GetSchemaResponseWire {
    const subject = this.subjects.get(subjectName);
    const latest = subject && this.latest(subject);
    if (!subject || !latest) throw notFound(`Subject ${subjectName} not found`);
    return this.toResponse(subject, latest);
  }

  listVersions(subjectName: string): SchemaVersionInfoWire[] {
    const subject = this.subjects.get(subjectName);
    if (!subject) throw notFound(`Subject ${subjectName} not found`);
    return subject.versions.map((v) => ({
      version: v.version,
      created_at: String(v.createdAt),
      created_by: v.createdBy,
      description: v.description,
      fingerprint: v.schema.fingerprint,
      schema_id: subject.schemaId,
    }));
  }

  checkCompatibility(request: CheckCompatibilityRequestWire): CheckCompatibilityResponseWire {
    const subject = this.subjects.get(request.subject);
    if (!subject) throw internal(`Failed to check compatibility: subject ${request.subject} not found`);
    let mode = subject.compatibilityMode;
    if (request.compatibility_mode !== undefined) {
      const requested = parseCompatibilityMode(request.compatibility_mode);
      if (!requested) throw internal(`Failed to check compatibility: unknown mode ${JSON.stringify(request.compatibility_mode)}`);
      mode = requested;
    }
    const type = parseSchemaType(request.schema_type || subject.type);
    if (!type) throw internal(`Failed to check compatibility: unknown schema type ${JSON.stringify(request.schema_type)}`);
    let candidate: SchemaDefinition;
    try {
      candidate = parseSchemaDefinition(type, request.new_schema_definition);
    } catch (err) {
      throw internal(`Failed to check compatibility: ${(err as Error).message}`);
    }
    const latest = this.latest(subject);
    const errors = latest ? compatibilityErrors(mode, latest.schema, candidate) : [];
    return { is_compatible: errors.length === 0, errors };
  }

  deleteVersion(subjectName: string, version: number): string {
    const subject = this.subjects.get(subjectName);
    if (!subject) throw internal(`Failed to delete schema version: subject ${subjectName} not found`);
    const index = subject.versions.findIndex((v) => v.version === version);
    if (index < 0) throw internal(`Failed to delete schema version: version ${version} of ${subjectName} not found`);
    subject.versions.splice(index, 1);
    return `Deleted version ${version} of subject ${subjectName}`;
  }

  setCompatibilityMode(subjectName: string, modeInput: string): string {
    const mode = parseCompatibilityMode(modeInput);
    if (!mode) throw invalidArgument(`Invalid compatibility mode ${JSON.stringify(modeInput)}: expected none, backward, forward or full`);
    const subject = this.subjects.get(subjectName);
    if (!subject) throw internal(`Failed to set compatibility mode: subject ${subjectName} not found`);
    subject.compatibilityMode = mode;
    return `Compatibility mode of ${subjectName} set to ${mode}`;
  }

  listSubjects(): SubjectSummaryWire[] {
    return [...this.subjects.values()].map((subject) => {
      const latest = this.latest(subject);
      return {
        subject: subject.name,
        schema_type: subject.type,
        latest_version: latest?.version ?? 0,
        compatibility_mode: subject.compatibilityMode,
        schema_id: subject.schemaId,
        tags: [...(latest?.tags ?? [])],
      };
    });
  }

  private toResponse(subject: SchemaSubject, version: SchemaVersion): GetSchemaResponseWire {
    return {
      schema_id: subject.schemaId,
      version: version.version,
      subject: subject.name,
      schema_type: subject.type,
      schema_definition: definitionEnvelope(version.schema),
      description: version.description,
      created_at: String(version.createdAt),
      created_by: version.createdBy,
      tags: [...version.tags],
      fingerprint: version.schema.fingerprint,
      compatibility_mode: subject.compatibilityMode,
    };
  }
}
