import { randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ChorusError } from '../errors.js';
import type { ApiCredentials } from './sigv4.js';

export const CREDENTIALS_FILE = 'credentials.json';

export interface ResolvedCredentials {
  credentials: ApiCredentials;
  /** Where they came from, so the operator is told where to find them. */
  source: { kind: 'environment' } | { kind: 'file'; path: string; generated: boolean };
}

const ALPHANUMERIC = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** Uniformly random characters from `alphabet`, using rejection sampling so no character is favoured. */
export function randomString(length: number, alphabet: string = ALPHANUMERIC): string {
  const limit = 256 - (256 % alphabet.length);
  let out = '';
  while (out.length < length) {
    for (const byte of randomBytes(length * 2)) {
      if (byte < limit) out += alphabet[byte % alphabet.length];
      if (out.length === length) break;
    }
  }
  return out;
}

export function generateCredentials(): ApiCredentials {
  return {
    accessKeyId: 'CHORUS' + randomString(14, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567'),
    secretAccessKey: randomString(40),
  };
}

function isCredentials(value: unknown): value is ApiCredentials {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return typeof v.accessKeyId === 'string' && v.accessKeyId.length > 0 &&
    typeof v.secretAccessKey === 'string' && v.secretAccessKey.length > 0;
}

/**
 * The API key pair: from CHORUS_ACCESS_KEY_ID / CHORUS_SECRET_ACCESS_KEY when both
 * are set, otherwise from `<dataDir>/credentials.json`, generated on first start
 * and readable by the owner only.
 */
export async function resolveCredentials(dataDir: string, env: NodeJS.ProcessEnv = process.env): Promise<ResolvedCredentials> {
  const envId = env.CHORUS_ACCESS_KEY_ID;
  const envSecret = env.CHORUS_SECRET_ACCESS_KEY;
  if (envId || envSecret) {
    if (!envId || !envSecret) {
      throw new ChorusError('CONFIG_INVALID', 'Set both CHORUS_ACCESS_KEY_ID and CHORUS_SECRET_ACCESS_KEY, or neither');
    }
    return { credentials: { accessKeyId: envId, secretAccessKey: envSecret }, source: { kind: 'environment' } };
  }

  const path = join(dataDir, CREDENTIALS_FILE);
  let text: string | undefined;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  if (text !== undefined) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    if (!isCredentials(parsed)) {
      throw new ChorusError('CONFIG_INVALID', `${path} is not a valid credentials file; delete it to generate new credentials`);
    }
    return { credentials: { accessKeyId: parsed.accessKeyId, secretAccessKey: parsed.secretAccessKey }, source: { kind: 'file', path, generated: false } };
  }

  const credentials = generateCredentials();
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  await writeFile(path, JSON.stringify(credentials, null, 2) + '\n', { mode: 0o600, flag: 'wx' });
  await chmod(path, 0o600);
  return { credentials, source: { kind: 'file', path, generated: true } };
}
