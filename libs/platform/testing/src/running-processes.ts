import { execFileSync } from 'node:child_process';

/** Command lines of the running processes that mention `text` (e.g. a data folder). */
export function processesMentioning(text: string): string[] {
  const output = execFileSync('ps', ['-eo', 'pid=,args='], { encoding: 'utf8' });
  return output
    .split('\n')
    .filter((line) => line.includes(text) && !line.includes('ps -eo'))
    .map((line) => line.trim());
}
