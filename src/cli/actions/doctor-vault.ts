/**
 * The doctor's checks of the vault's contents: whether a backup is recent (readable sealed), and,
 * with the vault unsealed, keys due for rotation and the policy each identity is judged by.
 */
import { lastBackupSealed } from '../../gateway/index.ts';
import type { CliContext } from '../context.ts';
import { withCliGateway } from './config-flags.ts';
import { type Check, fail, pass, warn } from './doctor-check.ts';
import { localOperator } from './local-operator.ts';

/** A backup older than this is no longer "recent": the ledger and the log have moved on since. */
export const BACKUP_STALE_DAYS = 30;
const DAY_MS = 24 * 60 * 60 * 1000;

export async function backupCheck(home: string, now: Date): Promise<Check> {
  const fix = 'run `warden backup --out FILE` and keep the file (and its passphrase) off this machine';
  const at = await lastBackupSealed(home);
  if (at === null) return warn('backup.recent', 'no backup was ever written from this vault', fix);
  const days = Math.floor((now.getTime() - Date.parse(at)) / DAY_MS);
  if (days > BACKUP_STALE_DAYS)
    return warn('backup.recent', `the last backup is ${days} days old (${at})`, fix);
  return pass('backup.recent', `the last backup was written ${at}`);
}

export async function vaultChecks(ctx: CliContext, passphraseFile: string): Promise<Check[]> {
  return withCliGateway(ctx, passphraseFile, async (gateway, warden) => {
    const due = warden.vault.rotationDue();
    const rotation =
      due.length === 0
        ? pass('keys.rotation', 'no key is due for rotation')
        : warn(
            'keys.rotation',
            `due: ${due.map((k) => `${k.identity}/${k.purpose} v${k.version} (since ${k.rotationDue})`).join('; ')}`,
            'run `warden identity rotate NAME --seed` or `--nostr` for each (the old key stays for verifying 30 days)',
          );
    const operator = localOperator(gateway, warden);
    const unguarded: string[] = [];
    const tampered: string[] = [];
    const identities = warden.vault.listIdentities().map((i) => i.name);
    for (const identity of identities) {
      const { source } = await gateway.reads.policy(operator, identity);
      if (source === 'tampered') tampered.push(identity);
      else if (source === 'built-in deny-all') unguarded.push(identity);
    }
    const policy =
      tampered.length > 0
        ? fail(
            'policy.present',
            `the policy of ${tampered.join(', ')} fails its check (everything is denied)`,
            'run `warden audit verify`, then set the policy again with `warden policy set`',
          )
        : unguarded.length > 0
          ? warn(
              'policy.present',
              `no policy for ${unguarded.join(', ')} and no default: everything they ask is denied`,
              'set one: `warden policy template guidelines-default > p.yaml && warden policy set p.yaml --identity NAME`',
            )
          : pass('policy.present', `every identity has a policy (${identities.length})`);
    return [rotation, policy];
  });
}
