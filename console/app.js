// The RMS collector console: the worklist, a customer's statement with its actions, and the
// overview. Plain JavaScript against rmsd's own API (docs/console.md); no build step.
//
// Money stays the decimal string the API sends: it is shown as it is, next to its currency, and
// typed amounts are sent as typed. Nothing here turns an amount into a JavaScript number.

const AUTH_KEY = 'rms.authorization';
const WORKLIST_REFRESH_MS = 5000;
const PAGE_REFRESH_MS = 15000;
const SEGMENTS = ['new', 'prompt', 'slow', 'chronic_late', 'disputing', 'promise_breaker'];
const CHANNELS = ['phone', 'email', 'whatsapp', 'sms', 'letter', 'portal', 'other'];
const BUCKETS = ['current', '1-30', '31-60', '61-90', '91-120', '120+'];

// What each error code of the protocol and the query API means, in words.
const ERROR_WORDS = {
  invalid_json: 'The event is not valid JSON',
  line_too_long: 'The event is too long',
  missing_field: 'A required field is missing',
  unknown_type: 'The event type is not known',
  invalid_field: 'A field has a value that is not allowed',
  invalid_date: 'A date is not valid',
  invalid_amount: 'The amount is not valid',
  invalid_currency: 'The currency is not valid',
  conflict: 'This event was already sent with other content',
  unknown_customer: 'The customer does not exist',
  unknown_invoice: 'The invoice does not exist',
  unknown_payment: 'The payment does not exist',
  unknown_promise: 'The promise does not exist',
  already_exists: 'That number is already used',
  customer_mismatch: 'The item belongs to another customer',
  currency_mismatch: 'The currency does not match',
  already_reversed: 'The payment was already reversed',
  invalid_state: 'That is not possible in the current state',
  unsupported_type: 'The engine does not support this event type yet',
  unavailable: 'The engine cannot commit right now; try again',
  not_found: 'Not found',
  body_too_large: 'The request is too large',
  unsupported_media_type: 'The request type is not accepted',
  unauthorized: 'You need to sign in',
  forbidden: 'You are not allowed to do that',
  network: 'rmsd cannot be reached',
};

class ApiError extends Error {
  constructor(status, code, detail) {
    super(detail || code);
    this.status = status;
    this.code = code;
    this.detail = detail || '';
  }

  // "The amount is not valid: amount "12.345" has 3 decimals, USD allows 2"
  get words() {
    const head = ERROR_WORDS[this.code] || `Error ${this.code || this.status}`;
    return this.detail && this.detail !== this.code ? `${head}: ${this.detail}` : head;
  }
}

// ---- The API ----

async function request(method, path, { body, contentType } = {}) {
  // X-Requested-With: rmsd then leaves out WWW-Authenticate, so the browser opens no login box
  // of its own beside the console's form.
  const headers = { Accept: 'application/json', 'X-Requested-With': 'rms-console' };
  const auth = sessionStorage.getItem(AUTH_KEY);
  if (auth) {
    headers.Authorization = auth;
  }
  if (body !== undefined) {
    headers['Content-Type'] = contentType || 'application/json';
  }
  let response;
  try {
    response = await fetch(path, { method, headers, body, cache: 'no-store' });
  } catch (e) {
    throw new ApiError(0, 'network', `${method} ${path} failed (${e.message})`);
  }
  const text = await response.text();
  let json = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    json = null;
  }
  if (response.status === 401) {
    showLogin(auth ? 'The user name or password was not accepted.' : null);
    throw new ApiError(401, 'unauthorized', json && json.message);
  }
  return { status: response.status, json, text };
}

async function get(path) {
  const r = await request('GET', path);
  if (r.status !== 200) {
    const j = r.json || {};
    throw new ApiError(r.status, j.error || String(r.status), j.message || r.text.slice(0, 200));
  }
  return r.json;
}

// Sends one protocol event; resolves to its answer when applied (or a duplicate of an applied
// one), rejects with the answer's error otherwise.
async function postEvent(event) {
  const r = await request('POST', '/v1/events', { body: JSON.stringify(event) });
  const j = r.json || {};
  if (j.ok === true) {
    return j;
  }
  throw new ApiError(r.status, j.error || String(r.status), j.message || r.text.slice(0, 200));
}

const enc = encodeURIComponent;

