// End-to-end test of the collector console in headless Chromium (Debian's chromium, driven by
// playwright-core), against real rmsd instances fed the IBM sample up to a day with invoices
// still open. run.sh starts them and the replays; this file gets the open instance's address in
// RMS_HTTP, the one with authentication on in RMS_AUTH_HTTP (users anna, who writes as producer
// "console", and viewer, who only reads, with their passwords in RMS_ANNA_PASSWORD and
// RMS_VIEWER_PASSWORD), and writes its screenshots to RMS_ARTIFACTS.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

const HTTP = process.env.RMS_HTTP;
const BASE = `http://${HTTP}`;
const AUTH_BASE = `http://${process.env.RMS_AUTH_HTTP}`;
const ARTIFACTS = process.env.RMS_ARTIFACTS || 'console-artifacts';
const CHROMIUM = process.env.RMS_CHROMIUM || '/usr/bin/chromium';
const TIMEOUT_MS = 15000;
// The console's worklist refresh (console/app.js).
const WORKLIST_REFRESH_MS = 5000;

let browser;
let page;

function basic(user, password) {
  return `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
}

// The API's own answer, fetched outside the browser, to compare the page against.
async function api(path, { base = BASE, authorization } = {}) {
  const r = await fetch(`${base}${path}`, authorization ? { headers: { authorization } } : {});
  assert.equal(r.status, 200, `GET ${path}`);
  return r.json();
}

// Posts protocol events to the open rmsd, as an upstream system would; each must be applied.
let posted = 0;
async function postEvents(...events) {
  for (const event of events) {
    const r = await fetch(`${BASE}/v1/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ id: `e2e-${++posted}`, ...event }),
    });
    const answer = await r.json();
    assert.equal(answer.ok, true, `${event.type}: ${JSON.stringify(answer)}`);
  }
}

// A fresh load of a customer's page (a hash change alone would keep the last page's state).
async function openCustomer(id, { on = page, base = BASE } = {}) {
  await on.goto('about:blank');
  await on.goto(`${base}/console/#/customer/${encodeURIComponent(id)}`);
  await on.locator('#open-items').waitFor();
}

// Opens the top customer's page and submits its promise form with `amount`; gives the form.
async function submitPromise(amount) {
  const top = (await api('/v1/worklist?limit=1')).customers[0].customer;
  await openCustomer(top);
  const form = page.locator('#promise-form');
  await form.locator('input[name=amount]').fill(amount);
  await form.locator('button[type=submit]').click();
  return form;
}

async function shot(name, on = page) {
  await on.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
}

// The first worklist customer for which `accept(id)` resolves to something, and that thing.
async function findCustomer(accept) {
  for (const c of (await api('/v1/worklist?limit=50')).customers) {
    const found = await accept(c.customer);
    if (found) {
      return found;
    }
  }
  return assert.fail('no worklist customer fits');
}

before(async () => {
  assert.ok(HTTP, 'RMS_HTTP (host:port of rmsd) is not set');
  mkdirSync(ARTIFACTS, { recursive: true });
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  page = await browser.newPage({ viewport: { width: 1280, height: 860 } });
  page.setDefaultTimeout(TIMEOUT_MS);
  page.on('pageerror', (e) => console.error(`page error: ${e.message}`));
});

after(async () => {
  await browser?.close();
});

