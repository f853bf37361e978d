/**
 * The Lightning module's backend as the gateway holds it: where lnd is and how to reach it, but no
 * credential. A payment connects with the identity's macaroon, lent for that one call
 * (keys/capabilities.ts `lightning-credential`), so nothing here outlives the credential.
 */
import { WardenError } from '../../../core/errors.ts';
import type { BackendCredential } from '../../../keys/capabilities.ts';
import type { BitcoinNetwork } from '../../../keys/derive.ts';
import type { Net, Route } from '../../../net/http.ts';
import { netForEndpoints } from '../../backend-endpoints.ts';
import type { LightningBackend } from './backend.ts';
import { createLndRestBackend } from './lnd-rest.ts';

export interface LightningConfig {
  kind: 'lnd';
  url: string;
  route?: Route;
  pins?: ReadonlyMap<string, readonly string[]>;
  /** lnd's `timeout_seconds`: how long it looks for routes. */
  timeoutSeconds: number;
  /** How long a request follows its payment before it answers `unknown` (reconcile takes over). */
  waitSeconds: number;
  /** How often a running server reads the channels (monitor/); absent: every 60 s. */
  monitorSeconds?: number;
}

export interface LightningModuleBackend {
  readonly kind: 'lnd';
  readonly timeoutSeconds: number;
  readonly waitSeconds: number;
  readonly monitorSeconds: number;
  /**
   * Runs `fn` with a backend that speaks for `identity` with its credential, for that call only.
   * The credential must be of the kind the backend takes (`macaroon` for lnd).
   */
  withBackend<T>(
    identity: string,
    network: BitcoinNetwork,
    credential: BackendCredential,
    fn: (backend: LightningBackend) => Promise<T>,
  ): Promise<T>;
}

export const DEFAULT_MONITOR_SECONDS = 60;

export function createLightningBackend(config: LightningConfig): LightningModuleBackend {
  const net: Net = netForEndpoints([config.url], {
    ...(config.route ? { route: config.route } : {}),
    ...(config.pins ? { pins: config.pins } : {}),
  });
  return {
    kind: config.kind,
    timeoutSeconds: config.timeoutSeconds,
    waitSeconds: config.waitSeconds,
    monitorSeconds: config.monitorSeconds ?? DEFAULT_MONITOR_SECONDS,
    withBackend(identity, network, credential, fn) {
      if (credential.kind !== 'macaroon')
        throw new WardenError(
          'KEY_NOT_ACTIVE',
          `the identity's Lightning credential is a ${credential.kind}; lnd takes a macaroon`,
          { protocol: 'lightning', kind: credential.kind },
        );
      return credential.use((macaroon) =>
        fn(createLndRestBackend({ url: config.url, net, identity, macaroon, network })),
      );
    },
  };
}

export function lightningBackendOf(config: unknown): LightningModuleBackend | null {
  const c = config as Partial<LightningConfig> | undefined;
  if (c?.kind !== 'lnd' || typeof c.url !== 'string') return null;
  return createLightningBackend(c as LightningConfig);
}