// ---- Small DOM helpers (text only: nothing from the API becomes markup) ----

function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) {
      continue;
    }
    if (k.startsWith('on')) {
      el.addEventListener(k.slice(2), v);
    } else if (k === 'class') {
      el.className = v;
    } else {
      el.setAttribute(k, v === true ? '' : String(v));
    }
  }
  for (const c of children.flat(Infinity)) {
    if (c !== undefined && c !== null && c !== false) {
      el.append(c instanceof Node ? c : String(c));
    }
  }
  return el;
}

function money(amount, currency) {
  return h('span', { class: 'money' }, `${amount} ${currency}`);
}

function fixed(value, digits = 1) {
  return value === null || value === undefined ? '—' : Number(value).toFixed(digits);
}

function setStatus(text) {
  document.getElementById('status').textContent = text;
}

function showError(err) {
  const banner = document.getElementById('error');
  if (!err) {
    banner.hidden = true;
    banner.textContent = '';
    return;
  }
  if (err.code === 'unauthorized') {
    return;  // the login form says it
  }
  banner.textContent = err instanceof ApiError ? err.words : String(err);
  banner.hidden = false;
}

// Random hex, also where crypto.randomUUID is missing (it needs a secure context).
function randomHex(bytes) {
  const a = new Uint8Array(bytes);
  crypto.getRandomValues(a);
  return Array.from(a, (b) => b.toString(16).padStart(2, '0')).join('');
}

function addDays(isoDate, days) {
  const d = new Date(`${isoDate}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + days);
  return d.toISOString().slice(0, 10);
}

// ---- Sign-in ----

let retryAfterLogin = null;

function showLogin(reason) {
  const dialog = document.getElementById('login');
  document.getElementById('login-reason').textContent =
    reason || 'The API asks for a user name and password.';
  if (!dialog.open) {
    dialog.showModal();
  }
}

function setUpLogin() {
  const form = document.getElementById('login-form');
  form.addEventListener('submit', () => {
    const user = form.elements.user.value;
    const password = form.elements.password.value;
    const bytes = new TextEncoder().encode(`${user}:${password}`);
    const token = btoa(String.fromCharCode(...bytes));
    sessionStorage.setItem(AUTH_KEY, `Basic ${token}`);
    form.elements.password.value = '';
    document.getElementById('logout').hidden = false;
    if (retryAfterLogin) {
      retryAfterLogin();
    }
  });
  const logout = document.getElementById('logout');
  logout.hidden = !sessionStorage.getItem(AUTH_KEY);
  logout.addEventListener('click', () => {
    sessionStorage.removeItem(AUTH_KEY);
    logout.hidden = true;
    route();
  });
}

// ---- Views ----

let timer = null;
let current = null;  // the view on screen: { refresh(), stop() }

function schedule(fn, ms) {
  clearInterval(timer);
  timer = setInterval(() => {
    if (!document.hidden) {
      fn();
    }
  }, ms);
}

function parseHash() {
  const raw = location.hash.replace(/^#\/?/, '');
  const [path, query] = raw.split('?');
  return { parts: path.split('/').filter(Boolean), params: new URLSearchParams(query || '') };
}

function route() {
  clearInterval(timer);
  showError(null);
  const { parts, params } = parseHash();
  const view = document.getElementById('view');
  view.replaceChildren();
  const page = parts[0] || 'worklist';
  for (const a of document.querySelectorAll('[data-nav]')) {
    a.classList.toggle('active', a.dataset.nav === page);
  }
  if (page === 'customer' && parts[1]) {
    current = customerView(view, decodeURIComponent(parts[1]));
  } else if (page === 'overview') {
    current = overviewView(view);
  } else {
    current = worklistView(view, params);
  }
  retryAfterLogin = () => current.refresh();
}

// The worklist: who to call now, refreshed every few seconds.
function worklistView(root, params) {
  const owner = h('input', { name: 'owner', value: params.get('owner') || '',
                             placeholder: 'any', 'aria-label': 'Owner' });
  const segment = h('select', { name: 'segment', 'aria-label': 'Segment' },
                    h('option', { value: '' }, 'any'),
                    SEGMENTS.map((s) => h('option', { value: s }, s)));
  segment.value = params.get('segment') || '';
  const apply = () => {
    const q = new URLSearchParams();
    if (owner.value.trim()) {
      q.set('owner', owner.value.trim());
    }
    if (segment.value) {
      q.set('segment', segment.value);
    }
    const hash = `#/worklist${q.toString() ? `?${q}` : ''}`;
    if (location.hash !== hash) {
      location.hash = hash;
    } else {
      refresh();
    }
  };
  owner.addEventListener('change', apply);
  segment.addEventListener('change', apply);
  const body = h('tbody');
  const summary = h('p', { class: 'muted', id: 'worklist-summary' });
  root.append(
    h('h1', {}, 'Worklist'),
    h('div', { class: 'filters' },
      h('label', {}, 'Owner', owner), h('label', {}, 'Segment', segment)),
    summary,
    h('table', { id: 'worklist' },
      h('thead', {}, h('tr', {}, h('th', { class: 'num' }, '#'), h('th', {}, 'Customer'),
        h('th', { class: 'num' }, 'Score'), h('th', {}, 'Why'), h('th', {}, 'Segment'),
        h('th', {}, 'Owner'), h('th', { class: 'num' }, 'Overdue'),
        h('th', { class: 'num' }, 'Days past due'), h('th', {}, 'Strategy'))),
      body));

  async function refresh() {
    const q = new URLSearchParams({ limit: '50' });
    if (params.get('owner')) {
      q.set('owner', params.get('owner'));
    }
    if (params.get('segment')) {
      q.set('segment', params.get('segment'));
    }
    try {
      const w = await get(`/v1/worklist?${q}`);
      body.replaceChildren(...w.customers.map((c, i) => h('tr', { 'data-customer': c.customer },
        h('td', { class: 'num' }, i + 1),
        h('td', {}, h('a', { href: `#/customer/${enc(c.customer)}` }, c.customer)),
        h('td', { class: 'num' }, fixed(c.score, 2)),
        h('td', {}, reasons(c.breakdown)),
        h('td', {}, h('span', { class: 'tag' }, c.segment)),
        h('td', {}, c.owner || '—'),
        h('td', { class: 'num' }, c.overdue_major),
        h('td', { class: 'num' }, c.days_past_due),
        h('td', {}, c.strategy))));
      summary.textContent = w.customers.length === 0
        ? 'Nobody is overdue with these filters.'
        : `${w.customers.length} customers with something overdue, highest priority first ` +
          '(overdue in whole major units of all currencies).';
      setStatus(`business date ${w.business_date || '—'} · updated ` +
                new Date().toLocaleTimeString());
      showError(null);
    } catch (e) {
      showError(e);
    }
  }

  refresh();
  schedule(refresh, WORKLIST_REFRESH_MS);
  return { refresh };
}

