/**
 * The Bitcoin module's section of warden.yaml:
 *
 *   protocols:
 *     bitcoin:
 *       nodes:
 *         bitcoin: { api: esplora, url: https://mempool.space/api/ }
 *         regtest: { api: core, url: http://127.0.0.1:18443/, cookie: /home/btc/.bitcoin/regtest/.cookie }
 *       via: tor                      # tor (the default when Tor is configured) | direct
 *       pins: { bitcoin: [BASE64=] }   # optional: SPKI pins of an https node
 *       min_confirmations: 2          # incoming coins count as spendable from this depth (1-100)
 *
 * One node per network an identity lives on. `core` is a Bitcoin Core node (txindex=1) over
 * JSON-RPC, authenticated with its cookie file (read at every call: Core writes a new one at each
 * start); `esplora` an Esplora REST API. Loopback nodes need `unsafe.allow_loopback_rpc`; the Tor
 * and direct rules are the EVM section's (backend-endpoints.ts).
 */
import { readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { z } from 'zod';
import {
  type ConfigProblem,
  checkLoopback,
  checkPins,
  checkRoute,
  endpointUrlSchema,
  pinListSchema,
  pinsByOrigin,
  routeOf,
  type TorRoute,
  viaSchema,
} from '../backend-endpoints.ts';
import type { BitcoinConfig, BitcoinNodeConfig } from './backend.ts';
import { BITCOIN_NETWORK_NAMES, type BitcoinNetwork } from './networks.ts';

export interface BitcoinNodeSection {
  api: 'core' | 'esplora';
  url: string;
  cookie?: string | undefined;
}

export interface BitcoinSection {
  nodes?: Partial<Record<BitcoinNetwork, BitcoinNodeSection>> | undefined;
  via?: 'tor' | 'direct' | undefined;
  pins?: Partial<Record<BitcoinNetwork, string[]>> | undefined;
  min_confirmations?: number | undefined;
}

export const DEFAULT_MIN_CONFIRMATIONS = 2;

const networkSchema = z.enum(BITCOIN_NETWORK_NAMES as [BitcoinNetwork, ...BitcoinNetwork[]], {
  error: `a network is one of ${BITCOIN_NETWORK_NAMES.join(', ')}`,
});

const nodeSchema = z
  .strictObject(
    {
      api: z.enum(['core', 'esplora'], { error: 'api is core (Bitcoin Core JSON-RPC) or esplora (REST)' }),
      url: endpointUrlSchema('must be the URL of the node (text)'),
      cookie: z.string().min(1).max(4096).optional(),
    },
    {
      error: (issue) =>
        issue.code === 'unrecognized_keys'
          ? 'unknown key; the known keys here are: api, url, cookie'
          : undefined,
    },
  )
  .refine((n) => n.api === 'core' || n.cookie === undefined, {
    message: 'cookie is for api: core (an Esplora server takes no credentials)',
    path: ['cookie'],
  });

export const bitcoinSectionSchema: z.ZodType<BitcoinSection> = z.strictObject(
  {
    nodes: z.partialRecord(networkSchema, nodeSchema).optional(),
    via: viaSchema.optional(),
    pins: z.partialRecord(networkSchema, pinListSchema).optional(),
    min_confirmations: z
      .number({ error: 'min_confirmations is a whole number from 1 to 100' })
      .int('min_confirmations is a whole number from 1 to 100')
      .min(1, 'min_confirmations is at least 1 (an unconfirmed coin can be double-spent)')
      .max(100, 'min_confirmations is at most 100')
      .optional(),
  },
  {
    error: (issue) =>
      issue.code === 'unrecognized_keys'
        ? 'unknown key; the known keys here are: nodes, via, pins, min_confirmations'
        : undefined,
  },
);

function endpointsOf(section: BitcoinSection | undefined) {
  return Object.entries(section?.nodes ?? {}).map(([network, node]) => ({
    path: ['nodes', network, 'url'],
    url: node!.url,
  }));
}

export function checkBitcoinSection(
  section: BitcoinSection,
  context: { unsafe: Readonly<Record<string, boolean>>; tor: TorRoute | null },
): ConfigProblem[] {
  const endpoints = endpointsOf(section);
  return [
    ...checkRoute(endpoints, section.via, {
      tor: context.tor,
      allowDirectBackends: context.unsafe.allow_direct_backends === true,
    }),
    ...checkPins(section.pins ?? {}, (n) => section.nodes?.[n as BitcoinNetwork]?.url, 'network'),
    ...checkLoopback(endpoints, context.unsafe.allow_loopback_rpc === true, () => false, ''),
  ];
}

/** `Basic …` from a Core cookie file (`user:password`), read now; null when unreadable or malformed. */
export function cookieAuthorization(file: string): string | null {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch {
    return null;
  }
  try {
    const line = bytes.subarray(0, bytes.includes(0x0a) ? bytes.indexOf(0x0a) : bytes.length);
    if (line.length === 0 || !line.includes(0x3a)) return null;
    return `Basic ${line.toString('base64')}`;
  } finally {
    bytes.fill(0);
  }
}

/** The module configuration of a valid section; `baseDir` resolves a relative cookie path. */
export function bitcoinModuleConfig(
  section: BitcoinSection | undefined,
  context: { tor: TorRoute | null; baseDir?: string },
): BitcoinConfig {
  const nodes = new Map<BitcoinNetwork, BitcoinNodeConfig>();
  for (const [network, node] of Object.entries(section?.nodes ?? {})) {
    const cookie = node!.cookie;
    const file =
      cookie === undefined ? null : isAbsolute(cookie) ? cookie : resolve(context.baseDir ?? '.', cookie);
    nodes.set(network as BitcoinNetwork, {
      api: node!.api,
      url: node!.url,
      authorization: file === null ? () => null : () => cookieAuthorization(file),
    });
  }
  return {
    nodes,
    route: routeOf(section?.via, context.tor),
    pins: pinsByOrigin(section?.pins ?? {}, (n) => section?.nodes?.[n as BitcoinNetwork]?.url),
    minConfirmations: section?.min_confirmations ?? DEFAULT_MIN_CONFIRMATIONS,
  };
}
