// `npm run typecheck`: the type check of every project at once, as `npm test` runs it. Each
// project's `typecheck` target (tools/nx/typecheck-plugin.js) is a TypeScript program of its own,
// which parses Node's and the frameworks' declarations again and checks again every library the
// project imports: fifteen programs in all, about 125 s of CPU on CI's two cores. Here the
// projects whose tsconfig.spec.json come to the same compiler options share one program (today
// three: the libraries, and the applications with and without JSON imports), about 30 s.
//
// A file gets the same diagnostics in a shared program as in its project's own: the options are
// the same, and so is what it imports. `npx nx typecheck <project>` still checks one project.
//
// Run with ts-node (see package.json).
import { existsSync, globSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import * as ts from 'typescript';

const root = resolve(__dirname, '../..');
const SPEC_CONFIG = 'tsconfig.spec.json';

/** The projects' spec configs: the files the typecheck plugin makes targets of. */
function specConfigs(): string[] {
  return globSync(`**/${SPEC_CONFIG}`, {
    cwd: root,
    exclude: (name) => ['node_modules', 'dist', '.git', '.nx', 'tmp'].includes(name),
  })
    .filter(
      (file) =>
        existsSync(join(root, dirname(file), 'project.json')) ||
        existsSync(join(root, dirname(file), 'package.json')),
    )
    .sort();
}

function parse(configFile: string): ts.ParsedCommandLine {
  const parsed = ts.getParsedCommandLineOfConfigFile(join(root, configFile), undefined, {
    ...ts.sys,
    onUnRecoverableConfigFileDiagnostic: (diagnostic) => {
      throw new Error(ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n'));
    },
  });
  if (!parsed) throw new Error(`${configFile} could not be read`);
  return parsed;
}

/** The options that decide how a file is checked; where the config lives does not. */
function groupKey(options: ts.CompilerOptions): string {
  const rest = { ...options };
  delete rest.configFilePath;
  delete rest.outDir;
  return JSON.stringify(rest, Object.keys(rest).sort());
}

function format(diagnostics: readonly ts.Diagnostic[], host: ts.FormatDiagnosticsHost): string {
  return process.stdout.isTTY
    ? ts.formatDiagnosticsWithColorAndContext(diagnostics, host)
    : ts.formatDiagnostics(diagnostics, host);
}

function main(): number {
  const groups = new Map<
    string,
    { options: ts.CompilerOptions; files: Set<string>; projects: string[] }
  >();
  const configErrors: ts.Diagnostic[] = [];
  for (const configFile of specConfigs()) {
    const parsed = parse(configFile);
    configErrors.push(...parsed.errors);
    const key = groupKey(parsed.options);
    const group = groups.get(key) ?? { options: parsed.options, files: new Set(), projects: [] };
    for (const file of parsed.fileNames) group.files.add(file);
    group.projects.push(dirname(configFile));
    groups.set(key, group);
  }
  const host: ts.FormatDiagnosticsHost = {
    getCanonicalFileName: (name) => name,
    getCurrentDirectory: () => root,
    getNewLine: () => '\n',
  };
  let errors = configErrors.length;
  if (configErrors.length > 0) {
    process.stdout.write(format(configErrors, host));
  }
  for (const group of groups.values()) {
    const started = performance.now();
    const program = ts.createProgram([...group.files], { ...group.options, noEmit: true });
    const diagnostics = ts.getPreEmitDiagnostics(program);
    errors += diagnostics.length;
    if (diagnostics.length > 0) {
      process.stdout.write(format(diagnostics, host));
    }
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    console.log(
      `typecheck: ${diagnostics.length} errors in ${group.projects.join(', ')} ` +
        `(one program, ${group.files.size} root files, ${seconds} s)`,
    );
  }
  return errors > 0 ? 1 : 0;
}

process.exitCode = main();