const REASON_WORDS = {
  overdue: 'overdue amount', days_past_due: 'days past due', risk: 'risk',
  broken_promises: 'broken promises', disputes: 'disputes', credit_limit: 'over credit limit',
};

function reasons(breakdown) {
  return Object.entries(breakdown || {})
    .filter(([, v]) => Math.abs(v) >= 0.00005)
    .sort((a, b) => Math.abs(b[1]) - Math.abs(a[1]))
    .map(([k, v]) => h('span', { class: `tag ${v < 0 ? 'good' : 'warn'}` },
      `${REASON_WORDS[k] || k} ${v > 0 ? '+' : '−'}${Math.abs(v).toFixed(1)}`));
}

// A customer: the statement, promises, disputes, timeline, and the actions.
function customerView(root, id) {
  const header = h('div', { id: 'customer-header' });
  const figures = h('div', { id: 'figures', class: 'grid' });
  const items = h('div', { id: 'items' });
  const promises = h('div', { id: 'promises' });
  const disputes = h('div', { id: 'disputes' });
  const timeline = h('div', { id: 'timeline' });
  const state = { businessDate: null, currencies: [], items: [], customer: null };

  const contact = contactForm(id, state, () => refresh());
  const promise = promiseForm(id, state, () => refresh());
  const dispute = disputeForm(id, state, () => refresh());
  root.append(
    h('p', {}, h('a', { href: '#/worklist' }, '← Worklist')),
    header,
    h('h2', {}, 'Statement'), figures, items,
    h('div', { class: 'grid' },
      h('section', { class: 'card' }, h('h2', {}, 'Log a contact'), contact.form),
      h('section', { class: 'card' }, h('h2', {}, 'Record a promise to pay'), promise.form),
      h('section', { class: 'card' }, h('h2', {}, 'Dispute'), dispute.form)),
    h('h2', {}, 'Promises'), promises,
    h('h2', {}, 'Disputes'), disputes,
    h('h2', {}, 'Timeline'), timeline);

  async function refresh() {
    try {
      const [c, it, pr] = await Promise.all([
        get(`/v1/customers/${enc(id)}`),
        get(`/v1/customers/${enc(id)}/items`),
        get(`/v1/customers/${enc(id)}/promises`),
      ]);
      state.customer = c;
      state.businessDate = it.business_date;
      state.currencies = Object.keys(c.currencies);
      state.items = it.items;
      renderHeader(header, c, it.business_date);
      renderFigures(figures, c);
      renderItems(items, it);
      renderPromises(promises, pr.promises);
      renderDisputes(disputes, it.items);
      promise.update();
      dispute.update();
      setStatus(`business date ${it.business_date || '—'} · updated ` +
                new Date().toLocaleTimeString());
      showError(null);
    } catch (e) {
      showError(e);
      if (e.code === 'not_found') {
        header.replaceChildren(h('h1', {}, `Customer ${id}`),
                               h('p', { class: 'form-error' }, e.words));
      }
      return;
    }
    renderTimeline(timeline, id);
  }

  refresh();
  schedule(refresh, PAGE_REFRESH_MS);
  return { refresh };
}

