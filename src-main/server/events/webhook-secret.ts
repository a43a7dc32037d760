import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { randomString } from '../auth/credentials.js';
import { ChorusError } from '../errors.js';

export const WEBHOOK_SECRET_FILE = 'webhook-secret';

export interface ResolvedWebhookSecret {
  secret: string;
  source: { kind: 'environment' } | { kind: 'file'; path: string; generated: boolean };
}

/**
 * The key for webhook signatures: CHORUS_WEBHOOK_SECRET when set, otherwise
 * `<dataDir>/webhook-secret`, generated on first use and readable by the owner only.
 */
export async function resolveWebhookSecret(dataDir: string, env: NodeJS.ProcessEnv = process.env): Promise<ResolvedWebhookSecret> {
  const fromEnv = env.CHORUS_WEBHOOK_SECRET;
  if (fromEnv !== undefined && fromEnv !== '') {
    if (fromEnv.length < 16) throw new ChorusError('CONFIG_INVALID', 'CHORUS_WEBHOOK_SECRET must be at least 16 characters');
    return { secret: fromEnv, source: { kind: 'environment' } };
  }
  const path = join(dataDir, WEBHOOK_SECRET_FILE);
  try {
    const stored = (await readFile(path, 'utf8')).trim();
    if (stored.length < 16) throw new ChorusError('CONFIG_INVALID', `${path} holds no valid webhook secret; delete it to generate a new one`);
    return { secret: stored, source: { kind: 'file', path, generated: false } };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  const secret = `whsec_${randomString(40)}`;
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  await writeFile(path, `${secret}\n`, { mode: 0o600, flag: 'wx' });
  await chmod(path, 0o600);
  return { secret, source: { kind: 'file', path, generated: true } };
}
