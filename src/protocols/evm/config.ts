/**
 * The EVM module's section of warden.yaml and its command-line flag:
 *
 *   protocols:
 *     evm:
 *       rpc:
 *         42161: https://arb1.example/v2/KEY     # chain id → JSON-RPC endpoint, http(s) only
 *
 * becomes the module configuration `{ rpcUrls: Map<chainId, url> }` (what `backend()` reads). A
 * node on this machine (loopback) is refused unless `unsafe.allow_loopback_rpc: true`, or the URL
 * is named on the command line (`--evm-rpc 31337=http://127.0.0.1:8545`): naming it there is the
 * operator's explicit opt-in, as it always was.
 */
import { z } from 'zod';
import { WardenError } from '../../core/errors.ts';
import { isLoopbackHost } from '../../net/http.ts';
import type { EvmConfig } from './index.ts';

export const MAX_RPC_URL_LENGTH = 2048;
const CHAIN_ID_KEY = /^[1-9][0-9]{0,15}$/;

/** The section as warden.yaml holds it once valid (URLs normalized by the WHATWG URL parser). */
export interface EvmSection {
  rpc?: Record<string, string> | undefined;
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

export const evmSectionSchema: z.ZodType<EvmSection> = z.strictObject(
  { rpc: rpcSchema.optional() },
  {
    error: (issue) =>
      issue.code === 'unrecognized_keys' ? 'unknown key; the known keys here are: rpc' : undefined,
  },
);

/** What the check is told by config/: the unsafe options and the command-line override. */
export interface EvmSectionContext {
  unsafe: { readonly allow_loopback_rpc: boolean };
  override: EvmSection | undefined;
}

/** Loopback endpoints need `unsafe.allow_loopback_rpc`, unless the command line named them. */
export function checkEvmSection(
  section: EvmSection,
  context: EvmSectionContext,
): { path: string[]; message: string }[] {
  if (context.unsafe.allow_loopback_rpc) return [];
  const problems: { path: string[]; message: string }[] = [];
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

/** The module configuration of a valid section (none: no chain, no backend). */
export function evmModuleConfig(section: EvmSection | undefined): EvmConfig {
  return {
    rpcUrls: new Map(Object.entries(section?.rpc ?? {}).map(([id, url]) => [Number(id), url] as const)),
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
