import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

const eslint = new ESLint({ cwd: process.cwd() });

async function restrictedImportErrors(code: string, filePath: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath });
  return (result?.messages ?? []).filter((m) => m.ruleId === 'no-restricted-imports').map((m) => m.message);
}

describe('the lint rule that enforces process boundaries', () => {
  it.each([
    ["import { app } from 'electron';\nexport const a = app;\n", 'src-main/server/leak.ts'],
    ["import { ipcRenderer } from 'electron/renderer';\nexport const a = ipcRenderer;\n", 'src-main/server/leak.ts'],
    ["import { app } from 'electron';\nexport const a = app;\n", 'src-main/shared/leak.ts'],
    ["import { app } from 'electron';\nexport const a = app;\n", 'src-renderer/src/leak.ts'],
  ])('rejects %j in %s', async (code, file) => {
    expect(await restrictedImportErrors(code, file)).toEqual([expect.stringContaining('may import electron')]);
  });

  it.each([
    ["import { readFile } from 'node:fs';\nexport const a = readFile;\n"],
    ["import { join } from 'path';\nexport const a = join;\n"],
    ["import { createHash } from 'crypto';\nexport const a = createHash;\n"],
  ])('rejects Node built-ins in src-main/shared: %j', async (code) => {
    expect(await restrictedImportErrors(code, 'src-main/shared/leak.ts')).toEqual([expect.stringContaining('no Node built-ins')]);
  });

  it('allows electron in src-main/electron and the preload, and Node in the server', async () => {
    expect(await restrictedImportErrors("import { app } from 'electron';\nexport const a = app;\n", 'src-main/electron/ok.ts')).toEqual([]);
    expect(await restrictedImportErrors("import { contextBridge } from 'electron';\nexport const a = contextBridge;\n", 'src-preload/ok.ts')).toEqual([]);
    expect(await restrictedImportErrors("import { readFile } from 'node:fs';\nexport const a = readFile;\n", 'src-main/server/ok.ts')).toEqual([]);
  });

  it.each([
    ["import { MeetingRoom } from '../signaling/meeting-room.js';\nexport const a = MeetingRoom;\n", 'src-main/server/media/leak.ts', 'src-main/server/media is below'],
    ["import { MeetingService } from '../../control-plane/meeting-service.js';\nexport const a = MeetingService;\n", 'src-main/server/media/video/leak.ts', 'src-main/server/media is below'],
    ["import { handleAppApiRequest } from '../app-api/app-api-http.js';\nexport const a = handleAppApiRequest;\n", 'src-main/server/media/leak.ts', 'src-main/server/media is below'],
    ["import { SignalingGateway } from '../signaling/signaling-gateway.js';\nexport const a = SignalingGateway;\n", 'src-main/server/control-plane/leak.ts', 'src-main/server/control-plane is below'],
    ["import { MeetingMedia } from '../media/meeting-media.js';\nexport const a = MeetingMedia;\n", 'src-main/server/control-plane/leak.ts', 'src-main/server/control-plane is below'],
    ["import { MeetingRoom } from '../server/signaling/meeting-room.js';\nexport const a = MeetingRoom;\n", 'src-main/client/leak.ts', 'src-main/client may use only'],
  ])('keeps the server layers pointing down: rejects %j in %s', async (code, file, message) => {
    const errors = await restrictedImportErrors(code, file);
    expect(errors).toEqual([expect.stringContaining(message)]);
  });

  it('allows the downward imports, and still forbids electron in the layers', async () => {
    expect(await restrictedImportErrors("import { parseRtp } from '../rtp/rtp.js';\nexport const a = parseRtp;\n", 'src-main/server/media/video/ok.ts')).toEqual([]);
    expect(await restrictedImportErrors("import { MeetingMedia } from '../media/meeting-media.js';\nexport const a = MeetingMedia;\n", 'src-main/server/signaling/ok.ts')).toEqual([]);
    expect(await restrictedImportErrors("import { parseRtp } from '../server/media/rtp/rtp.js';\nexport const a = parseRtp;\n", 'src-main/client/ok.ts')).toEqual([]);
    expect(await restrictedImportErrors("import { frames } from '../../shared/signaling/frames.js';\nexport const a = frames;\n", 'src-main/server/media/ok.ts')).toEqual([]);
    expect(await restrictedImportErrors("import { app } from 'electron';\nexport const a = app;\n", 'src-main/server/media/leak.ts')).toEqual([expect.stringContaining('may import electron')]);
  });
});
