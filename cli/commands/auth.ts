/** `catalytic login | logout | register | whoami`: sessions and API keys in the credentials file. */
import type { Command } from 'commander';
import { CatalyticClient, deleteCredentials, type Me, type RegistrationInput, tokensToStored } from '../../client/index.ts';
import { PLAN_CODES } from '../../shared/plans.ts';
import { VERSION } from '../../shared/version.ts';
import { UsageError } from './cli-errors.ts';
import { renderFields } from './format.ts';
import { ask, canPrompt, readStdin } from './prompt.ts';
import { clientAction, clientCommand, type Session } from './session.ts';

interface LoginOptions {
  email?: string;
  passwordStdin?: boolean;
  apiKey?: string;
}

async function password(options: { passwordStdin?: boolean }): Promise<string> {
  if (options.passwordStdin) return readStdin();
  if (process.env.CATALYTIC_PASSWORD) return process.env.CATALYTIC_PASSWORD;
  if (!canPrompt()) throw new UsageError('no terminal to ask for the password: use --password-stdin or CATALYTIC_PASSWORD');
  return ask('Password: ', { hidden: true });
}

async function email(options: { email?: string }): Promise<string> {
  if (options.email) return options.email;
  if (!canPrompt()) throw new UsageError('--email is required without a terminal');
  const answer = (await ask('Email: ')).trim();
  if (!answer) throw new UsageError('an email is required');
  return answer;
}

function describeMe(me: Me): string {
  const who = me.kind === 'api_key' ? `API key ${me.api_key?.name ?? ''} (ck_${me.api_key?.prefix ?? '?'}_…)` : (me.user?.email ?? 'user');
  return renderFields([
    ['signed in as', who],
    ['tenant', `${me.tenant.name} (${me.tenant.id})`],
    ['plan', me.tenant.plan_code],
    ['role', me.role],
    ['scopes', me.scopes.join(' ')],
    ...(me.token_expires_at ? ([['token expires', me.token_expires_at]] as const) : []),
  ]);
}

/** A client for the session's URL with nothing but the given credentials. */
function freshClient(session: Session, apiKey?: string): CatalyticClient {
  return new CatalyticClient({ baseUrl: session.connection.url, apiKey, userAgent: `catalytic-cli/${VERSION}` });
}

export function registerAuthCommands(program: Command): void {
  clientCommand(program, 'login', 'sign in (email and password, or an API key) and save the credentials (mode 0600)')
    .option('--email <email>', 'account email (asked for when omitted)')
    .option('--password-stdin', 'read the password from stdin (else $CATALYTIC_PASSWORD, else asked)')
    .addHelpText('after', '\nWith --api-key, the key is checked and saved instead of signing in.')
    .action(
      clientAction(async (session, options: LoginOptions) => {
        const url = session.connection.url;
        if (options.apiKey) {
          const client = freshClient(session, options.apiKey);
          const me = await client.me();
          await session.saveCredentials({ url, api_key: options.apiKey });
          if (session.json) session.printJson(me);
          else session.out(`Logged in to ${url}\n${describeMe(me)}`);
          return;
        }
        const address = await email(options);
        const secret = await password(options);
        const client = freshClient(session);
        await client.auth.login(address, secret);
        const me = await client.me();
        await session.saveCredentials({ url, email: address, ...tokensToStored(client.http.sessionTokens) });
        if (session.json) session.printJson(me);
        else session.out(`Logged in to ${url}\n${describeMe(me)}`);
      }),
    );

  clientCommand(program, 'logout', 'end the session on the server and delete the saved credentials')
    .action(
      clientAction(async (session) => {
        const stored = session.connection.stored;
        if (stored?.access_token && session.connection.source === 'file') {
          try {
            await session.client.auth.logout();
          } catch (err) {
            session.note(`catalytic: the server did not end the session (${(err as Error).message}); forgetting it anyway`);
          }
        }
        await deleteCredentials(session.connection.path);
        if (session.json) session.printJson({ logged_out: true, path: session.connection.path });
        else session.out(`Logged out (deleted ${session.connection.path})`);
      }),
    );

  clientCommand(program, 'register', 'create a tenant with its owner user, then save the session like login')
    .requiredOption('--company <name>', 'company (tenant) name')
    .option('--email <email>', 'owner email (asked for when omitted)')
    .requiredOption('--first-name <name>', "owner's first name")
    .requiredOption('--last-name <name>', "owner's last name")
    .option('--plan <code>', `plan: ${PLAN_CODES.join(', ')} (a paid plan waits for an operator's approval)`, 'free')
    .option('--password-stdin', 'read the password from stdin (else $CATALYTIC_PASSWORD, else asked)')
    .action(
      clientAction(
        async (session, options: { company: string; email?: string; firstName: string; lastName: string; plan: string; passwordStdin?: boolean }) => {
          if (!(PLAN_CODES as readonly string[]).includes(options.plan)) {
            throw new UsageError(`--plan: expected one of ${PLAN_CODES.join(', ')}`);
          }
          const input: RegistrationInput = {
            company_name: options.company,
            email: await email(options),
            password: await password(options),
            first_name: options.firstName,
            last_name: options.lastName,
            plan_code: options.plan as RegistrationInput['plan_code'],
          };
          const client = freshClient(session);
          const registration = await client.auth.register(input);
          await session.saveCredentials({ url: session.connection.url, email: input.email, ...tokensToStored(client.http.sessionTokens) });
          if (session.json) {
            session.printJson({ tenant: registration.tenant, user: registration.user });
            return;
          }
          session.out(
            `Registered ${registration.tenant.name} on ${session.connection.url} and logged in\n${renderFields([
              ['tenant', registration.tenant.id],
              ['plan', registration.tenant.plan_code],
              ...(registration.requested_plan
                ? [['requested', `${registration.requested_plan}: asked for once you confirm your address (catalytic email verify <link>), then approved by an operator`] as [string, string]]
                : []),
              ['owner', `${registration.user.email} (${registration.user.id})`],
            ])}`,
          );
        },
      ),
    );

  clientCommand(program, 'whoami', 'show who the saved or given credentials belong to')
    .action(
      clientAction(async (session) => {
        const me = await session.client.me();
        if (session.json) session.printJson(me);
        else session.out(`${session.connection.url}\n${describeMe(me)}`);
      }),
    );
}
