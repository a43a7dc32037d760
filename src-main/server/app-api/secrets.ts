import { createHash, randomBytes, randomInt, scrypt, timingSafeEqual } from 'node:crypto';

/**
 * The app API's secrets: meeting codes people type, passcodes people choose, and
 * host keys the app keeps. Passcodes are low-entropy, so they are stored only as
 * salted scrypt hashes; host keys are 256 random bits, so a plain SHA-256 is enough.
 */

const LETTERS = 'abcdefghijklmnopqrstuvwxyz';

/** A human-typable meeting code, `abc-defg-hij` (26^10 ≈ 1.4e14 codes). */
export function generateMeetingCode(): string {
  const part = (n: number): string => Array.from({ length: n }, () => LETTERS[randomInt(LETTERS.length)]).join('');
  return `${part(3)}-${part(4)}-${part(3)}`;
}

export interface PasscodeHash {
  salt: Buffer;
  hash: Buffer;
}

// N=2^14 costs ~30-50 ms per check: negligible for one join, ruinous for guessing.
const SCRYPT = { N: 1 << 14, r: 8, p: 1, keylen: 32 } as const;

function scryptAsync(passcode: string, salt: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(passcode.normalize('NFC'), salt, SCRYPT.keylen, { N: SCRYPT.N, r: SCRYPT.r, p: SCRYPT.p }, (error, key) => (error ? reject(error) : resolve(key)));
  });
}

export async function hashPasscode(passcode: string): Promise<PasscodeHash> {
  const salt = randomBytes(16);
  return { salt, hash: await scryptAsync(passcode, salt) };
}

export async function verifyPasscode(passcode: string, stored: PasscodeHash): Promise<boolean> {
  const candidate = await scryptAsync(passcode, stored.salt);
  return timingSafeEqual(candidate, stored.hash);
}

export function generateHostKey(): string {
  return randomBytes(32).toString('base64url');
}

export function hashHostKey(hostKey: string): Buffer {
  return createHash('sha256').update(hostKey).digest();
}

export function hostKeyMatches(presented: string | undefined, storedHash: Buffer): boolean {
  if (!presented || presented.length > 128) return false;
  return timingSafeEqual(hashHostKey(presented), storedHash);
}
