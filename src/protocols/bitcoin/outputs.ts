/**
 * Each output, judged: change (re-derives from the identity's internal chain), external (anyone
 * else, the identity's own receive addresses included: only change comes back), or data
 * (OP_RETURN). Outputs of no standard type are refused; so are dust outputs, at Bitcoin Core's
 * dust thresholds (dustRelayFee 3 sat/vB, the size of the output plus of the input that would
 * spend it), and OP_RETURN outputs carrying more than 80 bytes of data (Core's long-standing
 * datacarrier default), carrying any value, or more than one of them.
 */
import { hex } from '@scure/base';
import { OutScript, Script, type Transaction } from '@scure/btc-signer';
import { WardenError } from '../../core/errors.ts';
import { type BitcoinAccounts, type DerivationBudget, type KeyPath, ownerOf } from './accounts.ts';
import { addressOfScript } from './addresses.ts';
import { MAX_MONEY } from './input-amounts.ts';

/** Bitcoin Core's GetDustThreshold at the default dustRelayFee (3,000 sat/kvB), per script type. */
export const DUST_THRESHOLDS: Readonly<Record<string, bigint>> = Object.freeze({
  pkh: 546n,
  sh: 540n,
  wpkh: 294n,
  wsh: 330n,
  tr: 330n,
});

/** The most data bytes an OP_RETURN output may push. */
export const MAX_DATA_BYTES = 80;

const OP_RETURN = 0x6a;

/**
 * Change is only an internal-chain key below this index. A wallet finds its change by scanning the
 * chain up to a gap limit past the last used index; money sent to m/…/1/2147483647 re-derives, but
 * no wallet will ever look there, so counting it as change would let an agent move funds out of
 * sight, uncounted. A fixed bound until Warden tracks the used indexes (a gap limit per account
 * will replace it); above it the output counts as external, spent.
 */
export const CHANGE_INDEX_LIMIT = 1000;

export type OutputRole = 'change' | 'external' | 'data';

export interface JudgedOutput {
  index: number;
  role: OutputRole;
  amount: bigint;
  /** Hex of the output script. */
  script: string;
  /** The address on the identity's network; null for data outputs. */
  address: string | null;
  /** Where the change key is (change outputs only). */
  key: KeyPath | null;
}

/** The bytes an OP_RETURN script pushes, or null when it is more than OP_RETURN and pushes. */
function dataBytes(script: Uint8Array): number | null {
  let ops: readonly unknown[];
  try {
    ops = Script.decode(script) as readonly unknown[];
  } catch {
    return null;
  }
  let total = 0;
  for (const op of ops.slice(1)) {
    if (op instanceof Uint8Array) total += op.length;
    else if (typeof op === 'number')
      total += op === 0 ? 0 : 1; // OP_0 pushes nothing, OP_1..16 a small number
    else return null;
  }
  return total;
}

export function judgeOutputs(
  tx: Transaction,
  accounts: BitcoinAccounts,
  budget: DerivationBudget,
): JudgedOutput[] {
  let dataOutputs = 0;
  return Array.from({ length: tx.outputsLength }, (_, index) => {
    const output = tx.getOutput(index);
    const script = output.script;
    const amount = output.amount;
    if (!script || amount === undefined)
      throw new WardenError('OUTPUT_UNSUPPORTED', `output ${index} has no script or amount`, {
        output: index,
      });
    if (amount < 0n || amount > MAX_MONEY)
      throw new WardenError('INVALID_AMOUNT', `output ${index}: amount out of range`, { output: index });
    if (script[0] === OP_RETURN) {
      const bytes = dataBytes(script);
      if (bytes === null)
        throw new WardenError(
          'OUTPUT_UNSUPPORTED',
          `output ${index}: OP_RETURN followed by more than data pushes`,
          {
            output: index,
          },
        );
      if (bytes > MAX_DATA_BYTES)
        throw new WardenError(
          'DATA_OUTPUT_TOO_LARGE',
          `output ${index} carries ${bytes} bytes of OP_RETURN data, more than ${MAX_DATA_BYTES}`,
          { output: index, bytes, cap: MAX_DATA_BYTES },
        );
      // Value in a data output is burned and has no destination, so no allowlist would ever see it.
      if (amount > 0n)
        throw new WardenError(
          'OUTPUT_UNSUPPORTED',
          `output ${index}: an OP_RETURN output carrying ${amount} sat`,
          {
            output: index,
            type: 'op_return',
            reason: 'data_output_value',
          },
        );
      // The 80-byte cap is per output; Bitcoin Core relays one data output per transaction.
      if (++dataOutputs > 1)
        throw new WardenError('OUTPUT_UNSUPPORTED', `output ${index}: a second OP_RETURN output`, {
          output: index,
          type: 'op_return',
          reason: 'second_data_output',
        });
      return { index, role: 'data', amount, script: hex.encode(script), address: null, key: null };
    }
    let type: string;
    try {
      type = OutScript.decode(script).type;
    } catch {
      type = 'unknown';
    }
    const threshold = DUST_THRESHOLDS[type];
    const address = addressOfScript(script, accounts.network);
    if (threshold === undefined || address === null)
      throw new WardenError('OUTPUT_UNSUPPORTED', `output ${index} pays to a script of no standard type`, {
        output: index,
        type,
      });
    if (amount < threshold)
      throw new WardenError(
        'DUST_OUTPUT',
        `output ${index} pays ${amount} sat, below the dust threshold of ${threshold} sat for its type`,
        { output: index, amount: amount.toString(), threshold: threshold.toString(), type },
      );
    const key = ownerOf(accounts, script, output, budget);
    const change = key !== null && key.chain === 1 && key.index < CHANGE_INDEX_LIMIT;
    return {
      index,
      role: change ? 'change' : 'external',
      amount,
      script: hex.encode(script),
      address,
      key: change ? key : null,
    };
  });
}
