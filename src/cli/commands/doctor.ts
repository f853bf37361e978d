import type { Command } from 'commander';
import { type Registration, withPassphraseFile } from './options.ts';

const actions = () => import('../actions/doctor.ts');

export function registerDoctorCommand(program: Command, { run }: Registration): void {
  withPassphraseFile(
    program
      .command('doctor')
      .description(
        'check the deployment: Tor configured, reachable and isolating, no direct route, API bound safely, file modes, debug options off, audit chain, a recent backup; with --passphrase-file also keys due for rotation and a policy for every identity (PASS/WARN/FAIL with the fix; exit 1 on a FAIL)',
      ),
  ).action(run(actions, 'doctor'));
}
