/**
 * The resources of one principal: its identity's public data, its policy in plain words and its
 * budget status. A token acts for one identity, so the URIs name no identity: nobody can ask for
 * another's. Each read goes through the same gateway read the HTTP API uses.
 */
import type { ReadResourceResult, Resource } from '@modelcontextprotocol/sdk/types.js';
import { WardenError } from '../../core/errors.ts';
import type { Principal } from '../../core/principal.ts';
import type { Gateway } from '../../gateway/gateway.ts';
import { ledgerStatus } from './budget.ts';

interface WardenResource {
  resource: Resource;
  read(gateway: Gateway, principal: Principal): Promise<string>;
}

const identityOf = (p: Principal) => p.identity ?? '';

const RESOURCES: readonly WardenResource[] = [
  {
    resource: {
      uri: 'warden://identity',
      name: 'identity',
      title: 'My identity',
      description: 'Public keys and addresses of the identity this token acts for (never a secret).',
      mimeType: 'application/json',
    },
    read: async (g, p) => JSON.stringify({ identity: g.reads.identity(p, identityOf(p)) }),
  },
  {
    resource: {
      uri: 'warden://policy',
      name: 'policy',
      title: 'My policy, in plain words',
      description: 'What this identity may do, what is held for a human and what is denied, and its limits.',
      mimeType: 'text/plain',
    },
    read: async (g, p) => {
      const policy = await g.reads.policy(p, identityOf(p));
      return [...policy.explain, '', `(policy ${policy.hash}, ${policy.source})`].join('\n');
    },
  },
  {
    resource: {
      uri: 'warden://budget',
      name: 'budget',
      title: 'My budget status',
      description:
        'Committed, reserved and unknown totals per asset (base units, fees beside them). get_budget with a request gives its windows.',
      mimeType: 'application/json',
    },
    read: async (g, p) => JSON.stringify({ identity: p.identity, ledger: await ledgerStatus(g, p) }),
  },
];

export function listResources(): Resource[] {
  return RESOURCES.map((r) => r.resource);
}

export async function readResource(
  gateway: Gateway,
  principal: Principal,
  uri: string,
): Promise<ReadResourceResult> {
  const found = RESOURCES.find((r) => r.resource.uri === uri);
  if (!found) throw new WardenError('NOT_FOUND', 'no such resource', { uri: uri.slice(0, 200) });
  const text = await found.read(gateway, principal);
  return { contents: [{ uri, mimeType: found.resource.mimeType!, text }] };
}
