import { formatFiles, generateFiles, getProjects, joinPathFragments } from '@nx/devkit';
import type { GeneratorCallback, Tree } from '@nx/devkit';
import { addToKubernetes, kubernetesTraces } from './kubernetes-edits';
import type { ServiceGeneratorSchema } from './schema';
import { normaliseOptions, ServiceOptionsError } from './service-options';
import type { ServiceOptions } from './service-options';
import {
  addBoundaryRule,
  addComposeService,
  addGatewayRoute,
  addDatabaseToInitSql,
  addEnvExampleSection,
  addToSystemE2e,
  composePorts,
  servicePorts,
  existingTraces,
  registerWithAuthService,
} from './workspace-edits';

/**
 * `nx g @tessera/workspace-plugin:service orders [--port 3003] [--no-database]`: creates
 * apps/orders-service and apps/orders-service-e2e in the house layout, wired to @tessera/auth
 * and registered in auth-service's registry (apps/auth-service/registry.json, data: no
 * auth-service code or migration changes), the gateway's route table (apps/gateway/routes.json),
 * docker-compose, .env.example, the Postgres init script, the Kubernetes manifests
 * (deploy/kubernetes), the module boundaries and system-e2e. See docs/adding-a-service.md.
 */
export async function serviceGenerator(
  tree: Tree,
  schema: ServiceGeneratorSchema,
): Promise<GeneratorCallback> {
  const usedPorts = composePorts(tree);
  const options = normaliseOptions(schema, Math.max(3000, ...servicePorts(tree)) + 1, Date.now());
  // Every check comes before the first write: a refused run leaves the workspace as it was.
  assertNew(tree, options, usedPorts);

  const substitutions = { ...options, tmpl: '' };
  generateFiles(tree, joinPathFragments(__dirname, 'files', 'service'), options.projectRoot, {
    ...substitutions,
  });
  generateFiles(tree, joinPathFragments(__dirname, 'files', 'e2e'), options.e2eRoot, {
    ...substitutions,
  });
  if (options.database) {
    generateFiles(
      tree,
      joinPathFragments(__dirname, 'files', 'database'),
      options.projectRoot,
      substitutions,
    );
  } else {
    generateFiles(
      tree,
      joinPathFragments(__dirname, 'files', 'stateless'),
      options.projectRoot,
      substitutions,
    );
  }

  addComposeService(tree, options);
  if (options.database) addDatabaseToInitSql(tree, options);
  addEnvExampleSection(tree, options);
  addBoundaryRule(tree, options);
  registerWithAuthService(tree, options);
  addGatewayRoute(tree, options);
  addToKubernetes(tree, options);
  addToSystemE2e(tree, options);

  await formatFiles(tree);
  return () => printNextSteps(options);
}

function assertNew(tree: Tree, options: ServiceOptions, usedPorts: number[]): void {
  const projects = getProjects(tree);
  const taken = [options.serviceName, `${options.serviceName}-e2e`].filter((name) =>
    projects.has(name),
  );
  const traces = [
    ...taken.map((name) => `the project ${name}`),
    ...existingTraces(tree, options),
    ...kubernetesTraces(tree, options),
  ];
  if (traces.length > 0) {
    throw new ServiceOptionsError(
      `${options.serviceName} already exists (${[...new Set(traces)].join('; ')}). Nothing was changed. ` +
        'Choose another name, or remove those first to generate it again.',
    );
  }
  if (usedPorts.includes(options.port)) {
    throw new ServiceOptionsError(
      `Port ${options.port} is taken by another service in docker-compose.yml; pass a free one with --port`,
    );
  }
}

function printNextSteps(options: ServiceOptions): void {
  const lines = [
    '',
    `${options.serviceName} is ready on port ${options.port}. Next:`,
    `  npx nx test ${options.serviceName} && npx nx e2e ${options.serviceName}-e2e`,
    `  npm start        # every service, ${options.serviceName} too`,
    `  docs/adding-a-service.md: what was created and what to change first`,
    '',
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

export default serviceGenerator;
