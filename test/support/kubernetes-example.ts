import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse, parseAllDocuments } from 'yaml';

// examples/kubernetes as the cluster would see it: the manifests kustomization.yaml lists, and the environment the
// kubelet gives a replica's container (plain values, the pod name through the downward API, Secret keys).
// A YAML parser is needed here: `yaml` is already installed (knip, tsup and vite use it); the root package only
// declares it, at the installed version.

export const KUBERNETES_EXAMPLE = fileURLToPath(new URL('../../examples/kubernetes', import.meta.url));

// Kubernetes' shapes are many levels deep: typed loosely here, every field a test reads is asserted there.
export type Manifest = { apiVersion: string; kind: string; metadata: { name: string } } & Record<string, any>;

export interface KubernetesExample {
  /** kustomization.yaml's resources, and the .yaml files of the folder besides it. */
  resources: string[];
  files: string[];
  manifests: Manifest[];
  ofKind(kind: string): Manifest;
  /** The ConfigMap's host.toml. */
  hostToml: string;
  /** The first container's environment in the StatefulSet's pod number `ordinal`. */
  podEnv(ordinal: number): Record<string, string>;
}

export function loadKubernetesExample(): KubernetesExample {
  const kustomization = parse(readFileSync(join(KUBERNETES_EXAMPLE, 'kustomization.yaml'), 'utf8')) as { resources: string[] };
  const manifests = kustomization.resources.flatMap((file) => parseAllDocuments(readFileSync(join(KUBERNETES_EXAMPLE, file), 'utf8')).map((doc) => doc.toJS() as Manifest));
  const ofKind = (kind: string): Manifest => {
    const found = manifests.filter((m) => m.kind === kind);
    if (found.length !== 1) throw new Error(`examples/kubernetes has ${found.length} ${kind} manifests, expected 1`);
    return found[0] as Manifest;
  };
  const configMap = ofKind('ConfigMap');
  return {
    resources: kustomization.resources,
    files: readdirSync(KUBERNETES_EXAMPLE).filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml'),
    manifests,
    ofKind,
    hostToml: configMap.data['host.toml'] as string,
    podEnv(ordinal) {
      const set = ofKind('StatefulSet');
      const secret = ofKind('Secret');
      const env: Record<string, string> = {};
      for (const variable of set.spec.template.spec.containers[0].env as { name: string; value?: string; valueFrom?: Record<string, any> }[]) {
        if (variable.value !== undefined) env[variable.name] = variable.value;
        else if (variable.valueFrom?.fieldRef?.fieldPath === 'metadata.name') env[variable.name] = `${set.metadata.name}-${ordinal}`;
        else if (variable.valueFrom?.secretKeyRef?.name === secret.metadata.name) env[variable.name] = secret.stringData[variable.valueFrom.secretKeyRef.key];
        else throw new Error(`${variable.name}: a value source this example does not define`);
      }
      return env;
    },
  };
}