describe('without authentication', () => {
  test('the worklist shows the top customers of /v1/worklist, in order', async () => {
    const expected = (await api('/v1/worklist?limit=50')).customers;
    assert.ok(expected.length >= 5,
              `the replay should leave customers overdue: ${expected.length}`);
    await page.goto(`${BASE}/console/`);
    await page.locator('#worklist tbody tr').first().waitFor();
    const rows = await page.locator('#worklist tbody tr').evaluateAll((trs) =>
      trs.map((tr) => ({ customer: tr.dataset.customer, score: tr.cells[2].textContent })));
    assert.deepEqual(rows.slice(0, 5).map((r) => r.customer),
                     expected.slice(0, 5).map((c) => c.customer));
    assert.equal(rows.length, expected.length);
    assert.equal(rows[0].score, expected[0].score.toFixed(2));
    await shot('console-worklist');

    // A segment filter gives what the API gives for it.
    const segment = expected[0].segment;
    const filtered = (await api(`/v1/worklist?limit=50&segment=${segment}`)).customers;
    await page.selectOption('select[name=segment]', segment);
    await page.waitForFunction((n) => location.hash.includes('segment=') &&
      document.querySelectorAll('#worklist tbody tr').length === n, filtered.length);
    const shown = await page.locator('#worklist tbody tr').evaluateAll((trs) =>
      trs.map((tr) => tr.dataset.customer));
    assert.deepEqual(shown, filtered.map((c) => c.customer));
  });

  test('a customer page shows the statement the API returns', async () => {
    const top = (await api('/v1/worklist?limit=1')).customers[0].customer;
    const customer = await api(`/v1/customers/${encodeURIComponent(top)}`);
    const items = await api(`/v1/customers/${encodeURIComponent(top)}/items`);
    await page.goto(`${BASE}/console/#/customer/${encodeURIComponent(top)}`);
    await page.locator('#open-items tbody tr').first().waitFor();

    const rows = await page.locator('#open-items tbody tr').evaluateAll((trs) =>
      trs.map((tr) => Array.from(tr.cells, (td) => td.textContent.trim())));
    assert.equal(rows.length, items.items.length);
    items.items.forEach((item, k) => {
      assert.deepEqual(rows[k].slice(0, 6), [item.invoice, String(item.installment), item.due,
        String(item.days_past_due), item.bucket, `${item.open} ${item.currency}`]);
    });
    for (const [currency, f] of Object.entries(customer.currencies)) {
      const card = page.locator(`#figures [data-currency="${currency}"]`);
      assert.equal(await card.locator('[data-figure="Open"]').textContent(),
                   `${f.open} ${currency}`);
      assert.equal(await card.locator('[data-figure="Overdue"]').textContent(),
                   `${f.overdue} ${currency}`);
      for (const [bucket, amount] of Object.entries(f.aging)) {
        assert.equal(await card.locator(`[data-bucket="${bucket}"]`).textContent(),
                     `${amount} ${currency}`);
      }
    }
    await shot('console-customer');
  });

  test('logging a contact shows it in the timeline', async () => {
    const top = (await api('/v1/worklist?limit=1')).customers[0].customer;
    await openCustomer(top);
    const note = `called about the overdue invoices ${Date.now()}`;
    const form = page.locator('#contact-form');
    await form.locator('select[name=channel]').selectOption('phone');
    await form.locator('input[name=outcome]').fill('reached');
    await form.locator('textarea[name=note]').fill(note);
    await form.locator('button[type=submit]').click();
    await form.locator('.form-ok').getByText('Recorded.').waitFor();

    const timeline = await api(`/v1/customers/${encodeURIComponent(top)}/timeline?limit=5`);
    assert.ok(timeline.entries.some((e) => e.kind === 'contact' && e.note === note),
              'the API timeline holds the contact');
    await page.locator('#timeline-list li[data-kind=contact]', { hasText: note }).waitFor();
  });

  test('recording a promise shows it as open', async () => {
    const form = await submitPromise('25.50');
    await form.locator('.form-ok').getByText('Recorded.').waitFor();
    const row = page.locator('#promise-list tbody tr').first();
    await row.locator('[data-status=open]').waitFor();
    assert.match(await row.textContent(), /25\.50 USD/);
    const promise = await row.getAttribute('data-promise');
    assert.equal((await api(`/v1/promises/${encodeURIComponent(promise)}`)).status, 'open');
    await shot('console-customer-promise');
  });

  test('a rejected input shows its error and keeps what was typed', async () => {
    const form = await submitPromise('12.345');
    const error = form.locator('.form-error');
    await error.getByText('The amount is not valid').waitFor();
    assert.match(await error.textContent(), /12\.345/);
    assert.equal(await form.locator('input[name=amount]').inputValue(), '12.345');
    await shot('console-rejected');
  });

  test('a dispute opened and resolved from the customer page', async () => {
    // A customer with open items, none of them disputed; the invoice of the first.
    const { customer, invoice } = await findCustomer(async (id) => {
      const open = (await api(`/v1/customers/${encodeURIComponent(id)}/items`)).items;
      return open.length > 0 && !open.some((i) => i.disputed) &&
        { customer: id, invoice: open[0].invoice };
    });
    const items = () => api(`/v1/customers/${encodeURIComponent(customer)}/items`);
    await openCustomer(customer);
    const form = page.locator('#dispute-form');

    await form.locator('select[name=invoice]').selectOption(invoice);
    await form.locator('input[name=text]').fill('quantity does not match the delivery');
    await form.locator('button[value=open]').click();
    await page.locator('#dispute-list li', { hasText: `Invoice ${invoice} ` }).first().waitFor();
    assert.ok((await items()).items.filter((i) => i.invoice === invoice).every((i) => i.disputed),
              `the API shows ${invoice} disputed`);
    await shot('console-customer-dispute');

    await form.locator('select[name=invoice]').selectOption(invoice);
    await form.locator('input[name=text]').fill('credit note agreed');
    await form.locator('button[value=resolve]').click();
    await page.locator('#disputes').getByText('No open item is under dispute.').waitFor();
    assert.ok((await items()).items.every((i) => !i.disputed), `the API shows ${invoice} resolved`);
  });

  test('the worklist refreshes live, without a reload', async () => {
    const worklist = await api('/v1/worklist?limit=50');
    const chosen = [worklist.customers[1], worklist.customers[3]].map((c) => c.customer);
    assert.ok(worklist.customers.every((c) => !c.owner), 'the IBM sample names no owners');
    // A page of its own (its own context) whose timers run on a paused test clock: the console's
    // refresh timer fires only when the test moves the clock on, not after seconds of waiting,
    // and not before the events are in.
    const live = await browser.newPage({ viewport: { width: 1280, height: 860 } });
    try {
      live.setDefaultTimeout(TIMEOUT_MS);
      // Paused before the page exists: it loads without timers, and its interval then waits.
      const start = Date.now();
      await live.clock.install({ time: start });
      await live.clock.pauseAt(start + 60000);
      await live.goto(`${BASE}/console/#/worklist`);
      await live.locator('#worklist tbody tr').first().waitFor();
      await live.evaluate(() => { window.stillTheSamePage = true; });

      // An upstream system gives two customers an owner; the open page picks it up.
      await postEvents(...chosen.map((customer) => ({
        type: 'customer.upserted', date: worklist.business_date, customer, owner: 'kim',
      })));
      const owners = () => live.locator('#worklist tbody tr').evaluateAll((trs, ids) =>
        ids.map((id) => trs.find((tr) => tr.dataset.customer === id).cells[5].textContent), chosen);
      assert.deepEqual(await owners(), ['—', '—'], 'not shown before the refresh');
      await live.clock.runFor(WORKLIST_REFRESH_MS);
      await live.waitForFunction((ids) => ids.every((id) => {
        const row = document.querySelector(`#worklist tr[data-customer="${id}"]`);
        return row && row.cells[5].textContent === 'kim';
      }), chosen, { polling: 100, timeout: TIMEOUT_MS });
      assert.deepEqual(await owners(), ['kim', 'kim']);
      assert.equal(await live.evaluate(() => window.stillTheSamePage), true);
    } finally {
      await live.close();
    }
  });

  test('the owner filter gives what the API gives for that owner', async () => {
    const filtered = (await api('/v1/worklist?limit=50&owner=kim')).customers;
    assert.equal(filtered.length, 2, 'the previous test gave two customers to kim');
    await page.goto('about:blank');
    await page.goto(`${BASE}/console/#/worklist`);
    await page.locator('#worklist tbody tr').first().waitFor();
    await page.locator('input[name=owner]').fill('kim');
    await page.locator('input[name=owner]').press('Tab');
    await page.waitForFunction((n) => location.hash.includes('owner=kim') &&
      document.querySelectorAll('#worklist tbody tr').length === n, filtered.length);
    const shown = await page.locator('#worklist tbody tr').evaluateAll((trs) =>
      trs.map((tr) => [tr.dataset.customer, tr.cells[5].textContent]));
    assert.deepEqual(shown, filtered.map((c) => [c.customer, 'kim']));
    await shot('console-worklist-owner');
  });

  test('the overview shows the figures per currency of /v1/kpis', async () => {
    // A promise kept by a payment, so that the kept rate is a number (the open promise from the
    // promise test must not count in it).
    const { business_date: day } = await api('/v1/kpis');
    const customer = await findCustomer(async (id) =>
      (await api(`/v1/customers/${encodeURIComponent(id)}/promises`)).promises.length === 0 && id);
    await postEvents(
      { type: 'promise.made', date: day, customer, promise: 'PR-e2e-kept', currency: 'USD',
        amount: '1.00', due: day },
      { type: 'payment.received', date: day, customer, payment: 'PAY-e2e-kept', currency: 'USD',
        amount: '1.00' });
    const kpis = await api('/v1/kpis');
    const usd = kpis.currencies.USD;
    const promises = kpis.promises.by_currency.USD;
    assert.ok(promises.kept >= 1 && promises.open >= 1, JSON.stringify(promises));
    assert.notEqual(usd.cei, null);

    await page.goto(`${BASE}/console/#/overview`);
    const row = page.locator('#kpis tbody tr[data-currency=USD]');
    await row.waitFor();
    const cells = await row.locator('td').allTextContents();
    assert.equal(cells[1], `${usd.open} USD`);
    assert.equal(cells[2], `${usd.overdue} USD`);
    assert.equal(cells[4], usd.dso_standard.toFixed(1));
    assert.equal(cells[6], `${usd.cei.toFixed(1)} %`);
    assert.equal(cells[7], `${(promises.kept_rate_90d * 100).toFixed(1)} %`);
    const link = page.locator('#grafana a');
    assert.equal(await link.getAttribute('href'), process.env.RMS_GRAFANA_URL);
    await shot('console-overview');
  });
});

