/**
 * The Lightning module's section of warden.yaml:
 *
 *   protocols:
 *     lightning:
 *       backend: lnd                      # lnd (its REST API) | cln (Core Lightning's clnrest) | nwc
 *       url: https://127.0.0.1:8080/      # lnd's REST listener (clnrest: https://127.0.0.1:3010/;
 *                                         #   nwc: the wallet's relay, wss://relay.example/)
 *       via: direct                       # tor (the default when Tor is configured) | direct
 *       pins: [BASE64=]                   # optional: SPKI pins of the node's https certificate
 *       timeout_seconds: 60               # how long the node may look for routes (1-3600; CLN's retry_for)
 *       wait_seconds: 90                  # how long a request waits for its end (default timeout + 30)
 *       monitor_seconds: 60               # how often a running server reads the channels (10-3600)
 *
 * The credential is not here: it is the identity's sealed Lightning slot (`warden identity lightning
 * NAME --kind macaroon|rune|nwc --credential-file F`: a macaroon for lnd, a rune for CLN, the
 * wallet's `nostr+walletconnect://` URI for nwc), lent to one
 * execution at a time. A loopback node needs
 * `unsafe.allow_loopback_rpc`; the Tor and direct rules are every backend's (backend-endpoints.ts).
 */
import { z } from 'zod';
import {
  type ConfigProblem,
  checkEndpointUrl,
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
import type { LightningBackendKind } from './backend/backend.ts';
import { DEFAULT_MONITOR_SECONDS, type LightningConfig } from './backend/connect.ts';

export interface LightningSection {
  backend: LightningBackendKind;
  url: string;
  via?: 'tor' | 'direct' | undefined;
  pins?: string[] | undefined;
  timeout_seconds?: number | undefined;
  wait_seconds?: number | undefined;
  monitor_seconds?: number | undefined;
}

export const DEFAULT_TIMEOUT_SECONDS = 60;
/** Past the node's timeout an HTLC already out may still settle: the request follows it this long more. */
export const DEFAULT_WAIT_EXTRA_SECONDS = 30;

const seconds = (field: string, min = 1) =>
  z
    .number({ error: `${field} is a whole number of seconds from ${min} to 3600` })
    .int(`${field} is a whole number of seconds from ${min} to 3600`)
    .min(min, `${field} is at least ${min}`)
    .max(3600, `${field} is at most 3600`)
    .optional();

/** The channel monitor reads the node no more often than this: it is one call per period, shared. */
export const MIN_MONITOR_SECONDS = 10;

/** An NWC wallet's relay: ws:// or wss://, checked as an endpoint is (its http twin), kept as written. */
function checkRelayUrl(value: string): { url: string } | { problem: string } {
  const checked = checkEndpointUrl(value.replace(/^ws(s?):/i, 'http$1:'));
  return 'problem' in checked ? checked : { url: checked.url.replace(/^http(s?):/, 'ws$1:') };
}

const urlSchema = endpointUrlSchema("must be the URL of the node's REST listener (text)", (value) =>
  /^wss?:/i.test(value) ? checkRelayUrl(value) : checkEndpointUrl(value),
);

export const lightningSectionSchema: z.ZodType<LightningSection> = z
  .strictObject(
    {
      backend: z.enum(['lnd', 'cln', 'nwc'], {
        error:
          "backend is lnd (its REST API), cln (Core Lightning's clnrest) or nwc (an upstream NIP-47 wallet); others are not supported yet",
      }),
      url: urlSchema,
      via: viaSchema.optional(),
      pins: pinListSchema.optional(),
      timeout_seconds: seconds('timeout_seconds'),
      wait_seconds: seconds('wait_seconds'),
      monitor_seconds: seconds('monitor_seconds', MIN_MONITOR_SECONDS),
    },
    {
      error: (issue) =>
        issue.code === 'unrecognized_keys'
          ? 'unknown key; the known keys here are: backend, url, via, pins, timeout_seconds, wait_seconds, monitor_seconds'
          : undefined,
    },
  )
  // The relay of an NWC wallet is a WebSocket; the REST listeners of lnd and CLN are not.
  .refine((s) => (s.backend === 'nwc') === /^wss?:/.test(s.url), {
    message: 'backend nwc takes the relay of the wallet (ws:// or wss://); lnd and cln take http(s)://',
    path: ['url'],
  })
  .refine(
    (s) => s.wait_seconds === undefined || s.wait_seconds >= (s.timeout_seconds ?? DEFAULT_TIMEOUT_SECONDS),
    {
      message: 'wait_seconds is at least timeout_seconds (a request waits for what the node still tries)',
      path: ['wait_seconds'],
    },
  );

export function checkLightningSection(
  section: LightningSection,
  context: { unsafe: Readonly<Record<string, boolean>>; tor: TorRoute | null },
): ConfigProblem[] {
  const endpoints = [{ path: ['url'], url: section.url }];
  return [
    ...checkRoute(endpoints, section.via, {
      tor: context.tor,
      allowDirectBackends: context.unsafe.allow_direct_backends === true,
    }),
    ...checkPins(section.pins ? { url: section.pins } : {}, () => section.url, 'the').map((p) => ({
      ...p,
      path: ['pins'],
    })),
    ...checkLoopback(endpoints, context.unsafe.allow_loopback_rpc === true, () => false, ''),
  ];
}

/** The module configuration of a valid section (none: the module has no backend). */
export function lightningModuleConfig(
  section: LightningSection | undefined,
  context: { tor: TorRoute | null },
): LightningConfig | undefined {
  if (!section) return undefined;
  const timeoutSeconds = section.timeout_seconds ?? DEFAULT_TIMEOUT_SECONDS;
  return {
    kind: section.backend,
    url: section.url,
    route: routeOf(section.via, context.tor),
    pins: pinsByOrigin(section.pins ? { url: section.pins } : {}, () => section.url),
    timeoutSeconds,
    waitSeconds: section.wait_seconds ?? timeoutSeconds + DEFAULT_WAIT_EXTRA_SECONDS,
    monitorSeconds: section.monitor_seconds ?? DEFAULT_MONITOR_SECONDS,
  };
}