function renderHeader(root, c, businessDate) {
  const facts = [
    ['Owner', c.owner], ['Segment', c.segment && `${c.segment} (${c.segment_reason})`],
    ['Risk', c.risk], ['Kind', c.kind], ['Country', c.country],
    ['Terms', c.terms_days !== undefined ? `${c.terms_days} days` : undefined],
    ['Credit limit', c.credit_limit && `${c.credit_limit} ${c.currency || ''}`.trim()],
    ['Business date', businessDate],
  ].filter(([, v]) => v !== undefined && v !== null && v !== '');
  root.replaceChildren(
    h('h1', {}, c.name ? `${c.name} ` : '', h('span', { class: 'muted' }, c.customer)),
    h('dl', { class: 'kv' }, facts.map(([k, v]) => [h('dt', {}, k), h('dd', {}, v)])));
}

function renderFigures(root, c) {
  const cards = Object.entries(c.currencies).map(([cur, f]) => h('div', {
    class: 'card', 'data-currency': cur },
    h('table', {},
      h('tbody', {},
        [['Open', f.open], ['Overdue', f.overdue], ['Disputed', f.disputed],
         ['Unapplied credit', f.unapplied]].map(([k, v]) => h('tr', {},
          h('th', {}, k), h('td', { class: 'num', 'data-figure': k }, money(v, cur)))),
        BUCKETS.map((b) => h('tr', {}, h('th', {}, `Aging ${b}`),
          h('td', { class: 'num', 'data-bucket': b }, money(f.aging[b], cur))))))));
  root.replaceChildren(...(cards.length ? cards
    : [h('p', { class: 'muted' }, 'No invoices, payments or credit notes yet.')]));
}

function renderItems(root, it) {
  const unapplied = Object.entries(it.unapplied || {}).filter(([, v]) => !/^0+(\.0+)?$/.test(v));
  root.replaceChildren(
    it.items.length === 0 ? h('p', { class: 'muted' }, 'Nothing is open.')
      : h('table', { id: 'open-items' },
        h('thead', {}, h('tr', {}, h('th', {}, 'Invoice'), h('th', { class: 'num' }, 'Inst.'),
          h('th', {}, 'Due'), h('th', { class: 'num' }, 'Days past due'), h('th', {}, 'Bucket'),
          h('th', { class: 'num' }, 'Open'), h('th', {}, ''))),
        h('tbody', {}, it.items.map((i) => h('tr', { 'data-invoice': i.invoice },
          h('td', {}, i.invoice),
          h('td', { class: 'num' }, i.installment),
          h('td', {}, i.due),
          h('td', { class: 'num' }, i.days_past_due),
          h('td', {}, h('span', { class: `tag ${i.days_past_due > 0 ? 'bad' : ''}` }, i.bucket)),
          h('td', { class: 'num' }, money(i.open, i.currency)),
          h('td', {}, i.disputed ? h('span', { class: 'tag warn' }, 'disputed') : ''))))),
    h('p', { id: 'unapplied' }, unapplied.length === 0 ? 'No unapplied credit.'
      : ['Unapplied credit: ', unapplied.map(([cur, v], k) => [k ? ', ' : '', money(v, cur)])]));
}

