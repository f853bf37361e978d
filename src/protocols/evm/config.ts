/**
 * The EVM module's section of warden.yaml and its command-line flag:
 *
 *   protocols:
 *     evm:
 *       rpc:
 *         42161: https://arb1.example/v2/KEY     # chain id → JSON-RPC endpoint, http(s) only
 *       via: tor                                 # tor (the default when Tor is configured) | direct
 *       pins:
 *         42161: [BASE64-SHA256-OF-SPKI=]        # optional: the node's public key must be one of these
 *
 * becomes the module configuration `{ rpcUrls: Map<chainId, url> }` (what `backend()` reads). A
 * node on this machine (loopback) is refused unless `unsafe.allow_loopback_rpc: true`, or the URL
 * is named on the command line (`--evm-rpc 31337=http://127.0.0.1:8545`): naming it there is the
 * operator's explicit opt-in, as it always was.
 *
 * With a `tor` section the nodes are reached through Tor; `via: direct` opts out, which for a node
 * that is not on this machine also needs `unsafe.allow_direct_backends` (the node would see
 * Warden's address). A node on this machine is never reached through Tor (an exit cannot reach
 * it): with Tor configured it needs `via: direct`.
 */
import { z } from 'zod';
import { WardenError } from '../../core/errors.ts';
import {
  type ConfigProblem,
  checkEndpointUrl,
  checkLoopback,
  checkPins,
  checkRoute,
  type Endpoint,
  MAX_ENDPOINT_URL_LENGTH,
  pinListSchema,
  pinsByOrigin,
  routeOf,
  type TorRoute,
  viaSchema,
} from '../backend-endpoints.ts';
import type { EvmConfig } from './index.ts';

export type { TorRoute };

export const MAX_RPC_URL_LENGTH = MAX_ENDPOINT_URL_LENGTH;
const CHAIN_ID_KEY = /^[1-9][0-9]{0,15}$/;

/** The section as warden.yaml holds it once valid (URLs normalized by the WHATWG URL parser). */
export interface EvmSection {
  rpc?: Record<string, string> | undefined;
  via?: 'tor' | 'direct' | undefined;
  pins?: Record<string, string[]> | undefined;
}

const rpcSchema = z
  .record(z.string(), z.string({ error: 'must be the URL of a JSON-RPC endpoint (text)' }), {
    error: 'rpc maps chain ids to URLs, e.g. 42161: https://…',
  })
  .superRefine((rpc, ctx) => {
    for (const [key, value] of Object.entries(rpc)) {
      if (!CHAIN_ID_KEY.test(key) || !Number.isSafeInteger(Number(key))) {
        ctx.addIssue({
          code: 'custom',
          path: [key],
          message: `a chain id is a positive whole number with no leading zero (e.g. 42161), not "${key.slice(0, 40)}"`,
        });
        continue;
      }
      const checked = checkEndpointUrl(value);
      if ('problem' in checked) ctx.addIssue({ code: 'custom', path: [key], message: checked.problem });
    }
  })
  .transform((rpc) => {
    const out: Record<string, string> = {};
    const ids = Object.keys(rpc).sort((a, b) => Number(a) - Number(b));
    for (const id of ids) {
      const checked = checkEndpointUrl(rpc[id]!);
      out[id] = 'url' in checked ? checked.url : rpc[id]!;
    }
    return out;
  });

const pinsSchema = z
  .record(
    z.string().regex(CHAIN_ID_KEY, 'a chain id is a positive whole number with no leading zero'),
    pinListSchema,
    { error: 'pins maps chain ids to lists of SPKI pins' },
  )
  .optional();

export const evmSectionSchema: z.ZodType<EvmSection> = z.strictObject(
  { rpc: rpcSchema.optional(), via: viaSchema.optional(), pins: pinsSchema },
  {
    error: (issue) =>
      issue.code === 'unrecognized_keys' ? 'unknown key; the known keys here are: rpc, via, pins' : undefined,
  },
);

/** What the check is told by config/: the unsafe options and the command-line override. */
export interface EvmSectionContext {
  unsafe: { readonly allow_loopback_rpc: boolean; readonly allow_direct_backends: boolean };
  override: EvmSection | undefined;
  tor: TorRoute | null;
}

/** The section's endpoints, by their place in it. */
function endpointsOf(section: EvmSection | undefined): Endpoint[] {
  return Object.entries(section?.rpc ?? {}).map(([chainId, url]) => ({ path: ['rpc', chainId], url }));
}

/** Loopback endpoints need `unsafe.allow_loopback_rpc`, unless the command line named them. */
export function checkEvmSection(section: EvmSection, context: EvmSectionContext): ConfigProblem[] {
  const endpoints = endpointsOf(section);
  return [
    ...checkRoute(endpoints, section.via, {
      tor: context.tor,
      allowDirectBackends: context.unsafe.allow_direct_backends,
    }),
    ...checkPins(section.pins ?? {}, (chainId) => section.rpc?.[chainId], 'chain'),
    ...checkLoopback(
      endpoints,
      context.unsafe.allow_loopback_rpc,
      (e) => context.override?.rpc?.[e.path[1]!] === e.url,
      ', or the URL is given with --evm-rpc',
    ),
  ];
}

/** The module configuration of a valid section (none: no chain, no backend). */
export function evmModuleConfig(
  section: EvmSection | undefined,
  context: { tor: TorRoute | null },
): EvmConfig {
  const rpcUrls = new Map(Object.entries(section?.rpc ?? {}).map(([id, url]) => [Number(id), url] as const));
  return {
    rpcUrls,
    route: routeOf(section?.via, context.tor),
    pins: pinsByOrigin(section?.pins ?? {}, (chainId) => section?.rpc?.[chainId]),
  };
}

/** `--evm-rpc 42161=http://…` (repeatable) as a section override; same form errors as always. */
export function evmSectionFromFlags(values: readonly string[]): EvmSection | undefined {
  if (values.length === 0) return undefined;
  const rpc: Record<string, string> = {};
  for (const v of values) {
    const m = /^([1-9][0-9]{0,15})=(https?:\/\/.+)$/.exec(v);
    if (!m || !Number.isSafeInteger(Number(m[1])))
      throw new WardenError('USAGE', `--evm-rpc takes CHAINID=URL, got "${v.slice(0, 80)}"`);
    rpc[m[1]!] = m[2]!;
  }
  return { rpc };
}
