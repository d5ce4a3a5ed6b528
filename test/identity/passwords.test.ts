import { describe, expect, it } from 'vitest';
import { hashPassword, needsRehash, passwordWeakness, verifyPassword } from '../../shared/auth/passwords.ts';

describe('password hashing', () => {
  it('verifies the right password only, with a fresh salt each time', async () => {
    const first = await hashPassword('Lattice-Walk-7-Quokka!');
    const second = await hashPassword('Lattice-Walk-7-Quokka!');
    expect(first).not.toBe(second);
    expect(await verifyPassword('Lattice-Walk-7-Quokka!', first)).toBe(true);
    expect(await verifyPassword('Lattice-Walk-7-Quokka?', first)).toBe(false);
    expect(needsRehash(first)).toBe(false);
  });

  it('never matches a value that is not a scrypt hash', async () => {
    for (const stored of ['!', '', 'scrypt$1$1$1$$', 'scrypt$99999999$8$1$c2FsdA$a2V5', 'plain-text-password']) {
      expect(await verifyPassword('plain-text-password', stored)).toBe(false);
    }
  });

  it('still verifies a hash made with older parameters, and asks for a rehash', async () => {
    const { scryptSync, randomBytes } = await import('node:crypto');
    const salt = randomBytes(16);
    const key = scryptSync('Old-Cost-Password-9', salt, 32, { N: 2 ** 14, r: 8, p: 1 });
    const old = ['scrypt', 2 ** 14, 8, 1, salt.toString('base64url'), key.toString('base64url')].join('$');
    expect(await verifyPassword('Old-Cost-Password-9', old)).toBe(true);
    expect(needsRehash(old)).toBe(true);
  });
});

describe('password strength', () => {
  it.each(['Lattice-Walk-7-Quokka!', 'correct horse battery staple', 'Tr0ub4dour&3-x'])('accepts %s', (password) => {
    expect(passwordWeakness(password)).toBeUndefined();
  });

  it.each(['short1!', 'password1234', 'qwertyuiop123', 'aaaaaaaaaaaaaaaa', '1234567890'])('refuses %s', (password) => {
    expect(passwordWeakness(password)).toBeDefined();
  });

  it('refuses a password built from the user’s own details', () => {
    expect(passwordWeakness('quokkafarmer2024')).toBeUndefined();
    expect(passwordWeakness('quokkafarmer2024', ['quokkafarmer@example.test'])).toMatch(/too easy/);
  });
});
