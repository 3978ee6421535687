import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as protoLoader from '@grpc/proto-loader';
import { describe, expect, it } from 'vitest';

// wire.ts is written by hand (see its header); this keeps it honest against the .proto files it describes.
const SDK = join(dirname(fileURLToPath(import.meta.url)), '../..');
const PACKAGES = ['danube', 'danube_schema', 'danube_admin'];

/** Interfaces whose name is not their message's: they describe several messages of the same shape. */
const ALIASES: Record<string, string[]> = {
  MsgIdWire: ['danube.MsgID'],
  RequestIdResponseWire: ['danube.MessageResponse', 'danube.AckResponse', 'danube.NackResponse'],
  SuccessMessageResponseWire: [
    'danube_schema.DeleteSchemaVersionResponse',
    'danube_schema.SetCompatibilityModeResponse',
    'danube_schema.ConfigureTopicSchemaResponse',
    'danube_schema.UpdateTopicValidationPolicyResponse',
  ],
};

const SIXTY_FOUR_BIT = new Set(['TYPE_UINT64', 'TYPE_INT64', 'TYPE_SINT64', 'TYPE_FIXED64', 'TYPE_SFIXED64']);

interface DeclaredField {
  name: string;
  type: string;
}

interface ProtoField {
  name: string;
  type: string;
  label: string;
}

/** `export interface XWire [extends YWire] { field?: type; … }` blocks of wire.ts, fields of the parent included. */
function declaredInterfaces(source: string): Map<string, DeclaredField[]> {
  const own = new Map<string, { parent: string | undefined; fields: DeclaredField[] }>();
  for (const match of source.matchAll(/export interface (\w+Wire)(?: extends (\w+))? \{([^}]*)\}/g)) {
    const fields = [...(match[3] as string).matchAll(/^\s+(\w+)\??: ([^;]+);/gm)].map((field) => ({ name: field[1] as string, type: (field[2] as string).trim() }));
    own.set(match[1] as string, { parent: match[2], fields });
  }
  const all = new Map<string, DeclaredField[]>();
  for (const [name, entry] of own) all.set(name, [...(entry.parent ? (own.get(entry.parent)?.fields ?? []) : []), ...entry.fields]);
  return all;
}

function loadMessages(): Map<string, ProtoField[]> {
  const definition = protoLoader.loadSync(
    ['DanubeApi.proto', 'SchemaRegistry.proto', 'DanubeAdmin.proto'].map((file) => join(SDK, 'proto', file)),
    { keepCase: true },
  );
  const messages = new Map<string, ProtoField[]>();
  for (const [name, entry] of Object.entries(definition)) {
    const type = (entry as { type?: { field?: ProtoField[]; oneofDecl?: Array<{ name: string }> } }).type;
    if (!type?.field) continue;
    // With `oneofs: true` a oneof's name is a field too: it holds the name of the member that is set.
    const oneofs = (type.oneofDecl ?? []).filter((oneof) => !oneof.name.startsWith('_')).map((oneof) => ({ name: oneof.name, type: 'ONEOF', label: 'LABEL_OPTIONAL' }));
    messages.set(name, [...type.field, ...oneofs]);
  }
  return messages;
}

/** What is wrong with `declared` against its proto message(s); empty when it matches. */
function mismatches(name: string, declared: DeclaredField[], messages: Map<string, ProtoField[]>): string[] {
  const base = name.replace(/Wire$/, '');
  const targets = ALIASES[name] ?? PACKAGES.map((pkg) => `${pkg}.${base}`).filter((full) => messages.has(full));
  if (targets.length === 0) return [`${name}: no message ${base} in the protos`];
  const problems: string[] = [];
  for (const target of targets) {
    const fields = messages.get(target);
    if (!fields) {
      problems.push(`${name}: no message ${target} in the protos`);
      continue;
    }
    for (const field of declared) {
      const proto = fields.find((f) => f.name === field.name);
      if (!proto) {
        problems.push(`${name}.${field.name}: not a field of ${target}`);
        continue;
      }
      const repeated = proto.label === 'LABEL_REPEATED' ? '[]' : '';
      // uint64 arrives as a decimal string (longs: String): a JS number would lose precision past 2^53.
      if (SIXTY_FOUR_BIT.has(proto.type) && field.type !== `string${repeated}`) problems.push(`${name}.${field.name}: ${proto.type} must be typed string${repeated}, is ${field.type}`);
      if (proto.type === 'TYPE_BYTES' && field.type !== 'Buffer') problems.push(`${name}.${field.name}: bytes must be typed Buffer, is ${field.type}`);
    }
  }
  return problems;
}

describe('wire.ts against the .proto files', () => {
  const messages = loadMessages();
  const declared = declaredInterfaces(readFileSync(join(SDK, 'src/danube/wire.ts'), 'utf8'));

  it('reads the interfaces and the messages', () => {
    expect(declared.size).toBeGreaterThan(30);
    expect(declared.get('NackRequestWire')?.map((f) => f.name)).toEqual(['request_id', 'msg_id', 'subscription_name', 'delay_ms', 'reason']);
    expect(messages.get('danube.StreamMessage')?.map((f) => f.name)).toContain('payload');
  });

  it('every field wire.ts declares exists on its message, 64-bit integers as strings and bytes as Buffers', () => {
    const problems = [...declared].flatMap(([name, fields]) => mismatches(name, fields, messages));
    expect(problems).toEqual([]);
  });

  it('reports a field the message does not have, a lossy number and a missing message', () => {
    const fake = declaredInterfaces(
      'export interface AckRequestWire {\n  request_id: number;\n  msg_idd: MsgIdWire;\n}\nexport interface NoSuchThingWire {\n  a: string;\n}',
    );
    const problems = [...fake].flatMap(([name, fields]) => mismatches(name, fields, messages));
    expect(problems).toEqual([
      'AckRequestWire.request_id: TYPE_UINT64 must be typed string, is number',
      'AckRequestWire.msg_idd: not a field of danube.AckRequest',
      'NoSuchThingWire: no message NoSuchThing in the protos',
    ]);
  });
});
