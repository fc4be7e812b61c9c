// The user's browser in the sign-in test: headless Chromium opens the sign-in URL (the last argument), fails
// once with a wrong password, signs in as demo/demo, approves, and checks it lands on the bridge's "Signed in"
// page. NODE_PATH must hold playwright-core; MESHAI_SIGNIN_SCREENSHOT names the screenshot to write.
const fs = require('fs');
const { chromium } = require('playwright-core');

async function main() {
  const url = process.argv[process.argv.length - 1];
  const browser = await chromium.launch({
    executablePath: process.env.MESHAI_CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  });
  try {
    const page = await browser.newPage();
    page.setDefaultTimeout(180000); // a hang guard: a busy machine may take long, a broken page never loads
    await page.goto(url);
    await page.fill('#username', 'demo');
    await page.fill('#password', 'wrong');
    await page.click('button[value=approve]');
    await page.waitForSelector('.problem');
    await page.fill('#username', 'demo');
    await page.fill('#password', 'demo');
    await Promise.all([page.waitForURL(/^http:\/\/127\.0\.0\.1:\d+\/callback/), page.click('button[value=approve]')]);
    const body = await page.textContent('body');
    if (!body.includes('Signed in')) throw new Error('the callback page does not say "Signed in": ' + body);
    const shot = process.env.MESHAI_SIGNIN_SCREENSHOT;
    if (shot) {
      // Written beside, then renamed: the test that waits for it never reads half a file.
      await page.screenshot({ path: shot + '.tmp.png' });
      fs.renameSync(shot + '.tmp.png', shot);
    }
  } finally {
    await browser.close();
  }
}

main().catch((err) => {
  console.error('login.cjs:', err.message);
  process.exit(1);
});
