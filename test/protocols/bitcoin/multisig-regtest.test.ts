/**
 * Warden as one key of a 2-of-3 wallet, against real peers: bcoin 1.0.2 on regtest (in this
 * process) and Electrum 4.3.4 (Debian python3-electrum) as the independent cosigner. The operator
 * registers wsh(sortedmulti(2, B, Warden, C)) through the gateway's admin service (as the CLI
 * does); Electrum, holding B's xprv and the two other xpubs, derives the same first address; the
 * node mines a coin to it; Warden signs the spend over HTTP with its one partial signature,
 * Electrum adds B's and finalizes, and bcoin's mempool accepts it and mines it. Then the hostile
 * cases: foreign key sets, 1-of-3 and 3-of-3 scripts, a fake multisig change output, a witness
 * script that is not the spent one, and a registered set edited in the database.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { hex } from '@scure/base';
import { HDKey } from '@scure/bip32';
import { p2ms, p2wpkh, p2wsh, Transaction } from '@scure/btc-signer';
import { compareBytes } from '@scure/btc-signer/utils.js';
import { addressOfScript } from '../../../src/protocols/bitcoin/addresses.ts';
import { startBitcoinNode } from '../../helpers/bitcoin-node.ts';
import { electrumCosign, HAS_ELECTRUM, VPRV, VPUB, withVersion } from '../../helpers/electrum.ts';
import { startTestGateway } from '../../helpers/gateway.ts';
import { PAYEE, previousTx, STRANGER } from './fixture.ts';

const fileStarted = performance.now();
const TEST = { private: 0x04358394, public: 0x043587cf };
const PATH = "m/48'/1'/0'/2'";
const HARD = 0x80000000;
const ACCOUNT_PATH = [48 + HARD, 1 + HARD, HARD, 2 + HARD];
const POLICY = `
version: 1
name: multisig
risk: { tolerance: high }
new_destination: allow
rules:
  - id: psbt
    match: { protocol: bitcoin, action: sign_psbt }
    effect: allow
    max_per_tx: 5000000000
`;
const FEE = 2_000n;
const MINER = p2wpkh(STRANGER.derive("m/84'/1'/0'/0/9").publicKey!).script;

/** The cosigners: B (Electrum holds its xprv), C (cold: only its xpub is anywhere), D (a stranger). */
const seedRoot = (fill: number) => HDKey.fromMasterSeed(new Uint8Array(32).fill(fill), TEST);
const [B, C, D] = [seedRoot(21), seedRoot(22), seedRoot(23)];
const fpHex = (r: HDKey) => r.fingerprint.toString(16).padStart(8, '0');
const acct = (r: HDKey) => r.derive(PATH);

const node = await startBitcoinNode();
const g = await startTestGateway({ identities: ['alice'], policies: { alice: POLICY } });
const agent = await g.token('agent', { identity: 'alice', capabilities: ['bitcoin:sign_psbt'] });
const operator = g.gateway.access.localOperator(g.warden.actor);
const admin = (name: string, args: unknown) => g.gateway.admin.moduleAction(operator, name, 'alice', args);

const created = (await admin('bitcoin.multisig.create', {
  name: 'vault',
  // B as Electrum shows it (SLIP-132 Vpub, apostrophes), C as a plain tpub.
  cosigners: [
    `${withVersion(acct(B).publicExtendedKey, VPUB)}@${fpHex(B)}/48'/1'/0'/2'`,
    `${acct(C).publicExtendedKey}@${fpHex(C)}/48h/1h/0h/2h`,
  ],
})) as any;
const WARDEN_XPUB = created.keys[1].xpub as string;
const WARDEN_FP = g.warden.showIdentity('alice').bitcoin!.fingerprint;
const W = HDKey.fromExtendedKey(WARDEN_XPUB, TEST);

/** Keys of a key set at chain/index, with the origins a PSBT claims for them. */
type Member = { node: HDKey; fp: number };
const members = (...nodes: [HDKey, string | number][]): Member[] =>
  nodes.map(([node, fp]) => ({ node, fp: typeof fp === 'string' ? Number.parseInt(fp, 16) : fp }));
const REGISTERED = members([acct(B), B.fingerprint], [W, WARDEN_FP], [acct(C), C.fingerprint]);
/** The same fingerprints and paths, C's key swapped for the stranger D's. */
const FOREIGN = members([acct(B), B.fingerprint], [W, WARDEN_FP], [acct(D), C.fingerprint]);

function multisig(set: Member[], chain: number, index: number, m = 2) {
  const pubs = set.map((k) => k.node.deriveChild(chain).deriveChild(index).publicKey!);
  const ms = p2ms(m, [...pubs].sort(compareBytes));
  return {
    witnessScript: ms.script,
    script: p2wsh(ms).script,
    bip32Derivation: set.map(
      (k, i) =>
        [pubs[i]!, { fingerprint: k.fp, path: [...ACCOUNT_PATH, chain, index] }] as [
          Uint8Array,
          { fingerprint: number; path: number[] },
        ],
    ),
  };
}