const PROMISE_TAGS = { open: 'warn', kept: 'good', broken: 'bad', cancelled: '' };

function renderPromises(root, list) {
  root.replaceChildren(list.length === 0 ? h('p', { class: 'muted' }, 'No promises.')
    : h('table', { id: 'promise-list' },
      h('thead', {}, h('tr', {}, h('th', {}, 'Promise'), h('th', {}, 'Made'), h('th', {}, 'Due'),
        h('th', { class: 'num' }, 'Amount'), h('th', { class: 'num' }, 'Paid'),
        h('th', {}, 'Status'))),
      h('tbody', {}, list.map((p) => h('tr', { 'data-promise': p.promise },
        h('td', {}, p.promise), h('td', {}, p.date), h('td', {}, p.due),
        h('td', { class: 'num' }, money(p.amount, p.currency)),
        h('td', { class: 'num' }, money(p.paid, p.currency)),
        h('td', {}, h('span', { class: `tag ${PROMISE_TAGS[p.status]}`, 'data-status': p.status },
          p.status), p.status === 'open' ? '' : h('span', { class: 'muted' },
          ` since ${p.status_date}`)))))));
}

function renderDisputes(root, items) {
  const disputed = items.filter((i) => i.disputed);
  root.replaceChildren(disputed.length === 0
    ? h('p', { class: 'muted' }, 'No open item is under dispute.')
    : h('ul', { id: 'dispute-list' }, disputed.map((i) => h('li', {},
      `Invoice ${i.invoice} (installment ${i.installment}, due ${i.due}): `,
      money(i.open, i.currency), ' open, out of the chase until resolved'))));
}

// The customer's history, newest first, from the timeline endpoint where this rmsd has it;
// "Show older" follows next_cursor.
async function renderTimeline(root, id) {
  const list = h('ol', { id: 'timeline-list' });
  const more = h('button', { type: 'button', class: 'secondary', hidden: true }, 'Show older');
  let cursor = null;
  async function page() {
    const q = new URLSearchParams({ limit: '20' });
    if (cursor) {
      q.set('cursor', cursor);
    }
    const answer = await get(`/v1/customers/${enc(id)}/timeline?${q}`);
    list.append(...answer.entries.map((e) => h('li', { 'data-kind': e.kind },
      h('strong', {}, e.date), ' ', h('span', { class: 'tag' }, e.kind), ' ', timelineText(e))));
    cursor = answer.next_cursor;
    more.hidden = !cursor;
  }
  more.addEventListener('click', () => page().catch(showError));
  try {
    await page();
  } catch (e) {
    root.replaceChildren(h('p', { class: 'muted', id: 'timeline-missing' },
      e.status === 404 ? 'Timeline not available: this rmsd does not serve ' +
        '/v1/customers/{id}/timeline.' : `Timeline not available: ${e.words}`));
    return;
  }
  root.replaceChildren(list.childElementCount ? list
    : h('p', { class: 'muted' }, 'Nothing recorded yet.'), more);
}

function timelineText(e) {
  if (e.kind === 'contact') {
    return [`${e.channel} ${e.direction || ''}`.trim(), e.outcome, e.note,
            e.agent && `by ${e.agent}`].filter(Boolean).join(' · ');
  }
  const skip = new Set(['seq', 'kind', 'date', 'caused_by']);
  return Object.entries(e).filter(([k, v]) => !skip.has(k) && v !== '')
    .map(([k, v]) => (k === 'type' ? v : `${k} ${v}`)).join(' · ');
}

// ---- Actions: each one protocol event through POST /v1/events ----