describe('with authentication on', () => {
  let context;
  let signed;  // the page of this run, in its own browser context (its own sessionStorage)
  const anna = () => basic('anna', process.env.RMS_ANNA_PASSWORD);

  before(async () => {
    assert.ok(process.env.RMS_AUTH_HTTP, 'RMS_AUTH_HTTP (rmsd with authentication) is not set');
    context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
    signed = await context.newPage();
    signed.setDefaultTimeout(TIMEOUT_MS);
    signed.on('pageerror', (e) => console.error(`page error: ${e.message}`));
  });

  after(async () => {
    await context?.close();
  });

  async function signIn(user, password) {
    const dialog = signed.locator('#login');
    await dialog.waitFor();
    await dialog.locator('input[name=user]').fill(user);
    await dialog.locator('input[name=password]').fill(password);
    await dialog.locator('button[type=submit]').click();
  }

  test('the console signs in; a wrong password is told in words', async () => {
    await signed.goto(`${AUTH_BASE}/console/`);
    await signIn('anna', 'not-the-password');
    await signed.locator('#login-reason')
      .getByText('The user name or password was not accepted.').waitFor();
    await shot('console-sign-in-refused', signed);

    await signIn('anna', process.env.RMS_ANNA_PASSWORD);
    await signed.locator('#worklist tbody tr').first().waitFor();
    const expected = (await api('/v1/worklist?limit=50', { base: AUTH_BASE,
                                                           authorization: anna() })).customers;
    const shown = await signed.locator('#worklist tbody tr').evaluateAll((trs) =>
      trs.map((tr) => tr.dataset.customer));
    assert.deepEqual(shown, expected.map((c) => c.customer));

    // The credentials live in this tab's sessionStorage, and nowhere else.
    const stored = await signed.evaluate(() => ({
      session: Object.fromEntries(Object.entries(sessionStorage)),
      local: localStorage.length,
      cookies: document.cookie,
    }));
    assert.deepEqual(stored, { session: { 'rms.authorization': anna() }, local: 0, cookies: '' });
  });

  test('a contact logged while signed in shows in the timeline', async () => {
    const top = (await api('/v1/worklist?limit=1', { base: AUTH_BASE,
                                                     authorization: anna() })).customers[0];
    await openCustomer(top.customer, { on: signed, base: AUTH_BASE });
    const note = `signed-in call ${Date.now()}`;
    const form = signed.locator('#contact-form');
    await form.locator('textarea[name=note]').fill(note);
    await form.locator('button[type=submit]').click();
    await form.locator('.form-ok').getByText('Recorded.').waitFor();
    await signed.locator('#timeline-list li[data-kind=contact]', { hasText: note }).waitFor();
    const timeline = await api(
      `/v1/customers/${encodeURIComponent(top.customer)}/timeline?limit=5`,
      { base: AUTH_BASE, authorization: anna() });
    assert.ok(timeline.entries.some((e) => e.kind === 'contact' && e.note === note),
              'the API timeline holds the contact');
    await shot('console-signed-in-customer', signed);
  });

  test('a user who only reads is refused in words and keeps what was typed', async () => {
    await signed.locator('#logout').click();
    await signIn('viewer', process.env.RMS_VIEWER_PASSWORD);
    const form = signed.locator('#contact-form');
    await signed.locator('#open-items').waitFor();
    await form.locator('textarea[name=note]').fill('viewer tries to write');
    await form.locator('button[type=submit]').click();
    const error = form.locator('.form-error');
    await error.getByText('You are not allowed to do that').waitFor();
    assert.match(await error.textContent(), /user "viewer" may read but not write/);
    assert.equal(await form.locator('textarea[name=note]').inputValue(), 'viewer tries to write');
  });
});
