// Drives the web console in headless Chromium as its users would, for the console_… ctest cases, and
// prints what it saw as one JSON object (the C++ test judges it, and the database behind it).
// Usage: node console.mjs SCENARIO BASE_URL SHOTS_PREFIX ARGS_JSON
//   onboard   {token, org, user, seal_pem_file, ca_pem_file}   the onboarding form, the check, activation
//   replay    {token, case_id}                                   an overdue case's dead delivery replayed
//   audit     {token}                                            an auditor exports and verifies a bundle
//   cases     {token, case_id, reason}                           what the case list and one case page show
//                                                                (a restricted one opened with the reason)
//   alerts    {token, alert_id}                                  the alerts inbox; one alert acknowledged
//   account   {login, password, totp_secret, locked}             a person signs in: a wrong code, then the
//                                                                right one (computed here, RFC 6238); the
//                                                                accounts page, the locked one unlocked
// Every page is screenshotted at a laptop width (SHOTS_PREFIX-<page>.png); nothing may be fetched from
// anywhere but the gateway.
import { createHmac } from 'node:crypto';
import { launch } from './chromium.mjs';

const [, , scenario, base, shots, argsJson] = process.argv;
const args = JSON.parse(argsJson || '{}');
const out = { scenario, external: [], console_errors: [] };
const browser = await launch();
let n = 0;
const shot = async (page, name) => page.screenshot({ path: `${shots}-${++n}-${name}.png`, fullPage: true });

async function signIn(page) {
  await page.goto(`${base}/console/`);
  await page.getByLabel(/Токен доступу/).fill(args.token);
  await page.getByRole('button', { name: 'Увійти' }).click();
  await page.waitForSelector('header:not([hidden])');
}

// RFC 6238 with SHA-1, 6 digits, 30-second steps: an authenticator app's code, computed apart from the
// gateway's own implementation.
function totp(secretBase32, at = Date.now()) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = '';
  for (const ch of secretBase32.replace(/=+$/, '')) bits += alphabet.indexOf(ch).toString(2).padStart(5, '0');
  const key = Buffer.from(bits.match(/.{8}/g).map((b) => parseInt(b, 2)));
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(at / 30000)));
  const mac = createHmac('sha1', key).update(counter).digest();
  const offset = mac[mac.length - 1] & 15;
  return String((mac.readUInt32BE(offset) & 0x7fffffff) % 1000000).padStart(6, '0');
}

async function signInAsPerson(page) {
  await page.goto(`${base}/console/`);
  await page.getByLabel('Логін').fill(args.login);
  await page.getByLabel('Пароль').fill(args.password);
  // A code from another step than now's or the neighbours': refused, and the form stays.
  await page.getByLabel(/^Код/).fill(totp(args.totp_secret, Date.now() - 5 * 60000));
  await page.getByRole('button', { name: 'Увійти' }).click();
  await page.locator('#status p.error').waitFor();
  out.wrong_code_message = await page.locator('#status').innerText();
  out.form_after_wrong_code = await page.getByLabel('Логін').isVisible();
  out.header_before_signin = await page.locator('header').isVisible();  // no sections before signing in
  await shot(page, 'signin-refused');
  await page.getByLabel(/^Код/).fill(totp(args.totp_secret));
  await page.getByRole('button', { name: 'Увійти' }).click();
  await page.waitForSelector('header:not([hidden])');
  out.who = await page.locator('#who').innerText();
}

