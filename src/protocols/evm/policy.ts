/**
 * What policy knows of EVM chains: the actions, how coins, tokens and gas prices are shown, the
 * facets a rule may match on (`chain_id`, `contract`, `function`), the `max_fee_per_gas` cap, and
 * EVM's rules in the ready-made policies.
 */
import { z } from 'zod';
import {
  type AssetUnit,
  formatUnits,
  joinOr,
  oneOfItem,
  type ProtocolVocabulary,
  showInput,
  type TemplateFragments,
} from '../../policy/index.ts';

/** Chains whose native coin is ether (18 decimals), with the names used in explanations. */
export const ETH_NATIVE_CHAINS: ReadonlyMap<number, string> = new Map([
  [1, 'Ethereum'],
  [10, 'OP Mainnet'],
  [324, 'zkSync Era'],
  [8453, 'Base'],
  [42161, 'Arbitrum One'],
  [42170, 'Arbitrum Nova'],
  [59144, 'Linea'],
  [534352, 'Scroll'],
  [1337, 'local dev chain'],
  [17000, 'Holesky'],
  [31337, 'Hardhat'],
  [84532, 'Base Sepolia'],
  [421614, 'Arbitrum Sepolia'],
  [560048, 'Hoodi'],
  [11155111, 'Sepolia'],
  [11155420, 'OP Sepolia'],
]);

/** A gas price: `200 gwei (200000000000 wei)`. */
export function formatGasPrice(wei: bigint): string {
  return `${formatUnits(wei, 9)} gwei (${wei.toString()} wei)`;
}

const ETH: AssetUnit = Object.freeze({
  id: 'eth',
  format: (amount: bigint) => `${formatUnits(amount, 18)} ETH (${amount.toString()} wei)`,
});
/** The native coin of a chain not known to be ether: its decimals are unknown, so plain wei. */
const WEI: AssetUnit = Object.freeze({ id: 'wei', format: (amount: bigint) => `${amount.toString()} wei` });
/** A token's decimals are not known here: base units, naming the token (each token its own unit). */
function tokenUnit(asset: string): AssetUnit {
  return Object.freeze({
    id: `token ${asset}`,
    format: (amount: bigint) => `${amount} base units of ${asset}`,
  });
}

/** `evm:<chainId>` (native coin) or `evm:<chainId>:<contract>` (token), already lower case. */
function unitOf(asset: string): AssetUnit | null {
  const evm = /^evm:([0-9]+)(?::(.+))?$/.exec(asset);
  if (evm === null) return null;
  if (evm[2] !== undefined) return tokenUnit(asset);
  return ETH_NATIVE_CHAINS.has(Number(evm[1])) ? ETH : WEI;
}

function chainName(id: string | number): string {
  const name = ETH_NATIVE_CHAINS.get(Number(id));
  return name === undefined ? String(id) : `${id} (${name})`;
}

const addressSchema = z
  .string({ error: (iss) => `expected a 0x address, got ${showInput(iss.input)}` })
  .regex(/^0x[0-9a-fA-F]{40}$/, { error: (iss) => `bad contract address ${showInput(iss.input)}` });
const selectorSchema = z
  .string({ error: (iss) => `expected a function selector, got ${showInput(iss.input)}` })
  .regex(/^0x[0-9a-fA-F]{8}$/, {
    error: (iss) => `bad function selector ${showInput(iss.input)}; write "0x" and 8 hex digits`,
  });

