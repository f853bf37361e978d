/**
 * A throwaway self-signed certificate (P-256, valid one day) made by openssl, for tests of TLS on
 * loopback: what a real server would present, not a fixture. Needs the openssl binary.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { join } from 'node:path';

export const HAS_OPENSSL = spawnSync('openssl', ['version']).status === 0;

export interface TestCertificate {
  certFile: string;
  keyFile: string;
}

/** Writes cert.pem and key.pem into `dir` for the subject CN and the subjectAltName entries. */
export function selfSignedCertificate(
  dir: string,
  subject: { cn: string; altNames?: readonly string[] },
): TestCertificate {
  const certFile = join(dir, 'cert.pem');
  const keyFile = join(dir, 'key.pem');
  const altNames = subject.altNames?.length
    ? ['-addext', `subjectAltName=${subject.altNames.join(',')}`]
    : [];
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-days',
      '1',
      '-subj',
      `/CN=${subject.cn}`,
      ...altNames,
      '-keyout',
      keyFile,
      '-out',
      certFile,
    ],
    { stdio: 'ignore' },
  );
  return { certFile, keyFile };
}