// Wraps a form: keeps its event id until the event is applied, so that sending the same content
// again after a failure (a lost answer, say) is answered as a duplicate rather than applied
// twice; shows the error in words and leaves every field as it was typed.
function actionForm(form, build, done) {
  const message = h('p', { class: 'form-error', role: 'alert' });
  const ok = h('p', { class: 'form-ok', role: 'status' });
  form.append(message, ok);
  let pending = null;
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    message.textContent = '';
    ok.textContent = '';
    const button = form.querySelector('button[type=submit]');
    let event;
    try {
      event = build(new FormData(form), ev.submitter);
    } catch (e) {
      message.textContent = e.message;
      return;
    }
    const content = JSON.stringify(event);
    if (!pending || pending.content !== content) {
      pending = { content, id: `console-${randomHex(12)}` };
    }
    event = { id: pending.id, source: 'console', ...event };
    button.disabled = true;
    try {
      const answer = await postEvent(event);
      pending = null;
      form.reset();
      ok.textContent = answer.duplicate ? 'Already recorded.' : 'Recorded.';
      done(event);
    } catch (e) {
      message.textContent = e instanceof ApiError ? e.words : String(e);
    } finally {
      button.disabled = false;
    }
  });
  return form;
}

function requireDate(state) {
  if (!state.businessDate) {
    throw new Error('The business date is not known yet; wait for the page to load.');
  }
  return state.businessDate;
}

function optional(fd, name) {
  const v = (fd.get(name) || '').trim();
  return v === '' ? undefined : v;
}

function contactForm(customer, state, done) {
  const form = h('form', { class: 'action', id: 'contact-form' },
    h('div', { class: 'row' },
      h('label', {}, 'Channel', h('select', { name: 'channel' },
        CHANNELS.map((c) => h('option', { value: c }, c)))),
      h('label', {}, 'Direction', h('select', { name: 'direction' },
        h('option', { value: 'outbound' }, 'outbound'),
        h('option', { value: 'inbound' }, 'inbound'))),
      h('label', {}, 'Agent', h('input', { name: 'agent', size: 10 }))),
    h('label', {}, 'Outcome', h('input', { name: 'outcome',
      placeholder: 'e.g. reached, left message, no answer' })),
    h('label', {}, 'Note', h('textarea', { name: 'note', rows: 2 })),
    h('div', {}, h('button', { type: 'submit' }, 'Log contact')));
  actionForm(form, (fd) => ({
    type: 'contact.logged', date: requireDate(state), customer,
    channel: fd.get('channel'), direction: fd.get('direction'),
    outcome: optional(fd, 'outcome'), agent: optional(fd, 'agent'), note: optional(fd, 'note'),
  }), done);
  return { form };
}

function promiseForm(customer, state, done) {
  const currency = h('select', { name: 'currency' });
  const due = h('input', { name: 'due', type: 'date', required: true });
  const form = h('form', { class: 'action', id: 'promise-form' },
    h('div', { class: 'row' },
      h('label', {}, 'Amount', h('input', { name: 'amount', required: true, inputmode: 'decimal',
        placeholder: '250.00', size: 12 })),
      h('label', {}, 'Currency', currency),
      h('label', {}, 'Promised date', due)),
    h('label', {}, 'Promise number (optional)', h('input', { name: 'promise',
      placeholder: 'generated when empty' })),
    h('div', {}, h('button', { type: 'submit' }, 'Record promise')));
  let generated = null;
  actionForm(form, (fd) => {
    generated = generated || `PR-${randomHex(6)}`;
    return {
      type: 'promise.made', date: requireDate(state), customer,
      promise: optional(fd, 'promise') || generated,
      amount: (fd.get('amount') || '').trim(), currency: fd.get('currency'), due: fd.get('due'),
    };
  }, (event) => {
    generated = null;
    done(event);
  });
  form.addEventListener('reset', () => setTimeout(update));
  function update() {
    const keep = currency.value;
    const list = state.currencies.length ? state.currencies
      : [state.customer && state.customer.currency].filter(Boolean);
    if (currency.options.length !== list.length) {
      currency.replaceChildren(...list.map((c) => h('option', { value: c }, c)));
    }
    if (keep && list.includes(keep)) {
      currency.value = keep;
    }
    if (!due.value && state.businessDate) {
      due.value = addDays(state.businessDate, 7);
    }
  }
  return { form, update };
}

