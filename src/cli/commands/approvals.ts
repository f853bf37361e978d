import type { Command } from 'commander';
import { parsePositiveInt, type Registration, withPassphraseFile, withProtocolFlags } from './options.ts';

const actions = () => import('../actions/approvals.ts');

/** `approvals show` and `requests show`: one request as an approver reviews it. */
function registerShow(parent: Command, description: string, { run }: Registration): void {
  withPassphraseFile(parent.command('show').description(description).argument('<request-id>')).action(
    run(actions, 'show'),
  );
}

export function registerApprovalCommands(program: Command, registration: Registration): void {
  const { run, facts } = registration;
  const approvals = program.command('approvals').description('requests held for human approval or a delay');
  withPassphraseFile(approvals.command('list').description('held requests and their approvals')).action(
    run(actions, 'list'),
  );
  registerShow(
    approvals,
    'everything a held or risk-denied request would sign, and its intent hash',
    registration,
  );
  for (const verdict of ['approve', 'deny'] as const) {
    withProtocolFlags(
      withPassphraseFile(
        approvals
          .command(verdict)
          .description(
            verdict === 'approve'
              ? 'approve a held request (bound to its exact intent)'
              : 'deny (veto) a held request',
          )
          .argument('<request-id>')
          .option('--reason <text>', 'why (kept in the audit log)')
          .option(
            '--intent-hash <hex>',
            'the intent hash you reviewed (approvals show); refused if the request differs',
          )
          .option(
            '--wait <seconds>',
            'wait for the running server to execute it',
            parsePositiveInt('--wait'),
          ),
      ),
      facts,
    ).action(run(actions, verdict));
  }
  withProtocolFlags(
    withPassphraseFile(
      approvals
        .command('accept-risk')
        .description(
          'override a RISK_TOO_HIGH denial: a signed risk-acceptance record, then the request is evaluated again',
        )
        .argument('<request-id>')
        .requiredOption('--reason <text>', 'why the risk is accepted (kept, signed, in the audit log)')
        .option(
          '--intent-hash <hex>',
          'the intent hash you reviewed (approvals show); refused if the request differs',
        )
        .option('--wait <seconds>', 'wait for the running server to execute it', parsePositiveInt('--wait')),
    ),
    facts,
  ).action(run(actions, 'acceptRisk'));

  const requests = program.command('requests').description('requests and their state');
  withPassphraseFile(
    requests
      .command('list')
      .description('requests, newest first')
      .option('--status <status>', `one of ${facts.requestFilters.join(', ')}`)
      .option('--identity <name>')
      .option('--limit <n>', 'at most N (default 100, at most 500)', parsePositiveInt('--limit')),
  ).action(run(actions, 'listRequests'));
  registerShow(requests, 'one request, with what it signs while that is kept', registration);
}
