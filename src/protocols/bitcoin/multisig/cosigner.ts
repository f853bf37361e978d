/**
 * A cosigner's key as an operator types it, `XPUB@FINGERPRINT/PATH` (the fingerprint of the
 * cosigner's seed and the path of the account the xpub is at, as a descriptor's key origin
 * says it: `tpubD…@d34db33f/48h/1h/0h/2h`), read as hostile input. Accepted: the network's
 * plain extended public key (xpub on mainnet, tpub elsewhere) and its SLIP-132 P2WSH-multisig
 * form (Zpub, Vpub: what Electrum shows). Refused, each with its reason: any private key (a
 * cosigner's private key never belongs in Warden), an extended key of another script type
 * (ypub/zpub/Ypub and their test forms: another wallet's key), of another network, a key whose
 * depth or child number is not its path's, or a depth-1 key whose parent is not the fingerprint.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { createBase58check, hex } from '@scure/base';
import { HARDENED_OFFSET, HDKey } from '@scure/bip32';
import { WardenError } from '../../../core/errors.ts';
import { shownValue } from '../../../core/validate.ts';
import type { BitcoinNetwork } from '../networks.ts';

const b58 = createBase58check(sha256);

/** The plain versions every descriptor uses: xpub (mainnet) and tpub (the test networks). */
export const XPUB = 0x0488b21e;
export const TPUB = 0x043587cf;

/** Extended-key version bytes (BIP-32, SLIP-132) and what each one is, for clear refusals. */
const VERSIONS: Readonly<Record<number, { main: boolean; kind: 'public' | 'private'; type: string }>> = {
  76067358: { main: true, kind: 'public', type: 'any' }, // xpub
  44728019: { main: true, kind: 'public', type: 'p2wsh' }, // Zpub
  77429938: { main: true, kind: 'public', type: 'p2sh-p2wpkh' }, // ypub
  78792518: { main: true, kind: 'public', type: 'p2wpkh' }, // zpub
  43365439: { main: true, kind: 'public', type: 'p2sh-p2wsh' }, // Ypub
  76066276: { main: true, kind: 'private', type: 'any' }, // xprv
  44726937: { main: true, kind: 'private', type: 'p2wsh' }, // Zprv
  77428856: { main: true, kind: 'private', type: 'p2sh-p2wpkh' }, // yprv
  78791436: { main: true, kind: 'private', type: 'p2wpkh' }, // zprv
  43364357: { main: true, kind: 'private', type: 'p2sh-p2wsh' }, // Yprv
  70617039: { main: false, kind: 'public', type: 'any' }, // tpub
  39277699: { main: false, kind: 'public', type: 'p2wsh' }, // Vpub
  71979618: { main: false, kind: 'public', type: 'p2sh-p2wpkh' }, // upub
  73342198: { main: false, kind: 'public', type: 'p2wpkh' }, // vpub
  37915119: { main: false, kind: 'public', type: 'p2sh-p2wsh' }, // Upub
  70615956: { main: false, kind: 'private', type: 'any' }, // tprv
  39276616: { main: false, kind: 'private', type: 'p2wsh' }, // Vprv
  71978536: { main: false, kind: 'private', type: 'p2sh-p2wpkh' }, // uprv
  73341116: { main: false, kind: 'private', type: 'p2wpkh' }, // vprv
  37914037: { main: false, kind: 'private', type: 'p2sh-p2wsh' }, // Uprv
};

/** A path of more steps than this is no account a wallet uses. */
const MAX_PATH_STEPS = 8;
const MAX_COSIGNER_LENGTH = 256;

export interface Cosigner {
  /** The cosigner's master fingerprint, 8 lower-case hex digits. */
  fingerprint: string;
  /** The account's path from the master, as BIP-32 indexes. */
  path: number[];
  /** The account's extended public key in the plain form (xpub, tpub). */
  xpub: string;
  /** Its public key (33 bytes, hex): what duplicates are judged by. */
  publicKey: string;
}

/** `48h/1h/0h/2h` from indexes (BIP-380 key origin spelling). */
export function pathText(path: readonly number[]): string {
  return path.map((n) => (n >= HARDENED_OFFSET ? `${n - HARDENED_OFFSET}h` : String(n))).join('/');
}

