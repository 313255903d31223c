import { names } from '@nx/devkit';
import type { ServiceGeneratorSchema } from './schema';

/** Everything the templates and the workspace edits need, derived from the options once. */
export interface ServiceOptions {
  /** `orders`: the routes (/orders), the feature folder and the scope prefix. */
  resource: string;
  /** `orders-service`: the project, the audience, the client id, the compose service. */
  serviceName: string;
  projectRoot: string;
  e2eRoot: string;
  port: number;
  /** Ports its e2e tests use: the development port plus 10000, and the two after it. */
  e2ePort: number;
  e2eAuthPort: number;
  e2eServicePort: number;
  /**
   * The inspector port of its `nx serve`: 9229 for auth-service's 3001, counted up from there by
   * the development port (3003 → 9231), so that every service can be debugged at once.
   */
  debugPort: number;
  database: boolean;
  /** `orders`: its PostgreSQL database and its example table (underscores for hyphens). */
  databaseName: string;
  readScope: string;
  writeScope: string;
  /** `ORDERS_SERVICE_CLIENT_SECRET`: the shell variable docker-compose fills both sides from. */
  clientSecretVariable: string;
  /** `ordersServiceConfig`, `OrdersServiceEnvironment`. */
  configName: string;
  environmentClass: string;
  /** `Orders` (OrdersModule, OrdersController, OrdersService), `orders`, `ORDERS`; `Order`, `order`. */
  featureClass: string;
  featureProperty: string;
  featureConstant: string;
  entityClass: string;
  entityFile: string;
  /** Milliseconds since the epoch (13 digits): its first migration's timestamp, as TypeORM orders them. */
  timestamp: number;
}

const NAME = /^[a-z][a-z0-9]*(-[a-z0-9]+)*$/;
/** Names the workspace already uses for other things. */
const RESERVED = ['auth', 'resource', 'system', 'platform', 'workspace-plugin'];

/** Thrown for options that cannot make a service; the message says what to pass instead. */
export class ServiceOptionsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = ServiceOptionsError.name;
  }
}

export function normaliseOptions(
  schema: ServiceGeneratorSchema,
  defaultPort: number,
  timestamp: number,
): ServiceOptions {
  const resource = schema.name.trim().replace(/-service$/, '');
  if (!NAME.test(resource) || resource.length > 40) {
    throw new ServiceOptionsError(
      `"${schema.name}" is not a service name: use lower-case words joined by hyphens, at most 40 characters, e.g. orders or order-history`,
    );
  }
  if (RESERVED.includes(resource)) {
    throw new ServiceOptionsError(`"${resource}" is taken by the workspace; choose another name`);
  }
  const port = schema.port ?? defaultPort;
  if (!Number.isInteger(port) || port < 1024 || port > 55000) {
    throw new ServiceOptionsError(
      `--port must be a whole number from 1024 to 55000 (its tests use the port plus 10000), not ${schema.port}`,
    );
  }
  const serviceName = `${resource}-service`;
  const resourceNames = names(resource);
  const serviceNames = names(serviceName);
  const singular = singularOf(resource);
  return {
    resource,
    serviceName,
    projectRoot: `apps/${serviceName}`,
    e2eRoot: `apps/${serviceName}-e2e`,
    port,
    e2ePort: port + 10000,
    e2eAuthPort: port + 10001,
    e2eServicePort: port + 10002,
    debugPort: 9229 + port - 3001,
    database: schema.database ?? true,
    databaseName: resource.replace(/-/g, '_'),
    readScope: `${resource}:read`,
    writeScope: `${resource}:write`,
    clientSecretVariable: `${serviceNames.constantName}_CLIENT_SECRET`,
    configName: `${serviceNames.propertyName}Config`,
    environmentClass: `${serviceNames.className}Environment`,
    featureClass: resourceNames.className,
    featureProperty: resourceNames.propertyName,
    featureConstant: resourceNames.constantName,
    entityClass: names(singular).className,
    entityFile: names(singular).fileName,
    timestamp,
  };
}

/** `orders` → `order`, `categories` → `category`; a name that is not plural stays as it is. */
function singularOf(plural: string): string {
  if (/ies$/.test(plural)) return plural.replace(/ies$/, 'y');
  if (/(ss|us|is)$/.test(plural)) return plural;
  if (/(ches|shes|xes|sses)$/.test(plural)) return plural.replace(/es$/, '');
  return plural.replace(/s$/, '');
}
