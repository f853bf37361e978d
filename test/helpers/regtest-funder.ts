import { randomBytes } from 'node:crypto';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { p2wpkh, Transaction } from '@scure/btc-signer';
import type { BitcoinNode } from './bitcoin-node.ts';
import type { Funding } from './ldk-peer.ts';

/**
 * The coins that fund the Lightning tests' channels: one fresh P2WPKH key, paid by the coinbases
 * of the regtest blocks (bcoin mines to its script), each channel funded by a coinbase of its own
 * so that two channels opened at once never spend the same coin. Transactions are built and
 * signed by @scure/btc-signer; bcoin's wallet is not used.
 */

/** Flat: one input, two P2WPKH outputs are ~141 vB; 1,000 sat is ~7 sat/vB, above any regtest minimum. */
const FUNDING_FEE_SAT = 1_000n;
/** Coinbases mature after 100 blocks; the early ones are long mature after segwit's ~430. */
const FIRST_COINBASE_HEIGHT = 1;

interface Coin {
  txid: string;
  amount: bigint;
}

export interface RegtestFunder extends Funding {
  script: Uint8Array;
  /** Reads `count` mature coinbases of blocks mined to `script` (call once the chain is mined). */
  load(count: number): Promise<void>;
}

export function createRegtestFunder(bitcoin: BitcoinNode): RegtestFunder {
  const key = new Uint8Array(randomBytes(32));
  const script = p2wpkh(secp256k1.getPublicKey(key, true)).script;
  const coins: Coin[] = [];

  return {
    script,
    async load(count) {
      for (let height = FIRST_COINBASE_HEIGHT; height < FIRST_COINBASE_HEIGHT + count; height++) {
        const block = await bitcoin.rpc('getblock', [
          await bitcoin.rpc('getblockhash', [height]),
          true,
          false,
        ]);
        const txid = (block.tx as string[])[0]!;
        const coinbase = Transaction.fromRaw(await bitcoin.rawTransaction(txid), {
          allowUnknownOutputs: true,
        });
        const out = coinbase.getOutput(0);
        if (!out.script || Buffer.compare(Buffer.from(out.script), Buffer.from(script)) !== 0)
          throw new Error(`the coinbase of block ${height} does not pay the funder`);
        coins.push({ txid, amount: out.amount! });
      }
    },
    fund(to, amountSat) {
      const coin = coins.shift();
      if (!coin) throw new Error('the funder has no coin left: load more');
      const change = coin.amount - amountSat - FUNDING_FEE_SAT;
      if (change < 0n) throw new Error(`a coin of ${coin.amount} sat cannot fund ${amountSat} sat`);
      const tx = new Transaction({ version: 2 });
      tx.addInput({ txid: coin.txid, index: 0, witnessUtxo: { script, amount: coin.amount } });
      tx.addOutput({ script: to, amount: amountSat });
      tx.addOutput({ script, amount: change });
      tx.sign(key);
      tx.finalize();
      return tx.extract();
    },
  };
}