function parsePath(text: string, fail: (why: string, reason: string) => never): number[] {
  if (text === '') return [];
  const steps = text.split('/');
  if (steps.length > MAX_PATH_STEPS) fail(`a path of at most ${MAX_PATH_STEPS} steps`, 'path');
  return steps.map((step) => {
    const m = /^(0|[1-9][0-9]{0,9})(['hH]?)$/.exec(step);
    const n = m ? Number(m[1]) : Number.NaN;
    if (!m || n >= HARDENED_OFFSET) fail(`path step "${shownValue(step)}" is not a BIP-32 index`, 'path');
    return m![2] ? n + HARDENED_OFFSET : n;
  });
}

/** The indexes of a path Warden wrote itself (`m/48'/1'/0'/2'`). */
export function pathIndexes(path: string): number[] {
  return parsePath(path.replace(/^m\/?/, ''), (why) => {
    throw new WardenError('INTERNAL', `a path of Warden's own is unreadable: ${why}`);
  });
}

/** Reads one `--cosigner`; INVALID_ARGUMENT naming `field` and a `reason` for anything wrong. */
export function parseCosigner(value: string, network: BitcoinNetwork, field: string): Cosigner {
  const fail = (why: string, reason: string): never => {
    throw new WardenError('INVALID_ARGUMENT', `${field}: ${why}`, { field, reason });
  };
  if (value.length > MAX_COSIGNER_LENGTH) fail('too long to be XPUB@FINGERPRINT/PATH', 'shape');
  const m = /^([1-9A-HJ-NP-Za-km-z]{100,120})@([0-9a-fA-F]{8})(?:\/(.*))?$/.exec(value);
  if (!m) return fail('not XPUB@FINGERPRINT/PATH (an extended public key, 8 hex digits, a path)', 'shape');
  const [, encoded, fp, pathPart] = m as unknown as [string, string, string, string | undefined];
  const path = parsePath((pathPart ?? '').replace(/^m\//, ''), fail);
  let raw: Uint8Array;
  try {
    raw = b58.decode(encoded);
  } catch {
    return fail('not an extended key (base58check)', 'checksum');
  }
  if (raw.length !== 78) fail('not an extended key (78 bytes)', 'length');
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const version = VERSIONS[view.getUint32(0)];
  if (!version) fail('unknown extended key version', 'version');
  if (version!.kind === 'private')
    fail("a private key: give the cosigner's extended public key, never its private key", 'private_key');
  if (version!.main !== (network === 'bitcoin'))
    fail(`an extended key of another network than ${network}`, 'other_network');
  if (version!.type !== 'any' && version!.type !== 'p2wsh')
    fail(
      `a ${version!.type} key (SLIP-132): a 2-of-3 P2WSH wallet needs the cosigner's P2WSH account`,
      'script_type',
    );
  const depth = raw[4]!;
  const parent = view.getUint32(5);
  const child = view.getUint32(9);
  if (depth !== path.length) fail(`the key is at depth ${depth}, its path has ${path.length} steps`, 'depth');
  if (depth > 0 && child !== path[path.length - 1])
    fail('the key is not the child its path ends with', 'child_number');
  const fingerprint = fp.toLowerCase();
  if (depth === 1 && parent !== Number.parseInt(fingerprint, 16))
    fail("the key's parent is not the fingerprint given", 'fingerprint');
  // The plain version for the network, then the library checks the point and builds the node.
  const plain = new Uint8Array(raw);
  new DataView(plain.buffer).setUint32(0, network === 'bitcoin' ? XPUB : TPUB);
  let node: HDKey;
  try {
    const versions =
      network === 'bitcoin' ? { private: 0x0488ade4, public: XPUB } : { private: 0x04358394, public: TPUB };
    node = HDKey.fromExtendedKey(b58.encode(plain), versions);
  } catch {
    return fail('not a valid extended public key (the point is not on the curve)', 'point');
  }
  if (depth === 0 && node.fingerprint !== Number.parseInt(fingerprint, 16))
    fail('a master key whose fingerprint is not the one given', 'fingerprint');
  return { fingerprint, path, xpub: node.publicExtendedKey, publicKey: hex.encode(node.publicKey!) };
}
