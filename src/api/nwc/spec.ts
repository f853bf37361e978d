/**
 * What `warden nwc connect` asks for, checked before the vault is unsealed: the methods (NIP-47
 * names Warden offers), the budget (`10000sat/day`: sat over a policy window, calendar `day`,
 * `week`, `month` or rolling `24h`, `7d`…; `none` for no budget of its own, the identity's still
 * applying), the lifetime, how long a held payment may keep the client waiting, and NIP-04 only
 * when asked for by name.
 */
import { WardenError } from '../../core/errors.ts';
import { MAX_HOLD_WAIT_SECONDS, type NwcConnectionSpec } from '../../gateway/nwc-connections.ts';
import { METHOD_NAMES } from './methods.ts';

const BUDGET = /^([1-9][0-9]{0,15})sat\/(day|week|month|[1-9][0-9]{0,9}[smhdw])$/;

export interface ConnectRequest {
  identity: string;
  label: string;
  methods: string;
  budget: string;
  relays: readonly string[];
  ttlMs?: number;
  holdWaitSeconds?: number;
  nip04?: boolean;
}

export function connectionSpec(r: ConnectRequest): NwcConnectionSpec {
  const methods = [
    ...new Set(
      r.methods
        .split(',')
        .map((m) => m.trim())
        .filter((m) => m !== ''),
    ),
  ];
  if (methods.length === 0)
    throw new WardenError('USAGE', `--methods names at least one of ${METHOD_NAMES.join(', ')}`);
  for (const m of methods)
    if (!METHOD_NAMES.includes(m))
      throw new WardenError('USAGE', `unknown NWC method "${m.slice(0, 64)}" (${METHOD_NAMES.join(', ')})`);
  let budget: NwcConnectionSpec['budget'] = null;
  if (r.budget !== 'none') {
    const match = BUDGET.exec(r.budget);
    if (!match)
      throw new WardenError(
        'USAGE',
        '--budget is like 10000sat/day (day, week, month, or 24h, 7d…), or none',
      );
    budget = { asset: 'btc', maxValue: BigInt(match[1]!), window: match[2]! };
  }
  if (r.relays.length === 0)
    throw new WardenError(
      'CONFIG_INVALID',
      'no relay: set nwc.relays in warden.yaml (the relays connections listen on)',
    );
  const holdWaitSeconds = r.holdWaitSeconds ?? 0;
  if (
    !Number.isSafeInteger(holdWaitSeconds) ||
    holdWaitSeconds < 0 ||
    holdWaitSeconds > MAX_HOLD_WAIT_SECONDS
  )
    throw new WardenError('USAGE', `--hold-wait is 0 to ${MAX_HOLD_WAIT_SECONDS} seconds`);
  if (!/^[\x20-\x7e]{1,64}$/.test(r.label))
    throw new WardenError('USAGE', '--label: 1-64 printable ASCII characters');
  return {
    identity: r.identity,
    label: r.label,
    methods,
    relays: [...r.relays],
    encryptions: r.nip04 ? ['nip44_v2', 'nip04'] : ['nip44_v2'],
    budget,
    holdWaitSeconds,
    ...(r.ttlMs === undefined ? {} : { ttlMs: r.ttlMs }),
  };
}
