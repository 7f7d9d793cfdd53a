// Throwaway certificates for the TLS tests, made at test time with the openssl CLI into a temp dir
// (nothing private is committed): a test CA, a server certificate it signs for 127.0.0.1 and
// localhost, a second CA that signed nothing the servers show (the "wrong CA"), and a self-signed
// server certificate. EC P-256 keys, valid for 2 days.

import { execFile } from 'node:child_process';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const OPENSSL = '/usr/bin/openssl';

export interface TestCertificates {
  dir: string;
  /** PEM of the test CA: the caFile that makes the server certificate trusted. */
  caFile: string;
  /** PEM of a CA that signed nothing the servers present. */
  wrongCaFile: string;
  /** Server certificate signed by the test CA, for IP 127.0.0.1 and DNS localhost. */
  serverCert: string;
  serverKey: string;
  /** A self-signed server certificate for the same names. */
  selfSignedCert: string;
  selfSignedKey: string;
  remove(): Promise<void>;
}

export async function makeTestCertificates(): Promise<TestCertificates> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'test-certs-'));
  const at = (name: string) => path.join(dir, name);
  const openssl = (...args: string[]) => run(OPENSSL, args, { cwd: dir });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  const serverExt = 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n';
  try {
    // The servers (Dovecot's processes, under other users when run as root) read them.
    await chmod(dir, 0o755);
    for (const ca of ['ca', 'wrong-ca']) {
      await openssl('req', '-x509', ...ec, '-keyout', `${ca}.key`, '-out', `${ca}.crt`, '-days', '2', '-subj', `/CN=campaign-health test ${ca}`,
        '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign');
    }
    await openssl('req', ...ec, '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=localhost');
    await writeFile(at('server.ext'), serverExt);
    await openssl('x509', '-req', '-in', 'server.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.crt', '-days', '2', '-extfile', 'server.ext');
    await openssl('req', '-x509', ...ec, '-keyout', 'self-signed.key', '-out', 'self-signed.crt', '-days', '2', '-subj', '/CN=localhost',
      '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost', '-addext', 'extendedKeyUsage=serverAuth');
    for (const key of ['server.key', 'self-signed.key']) await chmod(at(key), 0o644);
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
  return {
    dir,
    caFile: at('ca.crt'),
    wrongCaFile: at('wrong-ca.crt'),
    serverCert: at('server.crt'),
    serverKey: at('server.key'),
    selfSignedCert: at('self-signed.crt'),
    selfSignedKey: at('self-signed.key'),
    remove: () => rm(dir, { recursive: true, force: true }),
  };
}
