import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import { utf8 } from '../../../core/bytes.ts';
import { canonicalJson } from '../../../core/canonical.ts';
import { isWardenError, WardenError } from '../../../core/errors.ts';
import type { Intent } from '../../../core/intent.ts';
import type { ControlPlaneMac } from '../../../keys/control-plane-key.ts';
import type { IdentityView } from '../../../keys/view.ts';
import { accountsOf, type KeyPath } from '../accounts.ts';
import { scriptOfAddress } from '../addresses.ts';
import { type AnalysisOptions, analyzePsbt, DEFAULT_ANALYSIS, type PsbtAnalysis } from '../analyze-psbt.ts';
import type { FeeEnvironment } from '../chain/chain.ts';
import { feeFacets, feeSignals } from '../fee-environment.ts';
import { checkGlobalXpubs } from '../global-xpubs.ts';
import { type BitcoinDb, walletsOf } from '../multisig/registry.ts';
import { type MultisigWallet, walletScripts } from '../multisig/wallet.ts';
import { decodedOf, psbtBytesOf } from '../psbt-decode.ts';
import { OPT_IN_SIGHASH } from '../sighash.ts';
import { UNCOMMITTED_DESTINATION, uncommittedSpend } from '../uncommitted.ts';
import type { IssuedAddress } from '../wallet/address-book.ts';
import { paysOwnAddress } from '../wallet/signals.ts';
import type { SignPsbtRequest } from './request.ts';

/** What the request commits to: the PSBT's bytes and the declared payees (the key is not part of it). */
export function signPsbtDigest(p: SignPsbtRequest): string {
  return bytesToHex(sha256(utf8(canonicalJson({ psbt: p.psbt, payTo: p.payTo }))));
}

/** Hex SHA-256 of the PSBT's bytes: what `sign` checks it signs. */
export function psbtDigest(p: SignPsbtRequest): string {
  // The bytes only: decoding the PSBT again would cost (psbt-entries.ts), and hashes nothing more.
  return bytesToHex(sha256(psbtBytesOf(p.psbt)));
}

/**
 * What toIntent lets through to policy rather than refusing: sighash types other than
 * DEFAULT/ALL and witness_utxo amounts for segwit v0 are carried in the facets `sighash` and
 * `amount_proof`, whose unsafe values are opt-in (bitcoin/policy.ts): only a rule naming them
 * allows such a request. The sanity caps on the fee stay.
 */
export const INTENT_ANALYSIS: AnalysisOptions = Object.freeze({
  ...DEFAULT_ANALYSIS,
  allowSighash: OPT_IN_SIGHASH,
  allowWitnessUtxoAmounts: true,
});

export function analysisOf(
  p: SignPsbtRequest,
  publicKeys: IdentityView,
  wallets: readonly MultisigWallet[] = [],
): PsbtAnalysis {
  const { tx, version, entries } = decodedOf(p);
  const accounts = { ...accountsOf(publicKeys), multisig: wallets };
  checkGlobalXpubs(entries.globalXpubVersions, accounts.network);
  try {
    return analyzePsbt(tx, version, accounts, INTENT_ANALYSIS);
  } catch (err) {
    // The library may still throw on a PSBT it decoded (fuzzing found none): refuse it, without its words.
    if (isWardenError(err)) throw err;
    throw new WardenError('INVALID_REQUEST', 'psbt cannot be analyzed', {
      field: 'psbt',
      reason: 'unreadable',
    });
  }
}

/** The module's part of the intent: what `sign` checks and uses (plain JSON, amounts as strings). */
export type SignPsbtDetail = {
  psbtDigest: string;
  network: string;
  fingerprint: string;
  txid: string;
  fee: string;
  vsize: number;
  feeRateMsatPerVb: string;
  /**
   * Each input to sign, its key, and the one sighash type its signature must have; for a 2-of-3
   * input (purpose 48) also the wallet and Warden's public key there (hex), whose signature is checked.
   */
  toSign: {
    input: number;
    purpose: 84 | 86 | 48;
    chain: 0 | 1;
    index: number;
    sighash: number;
    wallet?: string;
    pubkey?: string;
  }[];
  /** The registered wallets the PSBT was judged with (public data): the review judges with the same. */
  wallets?: MultisigWallet[];
  /** The sighash types of the inputs signed: the signer signs with these only. */
  sighashTypes: number[];
};

const PURPOSES = { bip84: 84, bip86: 86, bip48: 48 } as const;

/** The wallet and Warden's key in it at the judged place: what the signature is checked with. */
function multisigSigner(
  wallets: readonly MultisigWallet[],
  key: KeyPath,
): { wallet: string; pubkey: string } {
  const wallet = wallets.find((w) => w.name === key.wallet)!;
  const pub = walletScripts(wallet, key.chain, key.index).pubkeys[wallet.warden]!;
  return { wallet: wallet.name, pubkey: bytesToHex(pub) };
}

/** A wallet as plain JSON (the intent's detail is stored as JSON). */
function plainWallet(w: MultisigWallet): MultisigWallet {
  return {
    name: w.name,
    network: w.network,
    keys: w.keys.map((k) => ({
      fingerprint: k.fingerprint,
      path: [...k.path],
      xpub: k.xpub,
    })) as unknown as MultisigWallet['keys'],
    warden: w.warden,
  };
}

/**
 * The identity's registered wallets that still hold its key: each MAC-checked (a bad row refuses
 * the request, registry.ts), and only those whose Warden key is the identity's current seed (a
 * wallet registered before a seed rotation holds a key Warden no longer signs with).
 */
