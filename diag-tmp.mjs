import { chromium } from 'playwright-core';
const link = process.argv[2];
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox','--disable-gpu','--use-fake-device-for-media-stream=fps=5','--use-fake-ui-for-media-stream','--autoplay-policy=no-user-gesture-required'], headless: true });
const pages = [];
for (const name of ['A', 'B', 'C', 'D']) {
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  await ctx.addInitScript(() => {
    const orig = RTCRtpSender.prototype.setParameters;
    const origGet = RTCRtpSender.prototype.getParameters;
    RTCRtpSender.prototype.getParameters = function () { this.__got = (this.__got ?? 0) + 1; this.__gotAt = performance.now(); return origGet.call(this); };
    RTCRtpSender.prototype.setParameters = function (p, ...rest) {
      const stack = new Error('setParameters called').stack;
      const got = this.__got, at = this.__gotAt, kind = this.track?.kind, tid = p?.transactionId;
      return orig.call(this, p, ...rest).catch((e) => { console.log('SETPARAM FAIL', e.message, 'got', got, 'gotAgo', performance.now() - at, 'kind', kind, 'tid', tid, stack); throw e; });
    };
  });
  const p = await ctx.newPage();
  p.on('console', (m) => { if (m.text().startsWith('SETPARAM')) console.log(`[${name}]`, m.text()); });
  p.on('pageerror', (e) => console.log(`[${name}] pageerror: ${e.message}\n${e.stack}`));
  await p.goto(link);
  await p.getByTestId('display-name').fill(name);
  await p.getByTestId('join-button').click();
  await p.getByTestId('meeting-screen').waitFor();
  pages.push(p);
  await new Promise((r) => setTimeout(r, 3000));
}
console.log('all joined');
await pages[1].getByTestId('share-button').click();
await new Promise((r) => setTimeout(r, 15000));
await pages[1].getByTestId('share-button').click();
await pages[2].getByTestId('camera-button').click();
await new Promise((r) => setTimeout(r, 5000));
await pages[2].getByTestId('camera-button').click();
await new Promise((r) => setTimeout(r, 15000));
console.log('done');
await browser.close();
