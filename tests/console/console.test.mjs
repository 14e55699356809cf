// End-to-end test of the collector console in headless Chromium (Debian's chromium, driven by
// playwright-core), against a real rmsd fed the IBM sample up to a day with invoices still open.
// run.sh starts rmsd and the replay; this file gets the address in RMS_HTTP, the business date
// in RMS_BUSINESS_DATE, and writes its screenshots to RMS_ARTIFACTS.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

const HTTP = process.env.RMS_HTTP;
const BASE = `http://${HTTP}`;
const ARTIFACTS = process.env.RMS_ARTIFACTS || 'console-artifacts';
const CHROMIUM = process.env.RMS_CHROMIUM || '/usr/bin/chromium';
const TIMEOUT_MS = 15000;

let browser;
let page;

// The API's own answer, fetched outside the browser, to compare the page against.
async function api(path) {
  const r = await fetch(`${BASE}${path}`);
  assert.equal(r.status, 200, `GET ${path}`);
  return r.json();
}

// A fresh load of a customer's page (a hash change alone would keep the last page's state).
async function openCustomer(id) {
  await page.goto('about:blank');
  await page.goto(`${BASE}/console/#/customer/${encodeURIComponent(id)}`);
  await page.locator('#open-items').waitFor();
}

async function shot(name) {
  await page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
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

test('the worklist shows the top customers of /v1/worklist, in order', async () => {
  const expected = (await api('/v1/worklist?limit=50')).customers;
  assert.ok(expected.length >= 5, `the replay should leave customers overdue: ${expected.length}`);
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
    assert.equal(await card.locator('[data-figure="Open"]').textContent(), `${f.open} ${currency}`);
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
  const top = (await api('/v1/worklist?limit=1')).customers[0].customer;
  await openCustomer(top);
  const form = page.locator('#promise-form');
  await form.locator('input[name=amount]').fill('25.50');
  await form.locator('button[type=submit]').click();
  await form.locator('.form-ok').getByText('Recorded.').waitFor();
  const row = page.locator('#promise-list tbody tr').first();
  await row.locator('[data-status=open]').waitFor();
  assert.match(await row.textContent(), /25\.50 USD/);
  const promise = await row.getAttribute('data-promise');
  assert.equal((await api(`/v1/promises/${encodeURIComponent(promise)}`)).status, 'open');
  await shot('console-customer-promise');
});

test('a rejected input shows its error and keeps what was typed', async () => {
  const top = (await api('/v1/worklist?limit=1')).customers[0].customer;
  await openCustomer(top);
  const form = page.locator('#promise-form');
  await form.locator('input[name=amount]').fill('12.345');
  await form.locator('button[type=submit]').click();
  const error = form.locator('.form-error');
  await error.getByText('The amount is not valid').waitFor();
  assert.match(await error.textContent(), /12\.345/);
  assert.equal(await form.locator('input[name=amount]').inputValue(), '12.345');
  await shot('console-rejected');
});

test('the overview shows the figures per currency of /v1/kpis', async () => {
  const kpis = await api('/v1/kpis');
  await page.goto(`${BASE}/console/#/overview`);
  const row = page.locator('#kpis tbody tr[data-currency=USD]');
  await row.waitFor();
  const cells = await row.locator('td').allTextContents();
  assert.equal(cells[1], `${kpis.currencies.USD.open} USD`);
  assert.equal(cells[2], `${kpis.currencies.USD.overdue} USD`);
  assert.equal(cells[4], kpis.currencies.USD.dso_standard.toFixed(1));
  const link = page.locator('#grafana a');
  assert.equal(await link.getAttribute('href'), process.env.RMS_GRAFANA_URL);
  await shot('console-overview');
});
