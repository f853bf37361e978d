import type { Command } from 'commander';
import type { Registration } from './options.ts';

const actions = () => import('../actions/doctor.ts');

export function registerDoctorCommand(program: Command, { run }: Registration): void {
  program
    .command('doctor')
    .description(
      'check the deployment: Tor configured, reachable and isolating, no direct route, API bound safely, file modes, debug options off, audit chain (PASS/WARN/FAIL with the fix; exit 1 on a FAIL)',
    )
    .action(run(actions, 'doctor'));
}
