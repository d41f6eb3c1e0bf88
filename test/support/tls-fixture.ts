import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface TlsFixture {
  caFile: string;
  serverCertFile: string;
  serverKeyFile: string;
  clientCertFile: string;
  clientKeyFile: string;
}

function openssl(args: string[], cwd: string): void {
  execFileSync('openssl', args, { cwd, stdio: 'pipe' });
}

/** Issues a leaf key and certificate signed by the fixture's CA. */
function issue(directory: string, name: string, subjectAltName: string): void {
  openssl(['req', '-new', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${name}`], directory);
  writeFileSync(join(directory, `${name}.ext`), `subjectAltName=${subjectAltName}\n`);
  openssl(['x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '1', '-out', `${name}.crt`, '-extfile', `${name}.ext`], directory);
}

/** A throwaway CA, a server certificate for 127.0.0.1 and a client certificate, made with openssl. */
export function createTlsFixture(directory: string): TlsFixture {
  openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '1', '-subj', '/CN=tributary-test-ca'], directory);
  issue(directory, 'server', 'IP:127.0.0.1,DNS:localhost');
  issue(directory, 'client', 'DNS:trib-client');
  return {
    caFile: join(directory, 'ca.crt'),
    serverCertFile: join(directory, 'server.crt'),
    serverKeyFile: join(directory, 'server.key'),
    clientCertFile: join(directory, 'client.crt'),
    clientKeyFile: join(directory, 'client.key'),
  };
}