export async function liveWallets(ctx: {
  identity: string;
  publicKeys: IdentityView;
  tables?: unknown;
  controlPlane?: ControlPlaneMac;
}): Promise<MultisigWallet[]> {
  if (!ctx.tables || !ctx.controlPlane || !ctx.publicKeys.bitcoin) return [];
  const all = await walletsOf(ctx.tables as BitcoinDb, ctx.identity, ctx.controlPlane);
  const fingerprint = ctx.publicKeys.bitcoin.fingerprint;
  return all.filter(
    (w) => w.keys[w.warden]?.fingerprint === fingerprint && w.network === ctx.publicKeys.network,
  );
}

/** Refuses a PSBT whose external outputs are not exactly the declared payees (as a multiset). */
function checkPayTo(p: SignPsbtRequest, analysis: PsbtAnalysis, network: IdentityView['network']): void {
  if (p.payTo === null) return;
  const net = network as Parameters<typeof scriptOfAddress>[1];
  const declared = p.payTo.map((a, i) => bytesToHex(scriptOfAddress(a, net, `payTo[${i}]`))).sort();
  const paid = analysis.outputs
    .filter((o) => o.role === 'external')
    .map((o) => o.script)
    .sort();
  if (declared.length !== paid.length || declared.some((s, i) => s !== paid[i]))
    throw new WardenError(
      'DESTINATION_DENIED',
      'the PSBT does not pay exactly the addresses in payTo (one per external output)',
      { field: 'payTo', declared: declared.length, paid: paid.length },
    );
}

/**
 * Which kind of the identity's wallets the signed inputs spend from: `single_key` (BIP-84/86, where
 * Warden's signature is the only one), `multisig` (a registered 2-of-3, where it is one of two), or
 * `mixed` (both in one transaction, which the spending tiers refuse: a tier is one kind of wallet).
 */
function walletFacet(accounts: readonly string[]): string {
  const multisig = accounts.filter((a) => a === 'bip48').length;
  return multisig === 0 ? 'single_key' : multisig === accounts.length ? 'multisig' : 'mixed';
}

/**
 * What toIntent learned beside the PSBT: its analysis (made first, so that a bad PSBT is refused
 * before anything is asked of a node), the fee environment when a node of the network answered,
 * and the addresses Warden handed out to the identity (absent where no store is open).
 */
export interface SignPsbtFacts {
  analysis?: PsbtAnalysis;
  environment?: FeeEnvironment | null;
  issued?: readonly IssuedAddress[];
}

export function signPsbtIntent(
  identity: string,
  p: SignPsbtRequest,
  publicKeys: IdentityView,
  wallets: readonly MultisigWallet[] = [],
  facts: SignPsbtFacts = {},
): Intent {
  const analysis = facts.analysis ?? analysisOf(p, publicKeys, wallets);
  const environment = facts.environment ?? null;
  checkPayTo(p, analysis, publicKeys.network);
  const paid = analysis.outputs.flatMap((o) => (o.role === 'external' && o.address ? [o.address] : []));
  // NONE/SINGLE signatures leave outputs free to be rewritten (uncommitted.ts): no change is
  // credited beyond what a SINGLE commits to, and the unknown payee keeps allowlists from matching.
  const uncommitted = uncommittedSpend(analysis.inputs, analysis.toSign, analysis.outputs);
  const destinations = [...new Set(uncommitted ? [...paid, UNCOMMITTED_DESTINATION] : paid)];
  const amount =
    uncommitted && uncommitted.atRisk > analysis.externalTotal ? uncommitted.atRisk : analysis.externalTotal;
  const detail: SignPsbtDetail = {
    psbtDigest: psbtDigest(p),
    network: publicKeys.network,
    fingerprint: publicKeys.bitcoin?.fingerprint ?? '',
    txid: analysis.txid,
    fee: analysis.fee.toString(),
    vsize: analysis.vsize,
    feeRateMsatPerVb: analysis.feeRateMsatPerVb.toString(),
    toSign: analysis.toSign.map(({ input, key }) => ({
      input,
      purpose: PURPOSES[key.account],
      chain: key.chain,
      index: key.index,
      sighash: analysis.inputs.find((i) => i.index === input)!.sighash,
      ...(key.account === 'bip48' ? multisigSigner(wallets, key) : {}),
    })),
    ...(wallets.length > 0 ? { wallets: wallets.map(plainWallet) } : {}),
    sighashTypes: [...new Set(analysis.inputs.filter((i) => i.key).map((i) => i.sighash))].sort(
      (a, b) => a - b,
    ),
  };
  return {
    protocol: 'bitcoin',
    action: 'sign_psbt',
    identity,
    asset: 'btc',
    amount,
    destinations,
    maxFee: analysis.fee,
    feeAsset: 'btc',
    payloadDigest: signPsbtDigest(p),
    idempotencyKey: p.idempotencyKey,
    facets: {
      network: publicKeys.network,
      sighash: analysis.sighash,
      amount_proof: analysis.amountProof,
      wallet: walletFacet(analysis.toSign.map((k) => k.key.account)),
      // Quantities rules may cap (policy.ts): the fee, its rate rounded up, the node's estimate.
      ...feeFacets(analysis.fee, analysis.vsize, environment),
    },
    detail,
    signals: {
      ...feeSignals(environment),
      ...(facts.issued === undefined ? {} : { paysOwnAddress: paysOwnAddress(paid, facts.issued) }),
    },
  };
}
