import { generateFiles, joinPathFragments } from '@nx/devkit';
import type { Tree } from '@nx/devkit';
import { isMap, isSeq, parseDocument } from 'yaml';
import type { ServiceOptions } from './service-options';
import { WorkspaceEditError } from './workspace-edits';

/** deploy/kubernetes (docs/deploying.md): a base and one folder per overlay. */
export const KUBERNETES_BASE = 'deploy/kubernetes/base';
const KUSTOMIZATION = `${KUBERNETES_BASE}/kustomization.yaml`;
const OVERLAYS = ['dev', 'prod'] as const;
/** The platform's default METRICS_PORT is PORT plus this (libs/platform's METRICS_PORT_OFFSET). */
const METRICS_PORT_OFFSET = 6000;

/** The manifests of a service already there. */
export function kubernetesTraces(tree: Tree, options: ServiceOptions): string[] {
  const file = `${KUBERNETES_BASE}/${options.serviceName}.yaml`;
  return tree.exists(file) ? [file] : [];
}

/**
 * The service in deploy/kubernetes: its manifests in the base (Deployment, Service, disruption
 * budget, autoscaler, NetworkPolicy, and a migration Job with a database), listed in the base's
 * kustomization; its image in each overlay, tagged as the others are; and the dev overlay's one
 * replica. The kustomizations are edited as YAML documents, so their comments stay.
 */
export function addToKubernetes(tree: Tree, options: ServiceOptions): void {
  generateFiles(tree, joinPathFragments(__dirname, 'files', 'kubernetes'), KUBERNETES_BASE, {
    ...options,
    metricsPort: options.port + METRICS_PORT_OFFSET,
    tmpl: '',
  });
  editYaml(tree, KUSTOMIZATION, 'a `resources:` list', (document) => {
    const resources = document.get('resources');
    if (!isSeq(resources)) return false;
    resources.add(`${options.serviceName}.yaml`);
    return true;
  });
  for (const overlay of OVERLAYS) {
    const file = `deploy/kubernetes/overlays/${overlay}/kustomization.yaml`;
    editYaml(tree, file, 'an `images:` list with a tagged image', (document) => {
      const images = document.get('images');
      const first = isSeq(images) ? images.items[0] : undefined;
      if (!isSeq(images) || !isMap(first)) return false;
      images.add(
        document.createNode({
          name: `tessera/${options.serviceName}`,
          newTag: first.get('newTag'),
        }),
      );
      return true;
    });
  }
  appendPatch(tree, 'deploy/kubernetes/overlays/dev/scale.yaml', [
    'apiVersion: apps/v1',
    'kind: Deployment',
    'metadata:',
    `  name: ${options.serviceName}`,
    'spec:',
    '  replicas: 1',
    '---',
    ...autoscaler(options, 1, 2),
  ]);
  appendPatch(tree, 'deploy/kubernetes/overlays/prod/scale.yaml', autoscaler(options, 2, 10));
}

function autoscaler(options: ServiceOptions, min: number, max: number): string[] {
  return [
    'apiVersion: autoscaling/v2',
    'kind: HorizontalPodAutoscaler',
    'metadata:',
    `  name: ${options.serviceName}`,
    'spec:',
    `  minReplicas: ${min}`,
    `  maxReplicas: ${max}`,
  ];
}

function editYaml(
  tree: Tree,
  file: string,
  expected: string,
  change: (document: ReturnType<typeof parseDocument>) => boolean,
): void {
  const text = tree.read(file, 'utf-8');
  if (text === null) throw new WorkspaceEditError(file, 'the file');
  const document = parseDocument(text);
  if (!change(document)) throw new WorkspaceEditError(file, expected);
  tree.write(file, document.toString());
}

function appendPatch(tree: Tree, file: string, lines: string[]): void {
  const text = tree.read(file, 'utf-8');
  if (text === null) throw new WorkspaceEditError(file, 'the file');
  tree.write(file, `${text.trimEnd()}\n---\n${lines.join('\n')}\n`);
}
