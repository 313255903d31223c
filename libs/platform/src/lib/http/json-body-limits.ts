import { BadRequestException } from '@nestjs/common';

/**
 * O3: the shape limits of every JSON body, checked on the raw text before `JSON.parse` runs.
 * Tessera's bodies are flat objects of a few fields; these limits leave ample room and stop a
 * body of 10 kB of brackets, which parsed fine but overflowed the stack of the code that walks
 * it afterwards (validation, transformation) and answered 500.
 */
export const JSON_MAX_DEPTH = 32;
/** Object members in the whole body, all levels together (duplicates counted). */
export const JSON_MAX_KEYS = 1000;

export interface JsonBodyLimits {
  maxDepth: number;
  maxKeys: number;
}

export const DEFAULT_JSON_BODY_LIMITS: JsonBodyLimits = {
  maxDepth: JSON_MAX_DEPTH,
  maxKeys: JSON_MAX_KEYS,
};

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COLON = 0x3a;
const OPEN_BRACE = 0x7b;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACE = 0x7d;
const CLOSE_BRACKET = 0x5d;

/**
 * One pass over the text, outside strings: the nesting of `{`/`[` and the number of `:` (one per
 * object member). Malformed text is left to `JSON.parse`; it stops at the first limit passed, so a
 * hostile body costs at most one scan up to that point.
 */
export function jsonBodyProblem(
  text: string,
  limits: JsonBodyLimits = DEFAULT_JSON_BODY_LIMITS,
): string | undefined {
  let depth = 0;
  let keys = 0;
  let inString = false;
  for (let index = 0; index < text.length; index++) {
    const code = text.charCodeAt(index);
    if (inString) {
      if (code === BACKSLASH) index++;
      else if (code === QUOTE) inString = false;
      continue;
    }
    if (code === QUOTE) inString = true;
    else if (code === OPEN_BRACE || code === OPEN_BRACKET) {
      if (++depth > limits.maxDepth) {
        return `The JSON body is nested too deeply: more than ${limits.maxDepth} levels of objects and arrays`;
      }
    } else if (code === CLOSE_BRACE || code === CLOSE_BRACKET) depth--;
    else if (code === COLON && ++keys > limits.maxKeys) {
      return `The JSON body has too many keys: more than ${limits.maxKeys} object members`;
    }
  }
  return undefined;
}

/** A Fastify content-type parser callback's error: Nest's filters answer it in the house shape. */
export function jsonBodyLimitError(text: string, limits?: JsonBodyLimits): Error | undefined {
  const problem = jsonBodyProblem(text, limits);
  return problem === undefined ? undefined : new BadRequestException(problem);
}
