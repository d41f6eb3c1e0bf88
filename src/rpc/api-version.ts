/**
 * The contract version this build implements, one for every Tributary service, and the major
 * versions it still accepts. Minor versions only add fields (docs/PROTOCOL.md).
 */
export const contractApiVersion = Object.freeze({ major: 1, minor: 0 });

export const supportedApiMajorVersions: ReadonlySet<number> = new Set([1]);

export type Compatibility = 'COMPATIBLE' | 'DEGRADED' | 'INCOMPATIBLE';

/** How a client built against `client` fares with this server, and why, in one sentence. */
export function compatibilityOf(client: { major: number; minor: number } | undefined): { verdict: Compatibility; message: string } {
  const server = `${contractApiVersion.major}.${contractApiVersion.minor}`;
  if (client === undefined) {
    return { verdict: 'INCOMPATIBLE', message: `the request carries no header.api_version; this server speaks ${server}` };
  }
  const label = `${client.major}.${client.minor}`;
  if (!supportedApiMajorVersions.has(client.major)) {
    const majors = [...supportedApiMajorVersions].join(', ');
    return { verdict: 'INCOMPATIBLE', message: `client api_version ${label} has a major version this server does not speak (supported: ${majors})` };
  }
  if (client.major === contractApiVersion.major && client.minor > contractApiVersion.minor) {
    return { verdict: 'DEGRADED', message: `client api_version ${label} is newer than this server's ${server}; fields the server does not know are ignored` };
  }
  return { verdict: 'COMPATIBLE', message: `client api_version ${label} is compatible with this server's ${server}` };
}
