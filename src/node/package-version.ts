import { readFileSync } from 'node:fs';

/**
 * The `trib` version from package.json. This module sits two levels below the package root both
 * as source (src/node) and as build output (dist/node), so one relative path serves both.
 */
export const packageVersion: string = (
  JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
).version;