const electrumKeys = [
  { xkey: withVersion(acct(B).privateExtendedKey, VPRV), path: PATH, fp: fpHex(B) },
  { xkey: withVersion(WARDEN_XPUB, VPUB), path: PATH, fp: WARDEN_FP },
  { xkey: withVersion(acct(C).publicExtendedKey, VPUB), path: PATH, fp: fpHex(C) },
];

const receive = multisig(REGISTERED, 0, 0);
const [coinbaseBlock] = await node.mine(1, receive.script);
const coinbaseTxid = (await node.rpc('getblock', [coinbaseBlock, true, false])).tx[0] as string;
const coinbaseRaw = await node.rawTransaction(coinbaseTxid);
const coinAmount = Transaction.fromRaw(coinbaseRaw, { allowUnknownOutputs: true }).getOutput(0).amount!;
await node.activateSegwit(MINER);
const setupMs = Math.round(performance.now() - fileStarted);

type Spent = {
  txid: string;
  raw: Uint8Array;
  vout: number;
  amount: bigint;
  input: ReturnType<typeof multisig>;
};
const REAL: Spent = { txid: coinbaseTxid, raw: coinbaseRaw, vout: 0, amount: coinAmount, input: receive };

/** A PSBT spending `spent` to PAYEE, with `change` (a multisig set's script at 1/0) when given. */
function psbtOf(
  spent: Spent,
  change?: ReturnType<typeof multisig>,
  witnessScript = spent.input.witnessScript,
) {
  // Script checks off: the hostile cases hand Warden what the library would not build.
  const tx = new Transaction({ allowUnknownOutputs: true, disableScriptCheck: true });
  tx.addInput({
    txid: spent.txid,
    index: spent.vout,
    nonWitnessUtxo: spent.raw,
    witnessScript,
    bip32Derivation: spent.input.bip32Derivation,
  });
  const pay = 100_000n;
  tx.addOutput({ script: PAYEE, amount: pay });
  if (change)
    tx.addOutput({
      script: change.script,
      amount: spent.amount - pay - FEE,
      witnessScript: change.witnessScript,
      bip32Derivation: change.bip32Derivation,
    });
  return Buffer.from(tx.toPSBT()).toString('base64');
}

/** A coin of a script that exists only in a previous transaction we made (enough for refusals). */
function madeUp(input: ReturnType<typeof multisig>): Spent {
  const prev = previousTx(input.script, 1_000_000n);
  return { txid: hex.encode(prev.txid), raw: prev.raw, vout: 0, amount: 1_000_000n, input };
}

const sign = (psbt: string, payTo?: string[]) =>
  g.call('POST', '/v1/bitcoin/sign-psbt', { token: agent, body: { psbt, ...(payTo ? { payTo } : {}) } });
const PAYEE_ADDRESS = addressOfScript(PAYEE, 'regtest')!;

test('registration: the descriptor with its checksum, Warden’s BIP-48 key, audited; Electrum derives the same address', {
  skip: !HAS_ELECTRUM && 'python3-electrum is not installed',
}, async () => {
  assert.match(
    created.receiveDescriptor,
    /^wsh\(sortedmulti\(2,\[[0-9a-f]{8}\/48h\/1h\/0h\/2h\]tpub[^,]+\/0\/\*,.+\)\)#[a-z0-9]{8}$/,
  );
  assert.equal(created.keys[1].fingerprint, WARDEN_FP);
  assert.equal(created.keys[1].role, 'warden');
  assert.equal(created.firstAddress, addressOfScript(receive.script, 'regtest'));
  const electrum = await electrumCosign(electrumKeys);
  assert.equal(
    electrum.firstAddress,
    created.firstAddress,
    'Electrum derives the same first receive address',
  );
  const audit = await g.warden.store.db
    .selectFrom('audit_log')
    .select(['action', 'outcome'])
    .where('action', '=', 'bitcoin.multisig.create')
    .execute();
  assert.deepEqual(audit, [{ action: 'bitcoin.multisig.create', outcome: 'ok' }]);
  const shown = (await admin('bitcoin.multisig.show', { name: 'vault' })) as any;
  assert.equal(shown.receiveDescriptor, created.receiveDescriptor);
  assert.equal(((await admin('bitcoin.multisig.list', {})) as any[]).length, 1);
});

test('registration refuses Warden’s own key as a cosigner, a taken name and a duplicate cosigner', async () => {
  const own = `${WARDEN_XPUB}@${WARDEN_FP}/48h/1h/0h/2h`;
  const c = `${acct(C).publicExtendedKey}@${fpHex(C)}/48h/1h/0h/2h`;
  const cases: [unknown, string][] = [
    [{ name: 'other', cosigners: [own, c] }, 'own_key'],
    [{ name: 'vault', cosigners: [`${acct(D).publicExtendedKey}@${fpHex(D)}/48h/1h/0h/2h`, c] }, 'exists'],
    [{ name: 'other', cosigners: [c, c] }, 'duplicate'],
  ];
  for (const [args, reason] of cases)
    await assert.rejects(admin('bitcoin.multisig.create', args), (err: any) => {
      assert.equal(err.code, 'INVALID_ARGUMENT');
      assert.equal(err.details.reason, reason);
      return true;
    });
});

