import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';

const root = resolve(__dirname, '../../..');

/** Every `@tessera/*` library: its import alias and the folder its own files live in. */
const LIBRARIES: Record<string, string> = Object.fromEntries(
  Object.entries(
    (
      JSON.parse(readFileSync(resolve(root, 'tsconfig.base.json'), 'utf8')) as {
        compilerOptions: { paths: Record<string, string[]> };
      }
    ).compilerOptions.paths,
  ).map(([alias, [index]]) => [alias, index.replace(/^\.\//, '').replace(/index\.ts$/, '')]),
);

/** The names an index exports: `export { a, b as c }` and `export type { … }` (no `export *`). */
function exportedNames(index: string): string[] {
  const source = readFileSync(resolve(root, index), 'utf8');
  expect({ index, exportStar: /export \* from/.test(source) }).toEqual({
    index,
    exportStar: false,
  });
  return [...source.matchAll(/export (?:type )?\{([^}]*)\}/g)].flatMap(([, names]) =>
    names
      .split(',')
      .map(
        (name) =>
          name
            .trim()
            .split(/\s+as\s+/)
            .pop() ?? '',
      )
      .filter(Boolean),
  );
}

/** The names each library's alias is imported with, by any file outside the library. */
function importedNames(): Map<string, Set<string>> {
  const files = execFileSync(
    'git',
    ['ls-files', '-co', '--exclude-standard', 'apps', 'libs', 'tools'],
    {
      cwd: root,
      encoding: 'utf8',
    },
  )
    .split('\n')
    .filter((file) => /\.(ts|mjs|js)$|__tmpl__$/.test(file));
  const imported = new Map<string, Set<string>>();
  for (const file of files) {
    let source: string;
    try {
      source = readFileSync(resolve(root, file), 'utf8');
    } catch {
      continue; // listed by git but deleted in the working tree
    }
    for (const [, names, alias] of source.matchAll(
      // A secondary entry point (`@tessera/platform/tracing`) counts as a library of its own.
      /(?:import|export)(?: type)? \{([^}]*)\} from '(@tessera\/[a-z-]+(?:\/[a-z-]+)?)'/g,
    )) {
      if (file.startsWith(LIBRARIES[alias] ?? '\0')) continue;
      const set = imported.get(alias) ?? new Set<string>();
      // A generator template may choose a name with an EJS expression: every name in it counts.
      for (const name of names.replace(/<%=|%>/g, ' ').matchAll(/[A-Za-z_$][\w$]*/g)) {
        set.add(name[0]);
      }
      imported.set(alias, set);
    }
  }
  return imported;
}

describe("each library's public API (docs/architecture.md, Libraries)", () => {
  const imported = importedNames();

  it.each(Object.keys(LIBRARIES).filter((alias) => alias !== '@tessera/workspace-plugin'))(
    '%s exports only what another project imports',
    (alias) => {
      const unused = exportedNames(`${LIBRARIES[alias]}index.ts`).filter(
        (name) => !imported.get(alias)?.has(name),
      );
      expect({ alias, unused }).toEqual({ alias, unused: [] });
    },
  );
});
