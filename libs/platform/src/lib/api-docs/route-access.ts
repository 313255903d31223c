import { METHOD_METADATA, PATH_METADATA } from '@nestjs/common/constants';
import type { INestApplication } from '@nestjs/common';
import { DiscoveryService, MetadataScanner, ModulesContainer, Reflector } from '@nestjs/core';
import { ROLES_KEY, SCOPES_KEY } from '@tessera/auth-token';
import { IS_PUBLIC_KEY } from '@tessera/auth-token';

/** What a route asks of its caller, read from the metadata the auth guard reads. */
export interface RouteAccess {
  /** `@Public()`: no token needed. */
  isPublic: boolean;
  /** `@Scopes()` of the controller and the route together. */
  scopes: string[];
  /** `@Roles()` of the controller and the route together. */
  roles: string[];
}

/** A route handler of the application, with what it needs from the caller. */
export interface ApplicationRoute extends RouteAccess {
  /** `Controller_method`: @nestjs/swagger's operationId for the route. */
  operationId: string;
  controller: new (...args: never[]) => unknown;
  methodName: string;
  /** `RequestMethod` of @nestjs/common. */
  requestMethod: number;
  /** The controller's and the handler's paths, joined: `/notes/:id`. */
  path: string;
}

/**
 * Every HTTP route of the Nest application, found the way Nest's router finds them: the
 * controllers of every module and their methods carrying a route path.
 */
export function applicationRoutes(app: INestApplication): ApplicationRoute[] {
  const discovery = new DiscoveryService(app.get(ModulesContainer));
  const scanner = new MetadataScanner();
  const reflector = new Reflector();
  const routes: ApplicationRoute[] = [];
  for (const wrapper of discovery.getControllers()) {
    const controller = wrapper.metatype as ApplicationRoute['controller'] | null;
    if (!controller || !wrapper.instance) continue;
    const prototype = Object.getPrototypeOf(wrapper.instance) as Record<string, unknown>;
    for (const methodName of scanner.getAllMethodNames(prototype)) {
      const handler = prototype[methodName] as (...args: unknown[]) => unknown;
      const methodPath = Reflect.getMetadata(PATH_METADATA, handler) as
        | string
        | string[]
        | undefined;
      if (methodPath === undefined) continue;
      const targets = [handler, controller];
      const access: RouteAccess = {
        isPublic: reflector.getAllAndOverride<boolean>(IS_PUBLIC_KEY, targets) === true,
        scopes: reflector.getAllAndMerge<string[]>(SCOPES_KEY, targets) ?? [],
        roles: reflector.getAllAndMerge<string[]>(ROLES_KEY, targets) ?? [],
      };
      const controllerPaths = [
        Reflect.getMetadata(PATH_METADATA, controller) as string | string[],
      ].flat();
      for (const controllerPath of controllerPaths) {
        for (const path of [methodPath].flat()) {
          routes.push({
            ...access,
            operationId: `${controller.name}_${methodName}`,
            controller,
            methodName,
            requestMethod: Reflect.getMetadata(METHOD_METADATA, handler) as number,
            path: joinPath(controllerPath, path),
          });
        }
      }
    }
  }
  return routes;
}

function joinPath(...parts: string[]): string {
  const joined = parts
    .flatMap((part) => (part ?? '').split('/'))
    .filter((segment) => segment !== '')
    .join('/');
  return `/${joined}`;
}
