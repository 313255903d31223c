import { composeServiceEnvironment, readComposeFile } from '@tessera/platform-testing';
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseAllDocuments } from 'yaml';

/**
 * deploy/kubernetes (docs/deploying.md): every overlay renders with `kubectl kustomize` (CI
 * installs Debian's kubectl), the result is valid against the Kubernetes API's schemas, offline
 * (kubernetes-models), and it holds what the deployment guide promises for every service
 * docker-compose.yml builds from apps/: probes, limits, a disruption budget, an autoscaler, a
 * migration Job for a service with a database, NetworkPolicies, and pods that run as no one
 * special, on a read-only filesystem, with no capability and no Secret committed.
 */

const root = resolve(__dirname, '../../..');
const kubernetes = resolve(root, 'deploy/kubernetes');
const overlays = readdirSync(join(kubernetes, 'overlays')).sort();
const compose = readComposeFile(resolve(root, 'docker-compose.yml'));

/** The services built from this repository (not the example web app's static site). */
const services = Object.entries(compose.services)
  .filter(([, definition]) => {
    const build = definition['build'] as { dockerfile?: string } | undefined;
    const labels = definition['labels'] as Record<string, string> | undefined;
    return build?.dockerfile?.startsWith('apps/') && labels?.['tessera.static-site'] !== 'true';
  })
  .map(([name]) => name);

interface KubernetesObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  spec?: Record<string, unknown>;
  data?: Record<string, string>;
}

interface Container {
  name: string;
  image: string;
  args?: string[];
  env?: { name: string; value?: string; valueFrom?: unknown }[];
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  livenessProbe?: { httpGet?: { path: string } };
  readinessProbe?: { httpGet?: { path: string } };
  securityContext?: {
    allowPrivilegeEscalation?: boolean;
    readOnlyRootFilesystem?: boolean;
    capabilities?: { drop?: string[] };
  };
}

interface PodSpec {
  automountServiceAccountToken?: boolean;
  securityContext?: { runAsNonRoot?: boolean; runAsUser?: number };
  containers: Container[];
}

function render(overlay: string): KubernetesObject[] {
  const result = spawnSync('kubectl', ['kustomize', join(kubernetes, 'overlays', overlay)], {
    encoding: 'utf8',
  });
  if (result.error) {
    throw new Error(
      `kubectl is needed to render the manifests (.ci/run installs Debian's kubernetes-client): ${result.error.message}`,
    );
  }
  if (result.status !== 0) throw new Error(`kubectl kustomize ${overlay}: ${result.stderr}`);
  return parseAllDocuments(result.stdout).map((document) => document.toJS() as KubernetesObject);
}

const rendered = new Map(overlays.map((overlay) => [overlay, render(overlay)]));

const find = (objects: KubernetesObject[], kind: string, name: string) =>
  objects.find((object) => object.kind === kind && object.metadata.name === name);
/** The object, or a failure naming what is missing. */
function the(objects: KubernetesObject[], kind: string, name: string): KubernetesObject {
  const found = find(objects, kind, name);
  if (!found) throw new Error(`no ${kind} ${name}`);
  return found;
}
const podSpecOf = (object: KubernetesObject) =>
  (object.spec?.['template'] as { spec: PodSpec }).spec;

/**
 * Each object checked against its schema in kubernetes-models (`kubernetes-models/<group>/
 * <version>/<Kind>`, core objects without a group: `v1/Service`), the Kubernetes API's OpenAPI
 * definitions compiled to validators: offline, no cluster. The package is ESM only, so it runs in
 * a Node process of its own. Returns one line per problem.
 */
function schemaProblems(objects: KubernetesObject[]): string[] {
  const script = `
    let input = '';
    for await (const chunk of process.stdin) input += chunk;
    const problems = [];
    for (const object of JSON.parse(input)) {
      const name = object.kind + '/' + object.metadata.name;
      try {
        const module = await import('kubernetes-models/' + object.apiVersion + '/' + object.kind);
        new module[object.kind](object).validate();
      } catch (error) {
        problems.push(name + ': ' + error.message);
      }
    }
    process.stdout.write(JSON.stringify(problems));
  `;
  const result = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
    cwd: root,
    input: JSON.stringify(objects),
    encoding: 'utf8',
  });
  if (result.status !== 0) throw new Error(`the schema check did not run: ${result.stderr}`);
  return JSON.parse(result.stdout) as string[];
}

