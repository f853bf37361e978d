/**
 * The Lightning module's backend as the gateway holds it: which node (lnd, Core Lightning or an
 * upstream NWC wallet), where it is and how to reach it, but no credential. A payment connects with
 * the identity's credential (lnd: a macaroon, CLN: a rune, NWC: the wallet's URI, whose secret
 * stays in keys/), lent for that one call (keys/capabilities.ts
 * `lightning-credential`), so nothing here outlives the credential.
 */
import { WardenError } from '../../../core/errors.ts';
import type { BackendCredential } from '../../../keys/capabilities.ts';
import type { BitcoinNetwork } from '../../../keys/derive.ts';
import type { LightningCredentialKind } from '../../../keys/model.ts';
import type { Net, Route } from '../../../net/http.ts';
import { netForEndpoints } from '../../backend-endpoints.ts';
import type { LightningBackend, LightningBackendKind } from './backend.ts';
import { createClnRestBackend } from './cln-rest.ts';
import { createLndRestBackend } from './lnd-rest.ts';
import { createNwcChannel } from './nwc-request.ts';
import { createNwcWalletBackend } from './nwc-wallet.ts';

/** The credential each backend takes, and what it is called in messages. */
export const CREDENTIAL_OF: Readonly<Record<LightningBackendKind, LightningCredentialKind>> = {
  lnd: 'macaroon',
  cln: 'rune',
  nwc: 'nwc',
};
const NAME_OF: Readonly<Record<LightningBackendKind, string>> = {
  lnd: 'lnd',
  cln: 'Core Lightning',
  nwc: 'an NWC wallet',
};

/** KEY_NOT_ACTIVE unless the identity's credential is the kind `backend` takes. */
export function checkCredentialKind(backend: LightningBackendKind, kind: string | null): void {
  const wanted = CREDENTIAL_OF[backend];
  if (kind === wanted) return;
  throw new WardenError(
    'KEY_NOT_ACTIVE',
    kind
      ? `the identity's Lightning credential is a ${kind}; ${NAME_OF[backend]} takes a ${wanted}`
      : `the identity has no Lightning credential: warden identity lightning NAME --kind ${wanted} --credential-file F`,
    { protocol: 'lightning', purpose: 'lightning', kind },
  );
}

export interface LightningConfig {
  kind: LightningBackendKind;
  url: string;
  route?: Route;
  pins?: ReadonlyMap<string, readonly string[]>;
  /** How long the node looks for routes (lnd's `timeout_seconds`, CLN's `retry_for`). */
  timeoutSeconds: number;
  /** How long a request follows its payment before it answers `unknown` (reconcile takes over). */
  waitSeconds: number;
  /** How often a running server reads the channels (monitor/); absent: every 60 s. */
  monitorSeconds?: number;
}

export interface LightningModuleBackend {
  readonly kind: LightningBackendKind;
  readonly timeoutSeconds: number;
  readonly waitSeconds: number;
  readonly monitorSeconds: number;
  /**
   * Runs `fn` with a backend that speaks for `identity` with its credential, for that call only.
   * The credential must be of the kind the backend takes (CREDENTIAL_OF: a macaroon for lnd, a
   * rune for Core Lightning), else KEY_NOT_ACTIVE.
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
      checkCredentialKind(config.kind, credential.kind);
      if (config.kind === 'nwc') return withNwcWallet(config, net, identity, network, credential, fn);
      return credential.use((secret) =>
        fn(
          config.kind === 'cln'
            ? createClnRestBackend({
                url: config.url,
                net,
                identity,
                rune: secret,
                network,
                retryForSeconds: config.timeoutSeconds,
              })
            : createLndRestBackend({ url: config.url, net, identity, macaroon: secret, network }),
        ),
      );
    },
  };
}

/**
 * An upstream NWC wallet: the URI's secret stays in keys/ (`useNwc`); one relay socket, the
 * configured relay (`url`), serves the whole call chain and is closed when `fn` settles.
 */
function withNwcWallet<T>(
  config: LightningConfig,
  net: Net,
  identity: string,
  network: BitcoinNetwork,
  credential: BackendCredential,
  fn: (backend: LightningBackend) => Promise<T>,
): Promise<T> {
  return credential.useNwc(async (client) => {
    const channel = createNwcChannel({ relay: config.url, net, identity, client });
    try {
      return await fn(createNwcWalletBackend({ channel, network }));
    } finally {
      channel.close();
    }
  });
}

export function lightningBackendOf(config: unknown): LightningModuleBackend | null {
  const c = config as Partial<LightningConfig> | undefined;
  if ((c?.kind !== 'lnd' && c?.kind !== 'cln' && c?.kind !== 'nwc') || typeof c.url !== 'string') return null;
  return createLightningBackend(c as LightningConfig);
}
