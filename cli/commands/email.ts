/** `catalytic email verify|resend`: confirm your address from the mailed link, or ask for a new link. */
import type { Command } from 'commander';
import { UsageError } from './cli-errors.ts';
import { clientAction, clientCommand } from './session.ts';

/** The token of a mailed link (`…/account/verify-email#token=cev_…`), or the token itself. */
export function verificationToken(linkOrToken: string): string {
  const value = linkOrToken.trim();
  const token = /#token=([^&\s]+)/.exec(value)?.[1] ?? value;
  if (!/^cev_\S+$/.test(token)) throw new UsageError('expected the link from the mail (…/account/verify-email#token=cev_…) or its token');
  return token;
}

export function registerEmailCommands(program: Command): void {
  const email = program.command('email').description('confirm your email address (needed to ask for a paid plan, add webhook endpoints or invite)');

  clientCommand(email, 'verify', 'confirm your address with the link mailed to it')
    .argument('<link>', 'the link from the mail, or its token')
    .action(
      clientAction(async (session, link: string) => {
        await session.client.email.verify(verificationToken(link));
        session.note('Address confirmed.');
      }),
    );

  clientCommand(email, 'resend', 'mail a new link to your address')
    .action(
      clientAction(async (session) => {
        const { status } = await session.client.email.resendVerification();
        session.note(status === 'sent' ? 'A new link is on its way.' : 'Your address is confirmed already.');
      }),
    );
}
