import { readFileSync } from 'node:fs';
import type { NodeConfig } from '../config/index.js';

const sha256HexPattern = /^[0-9a-f]{64}$/;

/**
 * Every token hash the node accepts: `auth.tokens` plus each line of each `auth.tokenFiles` file
 * (one lowercase SHA-256 hex digest per line; blank lines and `#` comments are ignored). A bad
 * line stops start-up with the file, the line number and the rule.
 */
export function loadTokenHashes(auth: NodeConfig['auth']): string[] {
  const fromFiles = auth.tokenFiles.flatMap((file) => hashesInFile(file));
  return [...new Set([...auth.tokens, ...fromFiles])];
}

function hashesInFile(file: string): string[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new Error(`auth.tokenFiles: "${file}" could not be read: ${(error as Error).message}`, { cause: error });
  }
  return text.split('\n').flatMap((raw, index) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return [];
    if (!sha256HexPattern.test(line)) {
      throw new Error(`auth.tokenFiles: "${file}" line ${index + 1} is not a SHA-256 hash (64 lowercase hex characters; make one with: printf %s "$TOKEN" | sha256sum)`);
    }
    return [line];
  });
}
