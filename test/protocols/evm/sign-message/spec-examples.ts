import { readFileSync } from 'node:fs';
import type { SiweMessage } from '../../../../src/protocols/evm/sign-message/siwe.ts';

/**
 * The three examples of the EIP-4361 spec (fixtures/, source and sha256 in PROVENANCE.txt) and the
 * fields they share, as the spec writes them: the SIWE tests and the operation's read them here.
 */

export const FIXTURES = new URL('./fixtures/', import.meta.url);
export const EXAMPLES_FILE = new URL('eip4361-examples.from-spec.json', FIXTURES);
export const spec = JSON.parse(readFileSync(EXAMPLES_FILE, 'utf8')) as {
  examples: { description: string; message: string }[];
};

/** The address of the spec's examples (WETH's, EIP-55 spelled). */
export const SPEC_ADDRESS: SiweMessage['address'] = '0xC02aaA39b223FE8D0A0e5C4F27eAD9083C756Cc2';
export const SPEC_EXAMPLE = spec.examples[0]!.message;

/** The fields of a spec example with this scheme and domain, signed in as `address`. */
export const specExampleFields = (
  scheme: string | null,
  domain: string,
  address = SPEC_ADDRESS,
): SiweMessage => ({
  scheme,
  domain,
  address,
  statement: 'I accept the ExampleOrg Terms of Service: https://example.com/tos',
  uri: 'https://example.com/login',
  version: '1',
  chainId: 1,
  nonce: '32891756',
  issuedAt: '2021-09-30T16:25:24Z',
  expirationTime: null,
  notBefore: null,
  requestId: null,
  resources: [
    'ipfs://bafybeiemxf5abjwjbikoz4mc3a3dla6ual3jsgpdr4cjr3oz3evfyavhwq/',
    'https://example.com/my-web2-claim.json',
  ],
});