test('Warden adds its one signature; Electrum adds B’s and finalizes; bcoin accepts and mines the spend', {
  skip: !HAS_ELECTRUM && 'python3-electrum is not installed',
}, async () => {
  const change = multisig(REGISTERED, 1, 0);
  const res = await sign(psbtOf(REAL, change), [PAYEE_ADDRESS]);
  assert.equal(res.status, 200, JSON.stringify(res.body));
  const result = res.body.request.result;
  assert.deepEqual(result.signedInputs, [0]);
  assert.equal(result.fee, FEE.toString());
  const signed = Transaction.fromPSBT(Buffer.from(result.psbt, 'base64'));
  const input = signed.getInput(0);
  assert.equal(input.partialSig?.length, 1, 'one partial signature: Warden’s');
  assert.equal(hex.encode(input.partialSig![0]![0]), hex.encode(W.deriveChild(0).deriveChild(0).publicKey!));
  assert.equal(input.finalScriptWitness, undefined, 'Warden never finalizes a multisig input');

  const electrum = await electrumCosign(electrumKeys, result.psbt);
  assert.equal(electrum.sigsBefore, 1);
  assert.equal(electrum.complete, true, JSON.stringify(electrum));
  const raw = hex.decode(electrum.raw!);
  assert.equal(await node.submit(raw), result.txid, 'bcoin’s mempool accepts the 2-of-3 spend');
  const confirmation = await node.confirm(result.txid, MINER);
  assert.equal(confirmation.confirmations, 1);
  const mined = Transaction.fromRaw(await node.rawTransaction(result.txid), { allowUnknownOutputs: true });
  assert.deepEqual(mined.getOutput(1).script, change.script, 'the change went back to the wallet’s 1/0');
});

test('hostile multisig PSBTs get no signature, with stable codes and never a 5xx', async () => {
  const refused = async (psbt: string, code: string, payTo?: string[], reason?: string) => {
    const res = await sign(psbt, payTo);
    assert.ok(res.status >= 400 && res.status < 500, `${code}: ${res.status} ${JSON.stringify(res.body)}`);
    assert.equal(res.body.error.code, code, JSON.stringify(res.body));
    if (reason) assert.equal(res.body.error.details.reason, reason);
  };
  // The registered fingerprints and paths claimed for a script of another key set.
  await refused(psbtOf(madeUp(multisig(FOREIGN, 0, 0))), 'NOTHING_TO_SIGN');
  // The registered keys in a 1-of-3 (any one holder could spend) or a 3-of-3.
  await refused(psbtOf(madeUp(multisig(REGISTERED, 0, 1, 1))), 'NOTHING_TO_SIGN');
  await refused(psbtOf(madeUp(multisig(REGISTERED, 0, 1, 3))), 'NOTHING_TO_SIGN');
  // Ours by its script, but the witness script handed to the signer is another one: the PSBT
  // decoder (@scure/btc-signer checks it hashes to the P2WSH program) refuses it first;
  // own-inputs.ts checks it again against the re-derived one.
  const ours = madeUp(multisig(REGISTERED, 0, 2));
  await refused(
    psbtOf(ours, undefined, multisig(REGISTERED, 0, 2, 1).witnessScript),
    'INVALID_REQUEST',
    undefined,
    'not_psbt',
  );
  // A fake change output (right fingerprints, wrong keys) is a payment: payTo then does not match.
  await refused(psbtOf(ours, multisig(FOREIGN, 1, 0)), 'DESTINATION_DENIED', [PAYEE_ADDRESS]);
  // The same with real change is signed (so the refusal above is the fake change's).
  const real = await sign(psbtOf(ours, multisig(REGISTERED, 1, 1)), [PAYEE_ADDRESS]);
  assert.equal(real.status, 200, JSON.stringify(real.body));
});

test('a registered set edited in the database is refused: CONTROL_PLANE_TAMPERED, nothing signed', async () => {
  const psbt = psbtOf(madeUp(multisig(REGISTERED, 0, 3)), multisig(REGISTERED, 1, 3));
  assert.equal((await sign(psbt, [PAYEE_ADDRESS])).status, 200);
  // C's key replaced by the stranger's, as someone with the database but not the vault would.
  const db = g.warden.store.db as any;
  const row = await db.selectFrom('bitcoin_multisig').selectAll().executeTakeFirstOrThrow();
  await db
    .updateTable('bitcoin_multisig')
    .set({ keys: row.keys.replace(acct(C).publicExtendedKey, acct(D).publicExtendedKey) })
    .execute();
  const res = await sign(psbt, [PAYEE_ADDRESS]);
  assert.equal(res.status, 409, JSON.stringify(res.body));
  assert.equal(res.body.error.code, 'CONTROL_PLANE_TAMPERED');
  await assert.rejects(admin('bitcoin.multisig.list', {}), { code: 'CONTROL_PLANE_TAMPERED' });
  console.log(
    `# multisig regtest: setup ${setupMs} ms, file ${Math.round(performance.now() - fileStarted)} ms`,
  );
});
