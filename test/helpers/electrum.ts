/**
 * Electrum as an independent cosigner (Debian `python3-electrum`, 4.3.4): a wallet of one
 * cosigner's xprv and the other keys' xpubs, offline on regtest, asked for its first receive
 * address and to add its signature to a PSBT (electrum-cosign.py). Another implementation of
 * BIP-32, sortedmulti and BIP-143 than ours: where it agrees, we agree with the world.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { promisify } from 'node:util';
import { sha256 } from '@noble/hashes/sha2.js';
import { createBase58check } from '@scure/base';

const run = promisify(execFile);
const SCRIPT = new URL('./electrum-cosign.py', import.meta.url).pathname;
const b58 = createBase58check(sha256);

/** Whether Electrum is installed (`.ci/run` installs it). */
export const HAS_ELECTRUM = existsSync('/usr/lib/python3/dist-packages/electrum');

/** SLIP-132 headers of testnet/regtest P2WSH multisig keys, as Electrum shows them. */
export const VPUB = 0x02575483;
export const VPRV = 0x02575048;

/** An extended key re-encoded with other version bytes (tpub → Vpub). */
export function withVersion(xkey: string, version: number): string {
  const raw = new Uint8Array(b58.decode(xkey));
  new DataView(raw.buffer).setUint32(0, version);
  return b58.encode(raw);
}

export interface ElectrumKey {
  xkey: string;
  /** The account's path, m/48'/1'/0'/2'. */
  path: string;
  /** Master fingerprint, 8 hex digits. */
  fp: string;
}

export interface ElectrumAnswer {
  firstAddress: string;
  sigsBefore?: number;
  sigsAfter?: number;
  complete?: boolean;
  /** The finalized transaction (hex) when complete. */
  raw?: string;
  psbt?: string;
}

/** Runs Electrum over the three keys (descriptor order); signs `psbtBase64` when given. */
export async function electrumCosign(keys: readonly ElectrumKey[], psbtBase64 = ''): Promise<ElectrumAnswer> {
  const child = run('/usr/bin/python3', [SCRIPT, JSON.stringify({ keys })], { timeout: 60_000 });
  child.child.stdin?.end(psbtBase64);
  const { stdout } = await child;
  return JSON.parse(stdout.trim().split('\n').pop()!) as ElectrumAnswer;
}
