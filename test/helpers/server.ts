import { ChimeSDKMeetingsClient } from '@aws-sdk/client-chime-sdk-meetings';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startChorusServer, type ChorusServer, type ChorusServerConfig } from '../../src-main/server/chorus-server.js';
import { createLogger, type Logger } from '../../src-main/server/logger.js';

export const TEST_CREDENTIALS = { accessKeyId: 'CHORUSTESTKEY0000001', secretAccessKey: 'test-secret-access-key-for-chorus-tests' };

export interface TestServer {
  server: ChorusServer;
  client: ChimeSDKMeetingsClient;
  dataDir: string;
  logs: string[];
  close(): Promise<void>;
}

export async function makeTempDir(prefix = 'chorus-test-'): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix));
}

/** The real server, in process, on 127.0.0.1 with a random port, and a real AWS SDK client for it. */
export async function startTestServer(config: Partial<ChorusServerConfig> = {}, logger?: Logger): Promise<TestServer> {
  const dataDir = await makeTempDir();
  const logs: string[] = [];
  const server = await startChorusServer(
    { host: '127.0.0.1', port: 0, dataDir, ...config },
    {
      logger: logger ?? createLogger({ level: 'debug', write: (line) => logs.push(line) }),
      env: { CHORUS_ACCESS_KEY_ID: TEST_CREDENTIALS.accessKeyId, CHORUS_SECRET_ACCESS_KEY: TEST_CREDENTIALS.secretAccessKey },
    },
  );
  const client = chimeClient(server.url);
  return {
    server,
    client,
    dataDir,
    logs,
    async close() {
      client.destroy();
      await server.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

export function chimeClient(endpoint: string, credentials = TEST_CREDENTIALS): ChimeSDKMeetingsClient {
  return new ChimeSDKMeetingsClient({ region: 'us-east-1', endpoint, credentials, maxAttempts: 1 });
}
