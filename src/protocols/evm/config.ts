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
import { isLoopbackHost, type Route } from '../../net/http.ts';
import { SPKI_PIN } from '../../net/pin.ts';
import type { EvmConfig } from './index.ts';

export const MAX_RPC_URL_LENGTH = 2048;
const CHAIN_ID_KEY = /^[1-9][0-9]{0,15}$/;

/** The section as warden.yaml holds it once valid (URLs normalized by the WHATWG URL parser). */
export interface EvmSection {
  rpc?: Record<string, string> | undefined;
  via?: 'tor' | 'direct' | undefined;
  pins?: Record<string, string[]> | undefined;
}

/** What of the `tor` section the EVM section needs (config/'s TorSettings has this shape). */
export interface TorRoute {
  socks: { host: string; port: number };
}

/** An http(s) URL without credentials or fragment, normalized (`http://LOCALHOST:8545` → `http://localhost:8545/`). */
function checkRpcUrl(value: string): { url: string } | { problem: string } {
  if (value.length > MAX_RPC_URL_LENGTH) return { problem: `longer than ${MAX_RPC_URL_LENGTH} characters` };
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return { problem: 'not a URL; write http://HOST:PORT/PATH or https://…' };
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    return {
      problem: `only http: and https: JSON-RPC endpoints are supported, not ${url.protocol.slice(0, 20)}`,
    };
  if (url.username !== '' || url.password !== '')
    return { problem: 'credentials in the URL (user:password@) are refused: the net layer never sends them' };
  if (url.hash !== '') return { problem: 'a URL fragment (#…) is never sent; remove it' };
  return { url: url.href };
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
      const checked = checkRpcUrl(value);
      if ('problem' in checked) ctx.addIssue({ code: 'custom', path: [key], message: checked.problem });
    }
  })
  .transform((rpc) => {
    const out: Record<string, string> = {};
    const ids = Object.keys(rpc).sort((a, b) => Number(a) - Number(b));
    for (const id of ids) {
      const checked = checkRpcUrl(rpc[id]!);
      out[id] = 'url' in checked ? checked.url : rpc[id]!;
    }
    return out;
  });

const viaSchema = z.enum(['tor', 'direct'], {
  error: "must be tor or direct (direct: from this machine's own address)",
});

const pinsSchema = z
  .record(
    z.string().regex(CHAIN_ID_KEY, 'a chain id is a positive whole number with no leading zero'),
    z
      .array(
        z.string().regex(SPKI_PIN, 'a pin is base64 of the SHA-256 of the key (44 characters ending in =)'),
        {
          error: 'must be a list of SPKI pins',
        },
      )
      .min(1, 'at least one pin')
      .max(8, 'at most 8 pins'),
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

/** Loopback endpoints need `unsafe.allow_loopback_rpc`, unless the command line named them. */
export function checkEvmSection(
  section: EvmSection,
  context: EvmSectionContext,
): { path: string[]; message: string }[] {
  const problems = [...checkRoute(section, context), ...checkPins(section)];
  if (context.unsafe.allow_loopback_rpc) return problems;
  for (const [chainId, url] of Object.entries(section.rpc ?? {})) {
    if (context.override?.rpc?.[chainId] === url) continue;
    if (isLoopbackHost(new URL(url).hostname))
      problems.push({
        path: ['rpc', chainId],
        message: `${new URL(url).host} is on this machine (loopback): refused unless unsafe.allow_loopback_rpc is true, or the URL is given with --evm-rpc`,
      });
  }
  return problems;
}

/** Tor or direct, and each endpoint consistent with it (see the top of this file). */
function checkRoute(section: EvmSection, context: EvmSectionContext): { path: string[]; message: string }[] {
  const via = section.via ?? (context.tor ? 'tor' : 'direct');
  const urls = Object.entries(section.rpc ?? {});
  if (via === 'tor' && context.tor === null)
    return [{ path: ['via'], message: 'via: tor needs a tor section (socks: IP:PORT, or managed: true)' }];
  if (via === 'tor')
    return urls
      .filter(([, url]) => isLoopbackHost(new URL(url).hostname))
      .map(([chainId, url]) => ({
        path: ['rpc', chainId],
        message: `${new URL(url).host} is on this machine: Tor cannot reach it; set via: direct for this section`,
      }));
  if (context.tor === null || context.unsafe.allow_direct_backends) return [];
  return urls
    .filter(([, url]) => !isLoopbackHost(new URL(url).hostname))
    .map(([chainId, url]) => ({
      path: ['rpc', chainId],
      message: `via: direct would reach ${new URL(url).host} from this machine's own address although Tor is configured: refused unless unsafe.allow_direct_backends is true`,
    }));
}

/** Pins are for https endpoints (a plain-http node has no key to pin) of configured chains. */
function checkPins(section: EvmSection): { path: string[]; message: string }[] {
  return Object.keys(section.pins ?? {}).flatMap((chainId) => {
    const url = section.rpc?.[chainId];
    if (url === undefined)
      return [{ path: ['pins', chainId], message: `no rpc endpoint for chain ${chainId}` }];
    if (!url.startsWith('https:'))
      return [{ path: ['pins', chainId], message: 'only an https endpoint has a key to pin' }];
    return [];
  });
}

/** The module configuration of a valid section (none: no chain, no backend). */
export function evmModuleConfig(
  section: EvmSection | undefined,
  context: { tor: TorRoute | null },
): EvmConfig {
  const rpcUrls = new Map(Object.entries(section?.rpc ?? {}).map(([id, url]) => [Number(id), url] as const));
  const via = section?.via ?? (context.tor ? 'tor' : 'direct');
  const route: Route =
    via === 'tor' && context.tor ? { via: 'tor', socks: { ...context.tor.socks } } : { via: 'direct' };
  const pins = new Map<string, readonly string[]>();
  for (const [chainId, list] of Object.entries(section?.pins ?? {})) {
    const url = rpcUrls.get(Number(chainId));
    if (url !== undefined) pins.set(new URL(url).origin, list);
  }
  return { rpcUrls, route, pins };
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
