/**
 * EVM's risk catalog rows (Warden's own: the guideline has no EVM; numbers deliberately
 * conservative, each one's reasoning beside it), the selectors they single out, and how its
 * amounts are priced. Scale of the numbers: src/risk/catalog.ts.
 */
import {
  AMOUNT,
  type AmountScale,
  type CatalogEntry,
  DESTINATION,
  facetIn,
  HIGH_FEES,
  type Operation,
  type ProtocolRisks,
} from '../../risk/index.ts';

const PROTOCOL = 'evm';
/** The facet a request carries the function it calls in: selector (lower-case 0x + 8 hex), or null. */
export const FUNCTION_FACET = 'function';

/**
 * EVM selectors that grant a spender power over tokens: approve, increaseAllowance, setApprovalForAll,
 * EIP-2612 permit, DAI-style permit, Permit2 approve. (Replayed against viem's toFunctionSelector in tests.)
 */
export const APPROVAL_SELECTORS: readonly string[] = [
  '0x095ea7b3', // approve(address,uint256)
  '0x39509351', // increaseAllowance(address,uint256)
  '0xa22cb465', // setApprovalForAll(address,bool)
  '0xd505accf', // permit(address,address,uint256,uint256,uint8,bytes32,bytes32)
  '0x8fcbaf0c', // permit(address,address,uint256,uint256,bool,uint8,bytes32,bytes32) (DAI)
  '0x87517c45', // approve(address,address,uint160,uint48) (Permit2)
];

/**
 * Native coin amounts are wei: > 10^18 wei (1 ETH) +1 · > 10^19 wei (10 ETH) +2. They are priced as
 * ETH on every chain: for cheaper native coins that overstates the risk, which is the safe side.
 */
export const WEI_THRESHOLDS = { plusOne: 10n ** 18n, plusTwo: 10n * 10n ** 18n } as const;
export const WEI_SCALE: AmountScale = {
  unit: 'wei',
  ...WEI_THRESHOLDS,
  oneLabel: '1 ETH',
  twoLabel: '10 ETH',
};

const TOKEN_ASSET = /^evm:[^:]*:/;

/**
 * Token amounts (asset `evm:<chainId>:<contract>`) are in the token's own base units and cannot be
 * priced, so they get no amount bump; the approval and contract-call rows cover them. Anything not
 * spelled as a token is treated as the native coin (the safe side).
 */
export function evmAmountScale(asset: string): AmountScale | null {
  return TOKEN_ASSET.test(asset) ? null : WEI_SCALE;
}

const ANY: Operation = { protocol: PROTOCOL, actions: ['send', 'call'] };

export const EVM_ROWS: readonly CatalogEntry[] = [
  {
    // As Bitcoin's wrong address; lower-case EVM addresses carry no checksum of their own.
    id: 'evm.wrong-address',
    name: 'Transaction to wrong address',
    category: 'financial',
    protocol: PROTOCOL,
    severity: 4, // Critical
    likelihood: 1, // Rare
    mitigation:
      'Verify the address via multiple sources and its EIP-55 checksum; allowlist destinations; send a small test first',
    source: 'warden',
    appliesTo: [
      { protocol: PROTOCOL, actions: ['send'], when: [AMOUNT, DESTINATION] },
      { protocol: PROTOCOL, actions: ['call'], when: [DESTINATION] },
    ],
  },
  {
    id: 'evm.wrong-chain-replay',
    name: 'Wrong chain or replay',
    category: 'financial',
    protocol: PROTOCOL,
    severity: 3, // High: funds sent to an address that is not controlled on that chain
    likelihood: 2, // Unlikely: EIP-155 binds signatures to a chain, the chain id is still chosen by the caller
    mitigation:
      "Check chainId against the identity's allowed chains; sign chain-bound (EIP-155/EIP-1559) transactions only",
    source: 'warden',
    appliesTo: [ANY],
  },
  {
    id: 'evm.fee-overpayment',
    name: 'Overpaying fees (maxFeePerGas, gasLimit)',
    category: 'financial',
    protocol: PROTOCOL,
    severity: 2, // Medium
    likelihood: 3, // Possible: generous caps are common and are paid in full during spikes
    mitigation: 'Cap maxFeePerGas and gasLimit against the current base fee; review the total maxFee',
    source: 'warden',
    appliesTo: [ANY],
    raisedBy: [HIGH_FEES],
  },
  {
    id: 'evm.contract-call',
    name: 'Contract call with unreviewed effects',
    category: 'security',
    protocol: PROTOCOL,
    severity: 3, // High
    likelihood: 2, // Unlikely
    mitigation: 'Allowlist contracts and function selectors; simulate the call before signing',
    source: 'warden',
    appliesTo: [{ protocol: PROTOCOL, actions: ['call'] }],
  },
  {
    id: 'evm.token-approval',
    name: 'Token approval to an unknown spender',
    category: 'security',
    protocol: PROTOCOL,
    severity: 4, // Critical: a spender can drain every approved token, now or later
    likelihood: 3, // Possible: the most common wallet-drain path
    mitigation:
      'Approve only allowlisted spenders, for the exact amount, never unlimited; revoke unused approvals',
    source: 'warden',
    // A call whose function is not known to the intent is assumed to be an approval.
    appliesTo: [
      { protocol: PROTOCOL, actions: ['call'], when: [facetIn(FUNCTION_FACET, APPROVAL_SELECTORS)] },
    ],
  },
  {
    id: 'evm.blind-signature',
    name: 'Off-chain signature that authorizes more than it shows',
    category: 'security',
    protocol: PROTOCOL,
    severity: 3, // High: a login in the identity's name, an order or permit signed off-chain
    likelihood: 2, // Unlikely once SIWE is parsed and 32-byte payloads refused by default
    mitigation:
      'Hold message signatures for an operator; parse Sign-In with Ethereum and check its domain, address and expiry; refuse 32-byte payloads unless a rule names them',
    source: 'warden',
    appliesTo: [{ protocol: PROTOCOL, actions: ['sign_message'] }],
  },
  {
    // Same custody as the Bitcoin seed in Warden's vault, hence the same numbers.
    id: 'evm.key-exposure',
    name: 'Private key exposure',
    category: 'security',
    protocol: PROTOCOL,
    severity: 4, // Critical
    likelihood: 1, // Rare
    mitigation: 'Keep the key sealed in the vault; never export it; limit the balance held by hot keys',
    source: 'warden',
    appliesTo: [{ protocol: PROTOCOL }],
  },
];

/** EVM has no safer alternative to offer. */
export const EVM_RISKS: ProtocolRisks = { protocol: PROTOCOL, rows: EVM_ROWS, amountScale: evmAmountScale };
