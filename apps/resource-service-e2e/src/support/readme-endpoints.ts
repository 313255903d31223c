/**
 * The routes the README documents, as the API docs name them: `GET /notes/{id}`.
 *
 * A service's routes are the first column of its `## <service> endpoints` table, where a cell may
 * hold several routes (`` `GET /auth/sessions`, `DELETE /auth/sessions/:id` ``; a route without a
 * method, `` `/ping/guarded` ``, takes the one before it) and a query string only describes the
 * parameters (`` `GET /notes?limit&cursor` ``). The routes every service has are the ones named in
 * the README's sentence that starts "Every service answers".
 */
export function readmeRoutes(readme: string, service: string): string[] {
  const table = sectionOf(readme, `## ${service} endpoints`)
    .split('\n')
    .filter((line) => line.startsWith('|'))
    // The header row and the separator row.
    .slice(2);
  if (table.length === 0) throw new Error(`The README has no "${service} endpoints" table`);
  const routes = table.flatMap((row) => routesIn(row.split('|')[1] ?? ''));
  const sentence = readme.indexOf('\nEvery service answers');
  const common = sentence < 0 ? '' : readme.slice(sentence, readme.indexOf('\n\n', sentence));
  return [...new Set([...routes, ...routesIn(common)])].sort();
}

const ROUTE = /^(?:(GET|POST|PUT|PATCH|DELETE) )?(\/[^\s?]*)(?:\?\S*)?$/;

function routesIn(text: string): string[] {
  let method: string | undefined;
  const routes: string[] = [];
  for (const [, code] of text.matchAll(/`([^`]+)`/g)) {
    const route = ROUTE.exec(code ?? '');
    if (!route) continue;
    method = route[1] ?? method;
    if (!method) throw new Error(`The README names ${code} without a method`);
    routes.push(`${method} ${route[2]?.replace(/:([A-Za-z0-9_]+)/g, '{$1}')}`);
  }
  return routes;
}

function sectionOf(markdown: string, heading: string): string {
  const start = markdown.split('\n').findIndex((line) => line.trim() === heading);
  if (start < 0) return '';
  const lines = markdown.split('\n').slice(start + 1);
  const end = lines.findIndex((line) => /^#{1,2} /.test(line));
  return lines.slice(0, end < 0 ? undefined : end).join('\n');
}

/** Every operation of an OpenAPI document: `GET /notes/{id}`. */
export function documentedRoutes(document: { paths: Record<string, object> }): string[] {
  return Object.entries(document.paths)
    .flatMap(([path, item]) =>
      Object.keys(item)
        .filter((method) => ['get', 'post', 'put', 'patch', 'delete'].includes(method))
        .map((method) => `${method.toUpperCase()} ${path}`),
    )
    .sort();
}
