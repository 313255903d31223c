import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';

const root = resolve(__dirname, '../../..');
const MODEL = 'docs/security-model.md';

/** The families of docs/security-model.md: resource servers, issuance, refresh families, revocation and introspection, keys, operations. */
const CITATION = /\b([RIFVKO])(\d{1,2})\b/g;

/**
 * Look like a citation and are none: `V8` is the JavaScript engine. (OWASP ASVS's own chapters,
 * "ASVS V6", are told apart by the word before them.)
 */
const NOT_CITATIONS = new Set(['V8']);

/** Every TypeScript file of apps, libs and tools, committed or not (ignored files left out). */
function sourceFiles(): string[] {
  return execFileSync(
    'git',
    ['ls-files', '--cached', '--others', '--exclude-standard', '--', 'apps', 'libs', 'tools'],
    { cwd: root, encoding: 'utf8' },
  )
    .split('\n')
    .filter((path) => /\.ts$/.test(path) && existsSync(resolve(root, path)));
}

/** Each identifier the code cites, with the places that cite it. */
function citations(): Map<string, string[]> {
  const cited = new Map<string, string[]>();
  for (const path of sourceFiles()) {
    const lines = readFileSync(resolve(root, path), 'utf8').split('\n');
    lines.forEach((line, index) => {
      for (const match of line.matchAll(CITATION)) {
        const id = match[0];
        const before = line.slice(0, match.index);
        if (NOT_CITATIONS.has(id) || /ASVS(?:\s+\d+(?:\.\d+)*)?\s+$/.test(before)) continue;
        cited.set(id, [...(cited.get(id) ?? []), `${path}:${index + 1}`]);
      }
    });
  }
  return cited;
}

interface Property {
  id: string;
  enforcedIn: string[];
  provedBy: string[];
}

/** The rows `| id | property | enforced in | proved by |` of the model's tables. */
function properties(): Property[] {
  const model = readFileSync(resolve(root, MODEL), 'utf8');
  const paths = (cell: string) => [...cell.matchAll(/`([^`]+)`/g)].map(([, path]) => path);
  return model
    .split('\n')
    .filter((line) => /^\|\s*[RIFVKO]\d{1,2}\s*\|/.test(line))
    .map((line) => {
      const cells = line.replace(/^\|\s*|\s*\|\s*$/g, '').split(/\s*\|\s*/);
      return {
        id: cells[0],
        enforcedIn: paths(cells[cells.length - 2]),
        provedBy: paths(cells[cells.length - 1]),
      };
    });
}

describe(`${MODEL}: the security model the code cites`, () => {
  it('defines every identifier the code cites', () => {
    const defined = new Set(properties().map((property) => property.id));
    const undefinedCitations = [...citations()]
      .filter(([id]) => !defined.has(id))
      .map(([id, places]) => `${id} (${places.join(', ')})`);
    expect(undefinedCitations).toEqual([]);
  });

  it('defines each identifier once, with where it is enforced and which test proves it', () => {
    const all = properties();
    expect(all.length).toBeGreaterThan(0);
    const ids = all.map((property) => property.id);
    expect(ids.filter((id, index) => ids.indexOf(id) !== index)).toEqual([]);
    expect(
      all.filter((property) => property.enforcedIn.length === 0 || property.provedBy.length === 0),
    ).toEqual([]);
    expect(
      all.filter(
        (property) => !property.provedBy.every((path) => /\.(spec|suite)\.ts$/.test(path)),
      ),
    ).toEqual([]);
  });

  it('names only files that exist', () => {
    const model = readFileSync(resolve(root, MODEL), 'utf8');
    const named = [...model.matchAll(/`((?:apps|libs|tools)\/[^`\s]+\.ts)`/g)].map(
      ([, path]) => path,
    );
    expect(named.length).toBeGreaterThan(0);
    expect([...new Set(named)].filter((path) => !existsSync(resolve(root, path)))).toEqual([]);
  });

  it('is linked from the README and the architecture document', () => {
    for (const document of ['README.md', 'docs/architecture.md']) {
      expect({
        document,
        links: readFileSync(resolve(root, document), 'utf8').includes('security-model.md'),
      }).toEqual({
        document,
        links: true,
      });
    }
  });
});
