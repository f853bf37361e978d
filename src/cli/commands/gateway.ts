import type { Command } from 'commander';
import { ROLES } from '../../core/principal.ts';
import { registerApprovalCommands } from './approvals.ts';
import { collect, type Registration, withPassphraseFile, withProtocolFlags } from './options.ts';

const actions = () => import('../actions/gateway.ts');

export function registerGatewayCommands(program: Command, registration: Registration): void {
  const { run, facts } = registration;
  // Tokens
  const token = program
    .command('token')
    .description('bearer tokens for agents, operators, admins and viewers');
  withPassphraseFile(
    token
      .command('create')
      .description('create a token; it is shown once and stored only as a hash')
      .requiredOption('--role <role>', `one of ${ROLES.join(', ')}`)
      .option('--identity <name>', 'the one identity an agent token acts for')
      .option(
        '--cap <capability>',
        `agent capability (repeatable): ${facts.capabilities.join(', ')}`,
        collect,
        [],
      )
      .option('--ttl <duration>', 'lifetime, e.g. 12h, 30d (default 90d, at most 366d)')
      .option('--label <text>', 'a name to recognise the token by', 'token'),
  ).action(run(actions, 'createToken'));
  withPassphraseFile(token.command('list').description('list tokens (never their secrets)')).action(
    run(actions, 'listTokens'),
  );
  withPassphraseFile(token.command('revoke').description('revoke a token at once').argument('<id>')).action(
    run(actions, 'revokeToken'),
  );

  // Policies
  const policy = program.command('policy').description('spending and signing policies');
  withPassphraseFile(
    policy
      .command('set')
      .description('validate and store a policy (YAML or JSON) for an identity, or the default')
      .argument('<file>')
      .option('--identity <name>', 'the identity it applies to')
      .option('--default', 'the default for identities without a policy of their own'),
  ).action(run(actions, 'setPolicy'));
  withPassphraseFile(
    policy
      .command('show')
      .description('the policy that applies to an identity')
      .requiredOption('--identity <name>'),
  ).action(run(actions, 'showPolicy'));
  withPassphraseFile(
    policy
      .command('explain')
      .description('render a policy in plain language: a FILE, or the policy of --identity')
      .argument('[file]')
      .option('--identity <name>'),
  ).action(run(actions, 'explainPolicy'));
  policy
    .command('schema')
    .description('print the JSON Schema of policy documents')
    .action(run(actions, 'policySchema'));
  policy
    .command('template')
    .description(`print a policy template: ${facts.policyTemplates.join(', ')}`)
    .argument('<name>')
    .action(run(actions, 'policyTemplate'));
  withProtocolFlags(
    withPassphraseFile(
      policy
        .command('test')
        .description(
          'evaluate a request against the policy with no side effect: REQUEST.json is {operation, identity, request}',
        )
        .argument('<request-file>'),
    ),
    facts,
  ).action(run(actions, 'testPolicy'));

  registerApprovalCommands(program, registration);

  // Ledger
  const ledger = program.command('ledger').description('the exact budget ledger');
  withPassphraseFile(
    ledger.command('show').description('totals per identity, asset and status').option('--identity <name>'),
  ).action(run(actions, 'showLedger'));
  withProtocolFlags(
    withPassphraseFile(
      ledger
        .command('reconcile')
        .description(
          'list reservations whose outcome is unknown; --commit or --release one after checking what ' +
            'happened, or --from-chain to let the chain decide where its answer is certain',
        )
        .option('--commit <request-id>', 'it happened: count it for good')
        .option('--release <request-id>', 'it did not happen: free the budget')
        .option(
          '--from-chain',
          'let the backends decide (EVM: commit what was mined, release what can never be, its nonce taken); needs a backend in warden.yaml or --evm-rpc',
        ),
    ),
    facts,
  ).action(run(actions, 'reconcileLedger'));
}
