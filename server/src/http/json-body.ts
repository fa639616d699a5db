import { DomainError } from '../platform/index.ts';

/** Deepest nesting of arrays and objects a JSON body may have; no operation needs more than a few. */
export const MAX_JSON_DEPTH = 20;

/**
 * Checks a JSON text before it is parsed: nesting at most `maxDepth` deep, so that no later
 * recursion (hashing the body for idempotency, validation, storage) can overflow the stack, and no
 * `\u0000` inside a string, which PostgreSQL cannot store in text. One pass, no recursion; the
 * parser still refuses what is not JSON.
 */
export function checkJsonText(text: string, maxDepth = MAX_JSON_DEPTH): void {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c /* \ */) {
        if (text.charCodeAt(i + 1) === 0x75 /* u */ && /^[0]{4}$/.test(text.slice(i + 2, i + 6))) {
          throw new DomainError('invalid', 'nul_character', 'strings must not contain the NUL character (\\u0000)');
        }
        i++;
      } else if (c === 0x22 /* " */) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b /* { */ || c === 0x5b /* [ */) {
      if (++depth > maxDepth) throw new DomainError('invalid', 'json_too_deep', `JSON bodies may nest at most ${maxDepth} levels deep`);
    } else if (c === 0x7d || c === 0x5d) depth--;
  }
}