describe('deploy/kubernetes', () => {
  it('has a dev and a prod overlay, and renders each into every kind the guide describes', () => {
    expect(overlays).toEqual(['dev', 'prod']);
    for (const objects of rendered.values()) {
      expect(new Set(objects.map((object) => object.kind))).toEqual(
        new Set([
          'ConfigMap',
          'Deployment',
          'HorizontalPodAutoscaler',
          'Ingress',
          'Job',
          'NetworkPolicy',
          'PodDisruptionBudget',
          'Service',
        ]),
      );
    }
  });

  it.each(overlays)('%s is valid against the Kubernetes API schemas, offline', (overlay) => {
    expect(schemaProblems(rendered.get(overlay) ?? [])).toEqual([]);
  });

  it('finds a manifest that breaks the schema (the check can fail)', () => {
    const [deployment] = (rendered.get('prod') ?? []).filter(
      (object) => object.kind === 'Deployment',
    );
    const broken = structuredClone(deployment);
    (broken.spec as Record<string, unknown>)['replicas'] = 'two';
    delete (broken.spec as Record<string, unknown>)['selector'];
    expect(schemaProblems([broken])).toEqual([
      expect.stringMatching(new RegExp(`^Deployment/${deployment.metadata.name}: .*`)),
    ]);
  });

  it.each(services)(
    'gives %s a Deployment, a Service, a disruption budget, an autoscaler and a NetworkPolicy',
    (service) => {
      for (const objects of rendered.values()) {
        for (const kind of [
          'Deployment',
          'Service',
          'PodDisruptionBudget',
          'HorizontalPodAutoscaler',
          'NetworkPolicy',
        ]) {
          expect([kind, find(objects, kind, service)?.metadata.name]).toEqual([kind, service]);
        }
        const container = podSpecOf(the(objects, 'Deployment', service)).containers[0];
        expect(container.readinessProbe?.httpGet?.path).toBe('/health/ready');
        expect(container.livenessProbe?.httpGet?.path).toBe('/health/live');
        expect(container.resources?.requests).toEqual({
          cpu: expect.any(String),
          memory: expect.any(String),
        });
        expect(container.resources?.limits).toEqual({
          cpu: expect.any(String),
          memory: expect.any(String),
        });
      }
    },
  );

  it.each(services)(
    'migrates %s once per deploy in a Job running the migrate command, as the owner role',
    (service) => {
      const hasDatabase = composeServiceEnvironment(compose, service)['DATABASE_URL'] !== undefined;
      for (const objects of rendered.values()) {
        const job = find(objects, 'Job', `${service}-migrate`);
        if (!hasDatabase) {
          expect(job).toBeUndefined();
          continue;
        }
        const container = podSpecOf(job as KubernetesObject).containers[0];
        expect(container.args).toEqual(['node', 'main.js', 'migrate']);
        expect(container.env?.map((variable) => variable.name)).toEqual(
          expect.arrayContaining(['DATABASE_URL', 'DATABASE_MIGRATION_URL']),
        );
        // The serving pods hold the service role's password only.
        const server = podSpecOf(the(objects, 'Deployment', service)).containers[0];
        expect(server.env?.map((variable) => variable.name)).not.toContain(
          'DATABASE_MIGRATION_URL',
        );
      }
    },
  );

  it('runs every pod as no one special: non-root, read-only root filesystem, no capability, no service-account token', () => {
    for (const objects of rendered.values()) {
      const workloads = objects.filter((object) => ['Deployment', 'Job'].includes(object.kind));
      expect(workloads.length).toBeGreaterThan(0);
      for (const workload of workloads) {
        const pod = podSpecOf(workload);
        expect([workload.metadata.name, pod.automountServiceAccountToken]).toEqual([
          workload.metadata.name,
          false,
        ]);
        expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 1000 });
        for (const container of pod.containers) {
          expect(container.securityContext).toEqual({
            allowPrivilegeEscalation: false,
            readOnlyRootFilesystem: true,
            capabilities: { drop: ['ALL'] },
          });
        }
      }
    }
  });

  it('reads each variable a service declares, by the name docker-compose.yml gives it', () => {
    for (const objects of rendered.values()) {
      for (const service of services) {
        const declared = Object.keys(composeServiceEnvironment(compose, service));
        const workloads = objects.filter(
          (object) =>
            ['Deployment', 'Job'].includes(object.kind) &&
            object.metadata.labels?.['app.kubernetes.io/name'] === service,
        );
        for (const workload of workloads) {
          for (const variable of podSpecOf(workload).containers[0].env ?? []) {
            expect([workload.metadata.name, variable.name]).toEqual([
              workload.metadata.name,
              declared.includes(variable.name) ? variable.name : 'a variable the service declares',
            ]);
          }
        }
      }
    }
  });

  it('commits no Secret: each workload mounts its own service’s, created out of band as docs/deploying.md says', () => {
    const guide = readFileSync(resolve(root, 'docs/deploying.md'), 'utf8');
    expect(guide).toContain('named after its service');
    for (const objects of rendered.values()) {
      expect(objects.filter((object) => object.kind === 'Secret')).toEqual([]);
      for (const workload of objects.filter((object) =>
        ['Deployment', 'Job'].includes(object.kind),
      )) {
        const volumes =
          (podSpecOf(workload) as { volumes?: { secret?: { secretName: string } }[] }).volumes ??
          [];
        for (const volume of volumes.filter((candidate) => candidate.secret)) {
          expect([workload.metadata.name, volume.secret?.secretName]).toEqual([
            workload.metadata.name,
            workload.metadata.labels?.['app.kubernetes.io/name'],
          ]);
        }
      }
    }
  });

  it('denies all traffic by default and lets each service talk only through its own policy', () => {
    for (const objects of rendered.values()) {
      const deny = find(objects, 'NetworkPolicy', 'default-deny');
      expect(deny?.spec).toEqual({ podSelector: {}, policyTypes: ['Ingress', 'Egress'] });
      for (const service of services) {
        expect(find(objects, 'NetworkPolicy', service)?.spec).toMatchObject({
          podSelector: { matchLabels: { 'app.kubernetes.io/name': service } },
          policyTypes: ['Ingress', 'Egress'],
        });
      }
    }
  });

  it('has resource services reach auth-service through its balanced Service, and name its ISSUER exactly', () => {
    for (const objects of rendered.values()) {
      const config = objects.find((object) => object.kind === 'ConfigMap');
      const issuer = config?.data?.['ISSUER'];
      expect(issuer).toMatch(/^https:\/\//);
      const ingress = find(objects, 'Ingress', 'tessera');
      const hosts = (ingress?.spec?.['rules'] as { host: string }[]).map((rule) => rule.host);
      expect(hosts).toContain(new URL(issuer ?? '').host);
      for (const service of services.filter((name) => name !== 'auth-service')) {
        const env = podSpecOf(the(objects, 'Deployment', service)).containers[0].env ?? [];
        expect(env.find((variable) => variable.name === 'AUTH_SERVICE_URL')?.value).toBe(
          'http://auth-service:3001',
        );
      }
    }
  });
});