function disputeForm(customer, state, done) {
  const invoice = h('select', { name: 'invoice', required: true });
  const form = h('form', { class: 'action', id: 'dispute-form' },
    h('label', {}, 'Invoice', invoice),
    h('label', {}, 'Reason (opening) or outcome (resolving)', h('input', { name: 'text' })),
    h('div', { class: 'row' },
      h('button', { type: 'submit', name: 'op', value: 'open' }, 'Open dispute'),
      h('button', { type: 'submit', name: 'op', value: 'resolve', class: 'secondary' },
        'Resolve dispute')));
  actionForm(form, (fd, submitter) => {
    const op = submitter ? submitter.value : 'open';
    const event = {
      type: op === 'resolve' ? 'dispute.resolved' : 'dispute.opened',
      date: requireDate(state), customer, invoice: fd.get('invoice'),
    };
    event[op === 'resolve' ? 'outcome' : 'reason'] = optional(fd, 'text');
    return event;
  }, done);
  function update() {
    const keep = invoice.value;
    const seen = new Set();
    const options = [];
    for (const i of state.items) {
      if (!seen.has(i.invoice)) {
        seen.add(i.invoice);
        options.push(h('option', { value: i.invoice },
          `${i.invoice}${i.disputed ? ' (disputed)' : ''}`));
      }
    }
    invoice.replaceChildren(...options);
    if (seen.has(keep)) {
      invoice.value = keep;
    }
  }
  return { form, update };
}

// The overview: the figures per currency and the way to Grafana.
function overviewView(root) {
  const body = h('div', { id: 'overview' });
  const grafana = h('p', { id: 'grafana' });
  root.append(h('h1', {}, 'Overview'), body, grafana);

  get('/console/config.json').then((cfg) => {
    grafana.replaceChildren(cfg.grafana_url
      ? h('a', { href: cfg.grafana_url, target: '_blank', rel: 'noopener noreferrer' },
        'Open the Grafana dashboards')
      : h('span', { class: 'muted' },
        'No Grafana link configured (rmsd --grafana-url, or grafana_url in rms.toml).'));
  }).catch(showError);

  async function refresh() {
    try {
      const k = await get('/v1/kpis');
      const byCurrency = (k.promises && k.promises.by_currency) || {};
      const rows = Object.entries(k.currencies).map(([cur, f]) => {
        const p = byCurrency[cur];
        const rate = p && p.kept_rate_90d !== null ? `${fixed(p.kept_rate_90d * 100, 1)} %` : '—';
        return h('tr', { 'data-currency': cur },
          h('td', {}, cur),
          h('td', { class: 'num' }, money(f.open, cur)),
          h('td', { class: 'num' }, money(f.overdue, cur)),
          h('td', { class: 'num' }, money(f.disputed, cur)),
          h('td', { class: 'num' }, fixed(f.dso_standard)),
          h('td', { class: 'num' }, fixed(f.dso_countback)),
          h('td', { class: 'num' }, f.cei === null ? '—' : `${fixed(f.cei)} %`),
          h('td', { class: 'num' }, rate),
          h('td', { class: 'num' }, p ? `${p.open} open · ${p.kept} kept · ${p.broken} broken`
            : '—'));
      });
      body.replaceChildren(
        h('p', { class: 'muted' }, `Business date ${k.business_date || '— (no events yet)'}.`),
        h('table', { id: 'kpis' },
          h('thead', {}, h('tr', {}, h('th', {}, 'Currency'), h('th', { class: 'num' }, 'Open'),
            h('th', { class: 'num' }, 'Overdue'), h('th', { class: 'num' }, 'Disputed'),
            h('th', { class: 'num' }, 'DSO'), h('th', { class: 'num' }, 'Countback DSO'),
            h('th', { class: 'num' }, 'CEI'), h('th', { class: 'num' }, 'Promises kept (90 d)'),
            h('th', { class: 'num' }, 'Promises'))),
          h('tbody', {}, rows)),
        h('p', { class: 'muted' }, 'DSO in days (standard: open ÷ 90-day sales × 90). CEI: ' +
          'collection effectiveness over the last 90 days. Kept rate: kept ÷ (kept + broken) ' +
          'among promises decided in the last 90 days.'));
      setStatus(`business date ${k.business_date || '—'} · updated ` +
                new Date().toLocaleTimeString());
      showError(null);
    } catch (e) {
      showError(e);
    }
  }

  refresh();
  schedule(refresh, PAGE_REFRESH_MS);
  return { refresh };
}

setUpLogin();
window.addEventListener('hashchange', route);
route();