try {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  page.on('request', (r) => { if (!r.url().startsWith(base)) out.external.push(r.url()); });
  page.on('console', (m) => { if (m.type() === 'error') out.console_errors.push(m.text()); });
  page.on('pageerror', (e) => out.console_errors.push(String(e)));
  if (scenario === 'account') await signInAsPerson(page);
  else await signIn(page);
  if (scenario === 'account') {
    // The accounts page: a colleague's account locked after failed sign-ins, unlocked here.
    await page.goto(`${base}/console/#/accounts`);
    await page.locator('main[data-route="/accounts"]').waitFor();
    out.accounts = await page.$$eval('#accounts tbody tr', (rows) => rows.map((r) => r.cells[0].innerText));
    await shot(page, 'accounts');
    if (args.locked) {
      await page.locator(`[data-unlock="${args.locked}"]`).click();
      await page.getByText('Обліковий запис розблоковано').waitFor();
      await page.locator('main[data-route="/accounts"]').waitFor();
      out.unlock_buttons_after = await page.locator('[data-unlock]').count();
    }
  }
  out.lang = await page.evaluate(() => document.documentElement.lang);
  out.cookie_http_only = (await context.cookies()).every((c) => c.name !== 'vkhid_session' || c.httpOnly);
  out.cookie_visible_to_script = await page.evaluate(() => document.cookie.includes('vkhid_session'));

  if (scenario === 'onboard') {
    await page.goto(`${base}/console/#/participants/new`);
    await page.getByLabel('Код ЄДРПОУ').fill(args.org);
    await page.getByLabel('Назва', { exact: true }).fill(`Учасник ${args.org}`);
    await page.getByLabel('Ідентифікатор СЕД (sys_id)').fill(`edms-${args.org}`);
    await page.getByLabel('Номер меморандуму').fill('М-1/2026');
    await page.getByLabel('Дата меморандуму').fill('2026-11-20');
    await page.getByLabel('Адаптер').selectOption('amqp');
    await page.getByLabel('Користувач брокера').fill(args.user);
    await page.getByLabel(/Сертифікат печатки \(PEM\): або файл/).setInputFiles(args.seal_pem_file);
    await page.getByLabel(/Сертифікат ЦСК \(PEM\): або файл/).setInputFiles(args.ca_pem_file);
    await page.waitForFunction(() => [...document.querySelectorAll('textarea')].every((t) => t.value.includes('BEGIN')));
    await page.getByLabel('Ім’я').fill('Черговий СЕД');
    await page.getByLabel('Ел. пошта').fill('sed@example.gov.ua');
    await shot(page, 'onboard-form');
    await page.getByRole('button', { name: 'Зберегти' }).click();
    await page.getByText(/Учасника збережено, статус:/).waitFor();
    out.saved = await page.locator('#status').innerText();
    await page.getByRole('button', { name: 'Перевірити з’єднання' }).click();
    await page.locator('ol.steps').waitFor({ timeout: 60000 });
    out.steps = await page.$$eval('ol.steps li', (lis) => lis.map((li) => [li.dataset.step, li.dataset.result]));
    out.passed = await page.$eval('ol.steps', (o) => o.dataset.passed === 'true');
    await shot(page, 'onboard-check');
    await page.locator('#check').getByRole('button', { name: 'Активувати' }).click();
    await page.getByText(/Учасника активовано/).waitFor();
    await page.goto(`${base}/console/#/participants`);
    await page.locator('main[data-route="/participants"]').waitFor();
    out.status_in_list = await page.$$eval('tbody tr', (rows, org) =>
      rows.filter((r) => r.cells[0].innerText === org).map((r) => r.cells[2].innerText)[0], args.org);
    await shot(page, 'participants');
  } else if (scenario === 'replay') {
    await page.goto(`${base}/console/#/cases?overdue=1`);
    await page.locator('main[data-route="/cases?overdue=1"]').waitFor();
    out.overdue_rows = await page.$$eval('tbody tr', (rows) => rows.map((r) => [r.dataset.case, r.className]));
    await shot(page, 'cases-overdue');
    await page.locator(`tr[data-case="${args.case_id}"] a`).click();
    await page.locator('[data-replay]').first().waitFor();
    await shot(page, 'case-dead');
    await page.locator('[data-replay]').first().click();
    await page.getByText('Доставку поставлено в чергу знову').waitFor();
    await page.locator(`main[data-route="/cases/${args.case_id}"]`).waitFor();  // drawn again after the act
    out.replayed = true;
    await shot(page, 'case-replayed');
    await page.getByLabel('Що розглянути').fill('Перевірити затримку доставки');
    await page.getByRole('button', { name: 'Позначити', exact: true }).click();
    await page.getByText('Справу позначено на розгляд').waitFor();
    await page.goto(`${base}/console/#/cases?review=1`);
    await page.locator('main[data-route="/cases?review=1"]').waitFor();
    out.review_rows = await page.$$eval('tbody tr', (rows) => rows.map((r) => r.dataset.case));
    await page.goto(`${base}/console/#/deliveries`);
    await page.locator('main[data-route="/deliveries"]').waitFor();
    await shot(page, 'deliveries');
  } else if (scenario === 'audit') {
    await page.goto(`${base}/console/#/audit`);
    await page.getByRole('button', { name: 'Експортувати та перевірити' }).click();
    await page.locator('[data-verdict]').waitFor({ timeout: 120000 });
    out.verdict = await page.$eval('[data-verdict]', (e) => e.dataset.verdict);
    out.verdict_text = await page.locator('#verdict').innerText();
    out.batches = await page.locator('tbody').first().locator('tr').count();
    out.unusual_rows = await page.$$eval('#unusual tbody tr', (rows) => rows.map((r) => [...r.cells].map((c) => c.innerText)));
    await shot(page, 'audit');
    // The auditor may read, not act: the API refuses a change even with the session's CSRF token.
    out.act_status = await page.evaluate(async () => {
      const s = await (await fetch('/console/session')).json();
      const r = await fetch('/api/v1/admin/participants/00000000/suspend', { method: 'POST',
        headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': s.csrf }, body: '{"reason":"x"}' });
      return r.status;
    });
    await page.goto(`${base}/console/#/participants`);
    await page.locator('main[data-route="/participants"]').waitFor();
    out.action_buttons = await page.locator('tbody button').count();
    await page.goto(`${base}/console/#/reports`);
    // A report is built on the admin listener's threads; under a loaded machine it may take a while.
    const report = page.frameLocator('iframe.report');
    try {
      await report.locator('svg').first().waitFor({ timeout: 90000 });
    } finally {
      await shot(page, 'reports');
      out.report_text = (await report.locator('body').innerText({ timeout: 1000 }).catch(() => '')).slice(0, 300);
    }
    out.report_charts = await report.locator('svg[data-chart]').count();
  } else if (scenario === 'alerts') {
    await page.goto(`${base}/console/#/alerts?open=1`);
    await page.locator('main[data-route="/alerts?open=1"]').waitFor();
    const rows = () => page.$$eval('tbody tr', (trs) => trs.map((r) => ({ id: r.dataset.alertRow,
      open: r.classList.contains('open'), text: r.innerText })));
    out.open_rows = await rows();
    await shot(page, 'alerts-open');
    const form = page.locator(`form[data-alert="${args.alert_id}"]`);
    await form.getByLabel('Що зроблено').fill('Зателефонували до органу; відповідь буде завтра.');
    await form.getByRole('button', { name: 'Підтвердити' }).click();
    await page.getByText('Тривогу підтверджено').waitFor();
    await page.locator('main[data-route="/alerts?open=1"]').waitFor();
    out.open_after = await rows();
    await page.goto(`${base}/console/#/alerts`);
    await page.locator('main[data-route="/alerts"]').waitFor();
    out.all_after = await rows();
    await shot(page, 'alerts-all');
  } else if (scenario === 'cases') {
    await page.goto(`${base}/console/#/cases`);
    await page.locator('main[data-route="/cases"]').waitFor();
    out.rows = await page.$$eval('tbody tr', (rows) => rows.map((r) => r.dataset.case));
    await shot(page, 'cases');
    await page.goto(`${base}/console/#/cases/${args.case_id}`);
    await page.locator(`main[data-route="/cases/${args.case_id}"]`).waitFor();
    // A restricted case first asks why it is opened.
    out.asked_reason = await page.getByLabel(/^Підстава/).isVisible();
    if (out.asked_reason && args.reason) {
      await shot(page, 'case-reason');
      await page.getByLabel(/^Підстава/).fill(args.reason);
      await page.getByRole('button', { name: 'Відкрити справу' }).click();
      await page.locator('#access').waitFor();
      out.access_rows = await page.$$eval('#access tbody tr', (rows) => rows.map((r) => [...r.cells].map((c) => c.innerText)));
    }
    out.case_heading = await page.locator('h1').innerText();
    await shot(page, 'case');
    // The same on a phone: nothing wider than the screen.
    await page.setViewportSize({ width: 390, height: 844 });
    await page.goto(`${base}/console/#/cases`);
    await page.locator('main[data-route="/cases"]').waitFor();
    out.phone_overflow = await page.evaluate(() => document.documentElement.scrollWidth > window.innerWidth);
    await shot(page, 'cases-phone');
    // English on request.
    await page.getByRole('button', { name: 'English' }).click();
    out.english_heading = await page.locator('h1').innerText();
    out.lang_after = await page.evaluate(() => document.documentElement.lang);
  }
  // Signing out while a page is still loading: the case list's answer, already given by the gateway, is
  // held back until the sign-in form is shown, and must not be drawn over it.
  let release, answered;
  const gate = new Promise((ok) => { release = ok; });
  const fetched = new Promise((ok) => { answered = ok; });
  await page.route('**/api/v1/admin/cases?*', async (r) => {
    const response = await r.fetch();
    answered();
    await gate;
    await r.fulfill({ response });
  });
  await page.evaluate(() => { location.hash = '#/cases?q=slow'; });
  await fetched;
  // Signing out ends the session on the server: the API then refuses the cookie.
  await page.getByRole('button', { name: /Вийти|Sign out/ }).click();
  await page.getByRole('button', { name: /Увійти|Sign in/ }).waitFor();
  const delivered = page.waitForResponse((r) => r.url().includes('/api/v1/admin/cases?'));
  release();
  await delivered;
  out.list_drawn_over_signin = await page.waitForFunction(() => !document.querySelector('form.signin'),
    null, { timeout: 2000 }).then(() => true, () => false);
  await page.unroute('**/api/v1/admin/cases?*');
  out.after_signout = await page.evaluate(async () => (await fetch('/api/v1/admin/participants')).status);
} catch (e) {
  out.error = String(e && e.stack || e);
} finally {
  await browser.close();
}
console.log(JSON.stringify(out));