export const EVM_VOCABULARY: ProtocolVocabulary = Object.freeze({
  name: 'evm',
  title: 'EVM',
  actions: [
    { name: 'send', noun: 'sends' },
    { name: 'call', noun: 'contract calls' },
    { name: 'sign_message', noun: 'message signatures' },
  ],
  countNoun: 'transactions',
  unitOf,
  // No `unit`: a rule over EVM requests without assets may match tokens, so it stays in base units.
  baseUnits: ['wei'],
  facets: [
    {
      name: 'chain_id',
      type: 'number',
      item: z.int().min(1),
      plural: 'chain ids',
      label: 'chain id',
      missing: 'request has no EVM chain id',
      words: (ids) => `on chain ${joinOr(ids.map(chainName))}`,
      example: true,
    },
    {
      name: 'contract',
      type: 'text',
      item: addressSchema,
      plural: 'contract addresses',
      lowerCase: true,
      label: 'contract',
      missing: 'request has no contract',
      words: (contracts) => `to contract ${joinOr(contracts.map(String))}`,
    },
    {
      name: 'function',
      type: 'text',
      item: selectorSchema,
      plural: 'function selectors',
      lowerCase: true,
      label: 'function',
      missing: 'request calls no function',
      words: (selectors) => `calling function ${joinOr(selectors.map(String))}`,
    },
    {
      // What an EIP-191 signature is over (evm.sign_message). A 32-byte payload may be the hash of
      // a transaction or of anything else a dapp wants authorized: only a rule naming it signs it.
      name: 'message_type',
      type: 'text',
      item: oneOfItem(['siwe', 'text', 'bytes', 'hash32'], 'message type'),
      plural: 'message types',
      label: 'message type',
      missing: 'request signs no message',
      words: (types) => `of message type ${joinOr(types.map(String))}`,
      optIn: ['hash32'],
    },
    {
      name: 'siwe_domain',
      type: 'text',
      item: z
        .string({ error: (iss) => `expected a domain, got ${showInput(iss.input)}` })
        .regex(/^[A-Za-z0-9.-]{1,253}(:[0-9]{1,5})?$/, {
          error: (iss) => `bad Sign-In with Ethereum domain ${showInput(iss.input)}`,
        }),
      plural: 'Sign-In with Ethereum domains',
      lowerCase: true,
      label: 'Sign-In with Ethereum domain',
      missing: 'request is not a Sign-In with Ethereum message',
      words: (domains) => `signing in to ${joinOr(domains.map(String))}`,
    },
  ],
  caps: [
    {
      name: 'max_fee_per_gas',
      quantity: 'max fee per gas',
      format: formatGasPrice,
      notApplicable: 'max_fee_per_gas does not apply: not an EVM request',
      remedy: (cap) => `lower maxFeePerGas to at most ${cap} (or wait for cheaper gas)`,
    },
  ],
  feeNote: 'EVM: gas limit × max fee per gas',
  describe(intent, { amount, to }) {
    const { chain_id: chainId, contract, function: fn } = intent.facets;
    const chain = typeof chainId === 'number' ? ` on chain ${chainId}` : '';
    if (intent.action === 'sign_message') {
      const domain = intent.facets.siwe_domain;
      return typeof domain === 'string' ? `signing in to ${domain}${chain}` : `signing a message${chain}`;
    }
    if (intent.action === 'call') {
      const value = intent.amount > 0n ? ` with ${amount}` : '';
      return `calling ${fn ?? 'a function'} on ${contract ?? intent.destinations[0] ?? 'a contract'}${chain}${value}`;
    }
    return `sending ${amount}${chain}${to}`;
  },
} satisfies ProtocolVocabulary);

export const EVM_TEMPLATE_RULES: TemplateFragments = Object.freeze({
  'guidelines-default': `  # EVM: native ETH on Arbitrum One, Ethereum, OP Mainnet and Base. Other chains, tokens and
  # contract calls match no rule and are denied.
  - id: evm-native
    description: native ETH sends on allowed chains
    match:
      protocol: evm
      action: send
      chain_id: [42161, 1, 10, 8453]
      asset: ["evm:42161", "evm:1", "evm:10", "evm:8453"]
    effect: allow
    max_per_tx: "50000000000000000" # 0.05 ETH per transaction
    max_fee_per_gas: "200000000000" # 200 gwei
    new_destination: hold # a first payment to an address needs an operator's approval
    limits:
      - { window: 24h, max_value: "200000000000000000" } # 0.2 ETH per rolling 24 hours, per chain
      - { window: 1h, max_count: 10 }
  # Off-chain signatures log in to sites and may authorize orders or permits: an operator reads
  # each one (a 32-byte payload is refused unless a rule names message_type hash32).
  - id: evm-sign-message
    description: message signatures (EIP-191) need an operator's approval
    match: { protocol: evm, action: sign_message }
    effect: hold
    approvals: 1
`,
});
