import { WardenError } from '../../core/errors.ts';
import type { Intent } from '../../core/intent.ts';
import { type EvmSendRequest, MAX_UINT256 } from './request.ts';

/** A plain native-value transfer always costs exactly 21000 gas. */
export const TRANSFER_GAS_LIMIT = 21_000n;

export interface EvmFees {
  maxFeePerGas: bigint;
  maxPriorityFeePerGas: bigint;
}

/**
 * The fees to use: the caller's where given, the node's estimate otherwise. A caller-given
 * maxFeePerGas caps the estimated tip as well, so that a lone cap is never exceeded.
 */
export function resolveFees(request: EvmSendRequest, estimate: EvmFees): EvmFees {
  const maxFeePerGas = request.maxFeePerGas ?? estimate.maxFeePerGas;
  const tip = request.maxPriorityFeePerGas ?? estimate.maxPriorityFeePerGas;
  const maxPriorityFeePerGas =
    request.maxPriorityFeePerGas === null && tip > maxFeePerGas ? maxFeePerGas : tip;
  checkFees({ maxFeePerGas, maxPriorityFeePerGas });
  return { maxFeePerGas, maxPriorityFeePerGas };
}

function checkFees(fees: EvmFees): void {
  const { maxFeePerGas, maxPriorityFeePerGas } = fees;
  if (maxFeePerGas <= 0n || maxFeePerGas > MAX_UINT256) {
    throw new WardenError('INVALID_AMOUNT', 'maxFeePerGas must be between 1 and 2^256 - 1', {
      field: 'maxFeePerGas',
    });
  }
  if (maxPriorityFeePerGas < 0n || maxPriorityFeePerGas > maxFeePerGas) {
    throw new WardenError('INVALID_AMOUNT', 'maxPriorityFeePerGas must be between 0 and maxFeePerGas', {
      field: 'maxPriorityFeePerGas',
    });
  }
}

/**
 * The Intent of a native-value send. `maxFee` is the most the transaction can burn in gas
 * (gasLimit × maxFeePerGas), so policy sees the worst case, not an estimate.
 */
export function evmSendIntent(
  identity: string,
  parsed: EvmSendRequest,
  fees: EvmFees,
  payloadDigest: string,
  idempotencyKey: string | null,
): Intent {
  checkFees(fees);
  if (!/^[0-9a-f]{64}$/.test(payloadDigest)) {
    throw new WardenError('INVALID_ARGUMENT', 'payloadDigest must be 64 lower-case hex digits (SHA-256)');
  }
  const to = parsed.to.toLowerCase();
  const asset = `evm:${parsed.chainId}`;
  const detail: EvmSendDetail = {
    chainId: parsed.chainId,
    to,
    maxFeePerGas: fees.maxFeePerGas.toString(),
    maxPriorityFeePerGas: fees.maxPriorityFeePerGas.toString(),
    gasLimit: TRANSFER_GAS_LIMIT.toString(),
  };
  return {
    protocol: 'evm',
    action: 'send',
    identity,
    asset,
    amount: parsed.value,
    destinations: [to],
    maxFee: TRANSFER_GAS_LIMIT * fees.maxFeePerGas,
    // Gas is paid in the chain's native coin, the asset a native send moves.
    feeAsset: asset,
    payloadDigest,
    idempotencyKey,
    facets: {
      chain_id: parsed.chainId,
      contract: null,
      function: null,
      max_fee_per_gas: fees.maxFeePerGas,
    },
    detail,
  };
}

/** The EVM part of a send's Intent, as stored with it (amounts as decimal strings of wei). */
export type EvmSendDetail = {
  chainId: number;
  /** Lower-case 0x address of the recipient. */
  to: string;
  maxFeePerGas: string;
  maxPriorityFeePerGas: string;
  gasLimit: string;
};

/** A send's EVM fields with amounts as bigint, read back from its Intent (refused if malformed). */
export function evmSendFields(intent: Intent): {
  chainId: number;
  to: string;
  maxFeePerGas: bigint;
  maxPriorityFeePerGas: bigint;
  gasLimit: bigint;
} {
  const d = intent.detail as Partial<EvmSendDetail>;
  const amount = (v: unknown) =>
    typeof v === 'string' && /^(0|[1-9][0-9]{0,77})$/.test(v) ? BigInt(v) : null;
  const maxFeePerGas = amount(d.maxFeePerGas);
  const maxPriorityFeePerGas = amount(d.maxPriorityFeePerGas);
  const gasLimit = amount(d.gasLimit);
  if (
    intent.protocol !== 'evm' ||
    !Number.isSafeInteger(d.chainId) ||
    typeof d.to !== 'string' ||
    maxFeePerGas === null ||
    maxPriorityFeePerGas === null ||
    gasLimit === null
  ) {
    throw new WardenError('INVALID_ARGUMENT', 'not an EVM send intent', {
      protocol: intent.protocol,
      action: intent.action,
    });
  }
  return { chainId: d.chainId as number, to: d.to, maxFeePerGas, maxPriorityFeePerGas, gasLimit };
}
