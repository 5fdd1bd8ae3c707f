// The web console for UCC administrators and auditors (issue 11). No framework: the DOM is built with
// h() (text is always text, never markup), pages are hash routes, and every datum comes from the same
// administration API the CLI uses (/api/v1/admin/), with this browser's session cookie and, for each
// change, the session's CSRF token. Dates are shown in Kyiv time. Ukrainian first, English on request.
'use strict';

const T = {
  uk: {
    brand: 'Вхід — консоль обміну', sections: 'Розділи', signout: 'Вийти', lang: 'English',
    nav_cases: 'Справи', nav_participants: 'Учасники', nav_deliveries: 'Доставки', nav_audit: 'Аудит',
    nav_reports: 'Звіти', nav_alerts: 'Тривоги', nav_accounts: 'Облікові записи', accounts: 'Облікові записи',
    accounts_hint: 'вхід паролем і кодом із застосунку; записи створює адміністратор командою vkhid account add',
    role: 'Роль', person_name: 'Ім’я', locked_until: 'Заблоковано до', last_signin: 'Останній вхід', revoked: 'відкликано',
    unlock: 'Розблокувати', unlocked: 'Обліковий запис розблоковано', signin_title: 'Вхід до консолі',
    alerts: 'Тривоги', open_only: 'лише відкриті', alert_kind: 'Подія', severity: 'Терміновість',
    sev_1: 'невідкладно', sev_2: 'високо', sev_3: 'звичайно', notified: 'Кого сповіщено',
    acknowledge: 'Підтвердити', ack_comment: 'Що зроблено', acknowledged: 'Тривогу підтверджено',
    ack_by: 'підтвердив', open_alert: 'відкрита', restricted_case: 'справа з обмеженим доступом', token: 'Токен доступу',
    token_hint: 'токен адміністратора, аудитора або учасника (vkhid token issue), якщо консоль їх приймає; порожньо — за клієнтським сертифікатом',
    unusual_title: 'Незвичний доступ', unusual_hint: 'хто за тиждень відкривав 10 і більше справ з обмеженим доступом на день',
    day: 'День', restricted_cases: 'Справ з обмеженим доступом', reads: 'Переглядів',
    access_title: 'Історія доступу', access_reason_title: 'Підстава доступу до справи', access_reason: 'Підстава',
    access_reason_hint: 'справа з обмеженим доступом: вкажіть, навіщо ви її відкриваєте; підставу буде записано в журнал доказів',
    open_case: 'Відкрити справу', what: 'Що', view_read: 'перегляд', answer_read: 'відповідь', cli_read: 'CLI',
    signin: 'Увійти', login: 'Логін', password: 'Пароль', otp_code: 'Код',
    otp_hint: '6 цифр із застосунку автентифікації', national_id_signin: 'Увійти через ID.GOV.UA', service_signin: 'Службовий вхід: токен або сертифікат',
    cases: 'Справи', search: 'Пошук', search_hint: 'номер УКЦ, код відстеження або id', status: 'Статус',
    any: 'будь-який', overdue_only: 'лише прострочені', show: 'Показати', ucc_number: 'Номер УКЦ',
    tracking: 'Код відстеження', kind: 'Вид', participant: 'Учасник', deadline: 'Строк відповіді',
    left: 'Залишилось', overdue: 'прострочено', restricted: 'обмежений доступ', priority: 'пільговик',
    none: 'немає', review: 'на розгляд', review_only: 'лише позначені на розгляд', review_note: 'Позначено на розгляд',
    likely_repeat: 'Ймовірно повторне до', merged_into: 'Масове звернення', members: 'приєднано звернень',
    reroute_title: 'Спрямувати іншому учаснику', reroute: 'Спрямувати', rerouted: 'Справу спрямовано повторно',
    mark_title: 'Позначити на розгляд', note: 'Що розглянути', mark: 'Позначити', marked: 'Справу позначено на розгляд',
    case: 'Справа', topic: 'Тема', channel: 'Канал', registered: 'Зареєстровано',
    participant_no: 'Номер в учасника', no_number: 'немає: учасник не надіслав повідомлення про реєстрацію (3)',
    rejection: 'Відмова', timeline: 'Хронологія', at: 'Час',
    actor: 'Хто', event: 'Подія', change: 'Зміна', packages: 'Пакети', direction: 'Напрям',
    type: 'Тип', receipt: 'Квитанція', attempts: 'Спроби', seal: 'Печатка', error: 'Помилка',
    signatures: 'Підписи файлів',
    timers: 'Таймери', fire_at: 'Спрацює', fired: 'Спрацював', replay: 'Повторити доставку',
    replayed: 'Доставку поставлено в чергу знову', resend_title: 'Надіслати повторно (з виправленням)',
    reason: 'Причина', new_topic: 'Виправлена тема', optional: 'необов’язково', resend: 'Надіслати повторно',
    resent: 'Справу надіслано на маршрутизацію повторно', in: 'вхідний', out: 'вихідний',
    participants: 'Учасники', org_id: 'Код ЄДРПОУ', name: 'Назва', adapters: 'Адаптери',
    checked: 'Перевірено', cert_until: 'Сертифікат печатки до', onboard: 'Підключити учасника',
    check: 'Перевірити з’єднання', activate: 'Активувати', activated: 'Учасника активовано',
    onboard_title: 'Підключення підписанта меморандуму', organisation: 'Організація',
    full_name: 'Повна назва', sys_id: 'Ідентифікатор СЕД (sys_id)', system_name: 'Назва СЕД',
    memorandum: 'Меморандум', memo_number: 'Номер меморандуму', memo_date: 'Дата меморандуму',
    endpoint: 'Точка обміну', adapter: 'Адаптер', transport_user: 'Користувач брокера',
    url: 'Адреса (https://…)', hub_sys_id: 'Обліковий запис на концентраторі (sys_id)',
    certificates: 'Сертифікати', seal_pem: 'Сертифікат печатки (PEM)', ca_pem: 'Сертифікат ЦСК (PEM)',
    or_file: 'або файл', contact: 'Контакт для ескалацій', contact_name: 'Ім’я', email: 'Ел. пошта',
    save: 'Зберегти', saved: 'Учасника збережено, статус:', check_steps: 'Перевірка з’єднання',
    passed: 'пройдено', failed_check: 'не пройдено', deliveries: 'Доставки', queued: 'у черзі',
    sending: 'надсилаються', waiting_retry: 'чекають повтору', dead: 'не доставлені', sent: 'доставлено',
    dead_letters: 'Недоставлені пакети', audit: 'Журнал доказів', unsealed: 'Записів ще не в пакеті:',
    batches: 'Пакети записів', entries: 'Записи', root: 'Корінь', closed: 'Закрито', stamped: 'Позначка часу',
    yes: 'так', no: 'ні', export: 'Експортувати та перевірити', exporting: 'Експорт…',
    verdict_ok: 'Перевірка пройдена', verdict_failed: 'Перевірка не пройдена', bundle: 'Пакет доказів',
    reports: 'Звіти', from: 'З', to: 'По', by: 'Групувати', by_participant: 'за учасниками',
    by_kind: 'за видами', by_topic: 'за темами', by_channel: 'за каналами', build: 'Сформувати',
    not_found: 'Не знайдено', loading: 'Завантаження…', session_ended: 'Сесія завершилась — увійдіть знову',
    days: 'дн', hours: 'год', minutes: 'хв', action: 'Дія', count: 'Кількість', msg_id: 'Пакет',
    appeal: 'звернення', info_request: 'запит на інформацію', violence_report: 'повідомлення про насильство',
  },
  en: {
    brand: 'Vkhid — exchange console', sections: 'Sections', signout: 'Sign out', lang: 'Українська',
    nav_cases: 'Cases', nav_participants: 'Participants', nav_deliveries: 'Deliveries', nav_audit: 'Audit',
    nav_reports: 'Reports', nav_alerts: 'Alerts', nav_accounts: 'Accounts', accounts: 'Accounts',
    accounts_hint: 'sign-in with a password and an authenticator code; an administrator makes them with vkhid account add',
    role: 'Role', person_name: 'Name', locked_until: 'Locked until', last_signin: 'Last sign-in', revoked: 'revoked',
    unlock: 'Unlock', unlocked: 'The account is unlocked', signin_title: 'Sign in to the console',
    alerts: 'Alerts', open_only: 'open only', alert_kind: 'Event', severity: 'Urgency',
    sev_1: 'urgent', sev_2: 'high', sev_3: 'normal', notified: 'Who was told',
    acknowledge: 'Acknowledge', ack_comment: 'What was done', acknowledged: 'The alert is acknowledged',
    ack_by: 'acknowledged by', open_alert: 'open', restricted_case: 'restricted case', token: 'Access token',
    token_hint: 'an admin’s, auditor’s or participant’s token (vkhid token issue), where the console takes them; empty — by client certificate',
    unusual_title: 'Unusual access', unusual_hint: 'who opened 10 or more restricted cases on a day this week',
    day: 'Day', restricted_cases: 'Restricted cases', reads: 'Reads',
    access_title: 'Access history', access_reason_title: 'Why you open this case', access_reason: 'Reason',
    access_reason_hint: 'a restricted case: say why you open it; the reason is recorded in the evidence log',
    open_case: 'Open the case', what: 'What', view_read: 'view', answer_read: 'answer', cli_read: 'CLI',
    signin: 'Sign in', login: 'Login', password: 'Password', otp_code: 'Code',
    otp_hint: '6 digits from the authenticator app', national_id_signin: 'Sign in with ID.GOV.UA', service_signin: 'Service sign-in: a token or a certificate',
    cases: 'Cases', search: 'Search', search_hint: 'UCC number, tracking code or id', status: 'Status',
    any: 'any', overdue_only: 'overdue only', show: 'Show', ucc_number: 'UCC number',
    tracking: 'Tracking code', kind: 'Kind', participant: 'Participant', deadline: 'Answer due',
    left: 'Time left', overdue: 'overdue', restricted: 'restricted', priority: 'priority applicant',
    none: 'none', review: 'for review', review_only: 'marked for review only', review_note: 'Marked for review',
    likely_repeat: 'Likely repeat of', merged_into: 'Mass appeal', members: 'appeals joined',
    reroute_title: 'Send to another participant', reroute: 'Send there', rerouted: 'The case goes to routing again',
    mark_title: 'Mark for review', note: 'What to review', mark: 'Mark', marked: 'The case is marked for review',
    case: 'Case', topic: 'Topic', channel: 'Channel', registered: 'Registered',
    participant_no: 'Participant’s number', no_number: 'none: the participant sent no registration receipt (3)',
    rejection: 'Rejection', timeline: 'Timeline', at: 'At',
    actor: 'Who', event: 'Event', change: 'Change', packages: 'Packages', direction: 'Direction',
    type: 'Type', receipt: 'Receipt', attempts: 'Attempts', seal: 'Seal', error: 'Error',
    signatures: 'File signatures',
    timers: 'Timers', fire_at: 'Fires at', fired: 'Fired', replay: 'Replay delivery',
    replayed: 'The delivery is queued again', resend_title: 'Send again (corrected)',
    reason: 'Reason', new_topic: 'Corrected topic', optional: 'optional', resend: 'Send again',
    resent: 'The case goes to routing again', in: 'in', out: 'out',
    participants: 'Participants', org_id: 'EDRPOU code', name: 'Name', adapters: 'Adapters',
    checked: 'Checked', cert_until: 'Seal certificate until', onboard: 'Onboard a participant',
    check: 'Check the connection', activate: 'Activate', activated: 'The participant is active',
    onboard_title: 'Onboarding a memorandum signatory', organisation: 'Organisation',
    full_name: 'Full name', sys_id: 'EDMS id (sys_id)', system_name: 'EDMS name',
    memorandum: 'Memorandum', memo_number: 'Memorandum number', memo_date: 'Memorandum date',
    endpoint: 'Endpoint', adapter: 'Adapter', transport_user: 'Broker user',
    url: 'URL (https://…)', hub_sys_id: 'Hub account (sys_id)',
    certificates: 'Certificates', seal_pem: 'Seal certificate (PEM)', ca_pem: 'CA certificate (PEM)',
    or_file: 'or a file', contact: 'Escalation contact', contact_name: 'Name', email: 'E-mail',
    save: 'Save', saved: 'Participant saved, status:', check_steps: 'Connectivity check',
    passed: 'passed', failed_check: 'failed', deliveries: 'Deliveries', queued: 'queued',
    sending: 'sending', waiting_retry: 'waiting to retry', dead: 'dead', sent: 'sent',
    dead_letters: 'Dead deliveries', audit: 'Evidence log', unsealed: 'Entries not yet in a batch:',
    batches: 'Batches', entries: 'Entries', root: 'Root', closed: 'Closed', stamped: 'Time-stamp',
    yes: 'yes', no: 'no', export: 'Export and verify', exporting: 'Exporting…',
    verdict_ok: 'Verification passed', verdict_failed: 'Verification failed', bundle: 'Evidence bundle',
    reports: 'Reports', from: 'From', to: 'To', by: 'Group by', by_participant: 'by participant',
    by_kind: 'by kind', by_topic: 'by topic', by_channel: 'by channel', build: 'Build',
    not_found: 'Not found', loading: 'Loading…', session_ended: 'The session ended — sign in again',
    days: 'd', hours: 'h', minutes: 'min', action: 'Action', count: 'Count', msg_id: 'Package',
    appeal: 'appeal', info_request: 'information request', violence_report: 'violence report',
  },
};
const STATUSES = ['registered', 'routed', 'sent', 'delivered', 'accepted', 'registered_by_participant', 'answered',
  'closed', 'rejected', 'delivery_failed', 'forwarded', 'withdrawn', 'not_considered', 'merged', 'returned'];

let lang = localStorage.getItem('vkhid-lang') === 'en' ? 'en' : 'uk';
let session = null;
const t = (k) => T[lang][k] ?? k;

// h('a', {href: '#'}, 'text', child…): an element; attributes starting with "on" are listeners.
function h(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else if (k === 'class') e.className = v;
    else e.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children.flat(Infinity)) {
    if (c === undefined || c === null || c === false) continue;
    e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return e;
}

function say(text, kind = 'info') {
  const box = document.getElementById('status');
  box.replaceChildren(text ? h('p', { class: kind }, text) : '');
}

class ApiError extends Error {
  constructor(status, detail) { super(detail); this.status = status; }
}
// What the page shows is one view: each page drawn (drawView) and the sign-in form start a new one.
// A page's data that arrives after a newer view has started is dropped rather than drawn over it (a
// slow list must not cover the sign-in form after signing out, nor the page navigated to since).
let view = 0;
class Superseded extends Error {}

async function call(method, url, body, raw = false) {
  const mine = view;
  const headers = {};
  if (body !== undefined) headers['Content-Type'] = raw ? 'text/plain' : 'application/json';
  if (method !== 'GET' && session) headers['X-CSRF-Token'] = session.csrf;
  const r = await fetch(url, { method, headers, credentials: 'same-origin',
    body: body === undefined ? undefined : (raw ? body : JSON.stringify(body)) });
  const text = await r.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch { data = text; }
  if (method === 'GET' && mine !== view) throw new Superseded('superseded');
  if (!r.ok) {
    if (r.status === 401 && session) { session = null; showSignIn(t('session_ended')); }
    throw new ApiError(r.status, (data && data.detail) || r.statusText);
  }
  return data;
}
const api = (method, path, body, raw) => call(method, '/api/v1/admin/' + path, body, raw);

const kyiv = () => new Intl.DateTimeFormat(lang === 'uk' ? 'uk-UA' : 'en-GB',
  { timeZone: 'Europe/Kyiv', dateStyle: 'short', timeStyle: 'short' });
// Each file's signature as it was judged on arrival: state, signer, provider and key.
function signaturesText(list) {
  return (list || []).map((v) => [v.state, v.signer, v.provider, v.key].filter(Boolean).join(', ')).join('; ');
}

function when(iso) { return iso ? kyiv().format(new Date(iso)) : '—'; }
function timeLeft(iso) {
  if (!iso) return '—';
  let ms = new Date(iso) - Date.now();
  const late = ms < 0;
  ms = Math.abs(ms);
  const d = Math.floor(ms / 86400000), hr = Math.floor(ms / 3600000) % 24, mi = Math.floor(ms / 60000) % 60;
  const text = d > 0 ? `${d} ${t('days')} ${hr} ${t('hours')}` : `${hr} ${t('hours')} ${mi} ${t('minutes')}`;
  return late ? `${t('overdue')} ${text}` : text;
}
function table(head, rows, rowAttrs = () => ({})) {
  return h('div', { class: 'scroll' }, h('table', {},
    h('thead', {}, h('tr', {}, head.map((c) => h('th', { scope: 'col' }, c)))),
    h('tbody', {}, rows.map((r, i) => h('tr', rowAttrs(i), r.map((c) => h('td', {}, c)))))));
}
function field(label, input, hint) {
  const id = input.id || ('f-' + Math.random().toString(36).slice(2));
  input.id = id;
  return h('div', {}, h('label', { for: id }, label, hint ? h('span', { class: 'hint' }, ' (', hint, ')') : ''), input);
}
function page(title, ...content) {
  document.title = `${title} — ${t('brand')}`;
  const main = document.getElementById('main');
  main.replaceChildren(h('h1', {}, title), ...content);
}

// ---- sign-in, header, language ----

function showSignIn(message) {
  ++view;
  document.getElementById('top').hidden = true;
  // A person: login, password and the authenticator's code. A service: its token, or its certificate.
  const login = h('input', { autocomplete: 'username', spellcheck: 'false', autocapitalize: 'off' });
  const password = h('input', { type: 'password', autocomplete: 'current-password' });
  const code = h('input', { inputmode: 'numeric', autocomplete: 'one-time-code', pattern: '[0-9]{6}', maxlength: '6' });
  const token = h('input', { type: 'password', autocomplete: 'off' });
  const nationalId = h('p', { hidden: true }, h('a', { href: '/console/oidc/start' }, t('national_id_signin')));
  const form = h('form', { class: 'signin', onsubmit: async (ev) => {
    ev.preventDefault();
    const body = login.value
      ? { login: login.value.trim(), password: password.value, code: code.value.trim() }
      : { token: token.value };
    try {
      session = await call('POST', '/console/session', body);
      say('');
      start();
    } catch (e) {
      code.value = '';  // a code is spent or stale after a refusal
      say(e.message, 'error');
    }
  } }, h('h1', {}, t('signin_title')), field(t('login'), login), field(t('password'), password),
  field(t('otp_code'), code, t('otp_hint')),
  h('p', {}, h('button', { type: 'submit' }, t('signin'))),
  nationalId,
  h('fieldset', {}, h('legend', {}, t('service_signin')), field(t('token'), token, t('token_hint'))));
  document.getElementById('main').replaceChildren(form);
  // The national ID sign-in, where the gateway offers it (a round trip through the provider).
  fetch('/console/oidc', { credentials: 'same-origin' }).then((r) => { if (r.ok) nationalId.hidden = false; }, () => {});
  document.title = t('signin_title');
  if (message) say(message, 'error');
  login.focus();
}

function translateChrome() {
  document.documentElement.lang = lang;
  for (const e of document.querySelectorAll('[data-t]')) e.textContent = t(e.dataset.t);
  for (const e of document.querySelectorAll('[data-t-aria]')) e.setAttribute('aria-label', t(e.dataset.tAria));
  document.getElementById('lang').textContent = t('lang');
  document.querySelector('.skip').textContent = lang === 'uk' ? 'Перейти до змісту' : 'Skip to content';
}

function start() {
  document.getElementById('top').hidden = false;
  document.getElementById('who').textContent = `${session.client} · ${session.role}` +
    (session.org_id ? ` · ${session.org_id}` : '') + (session.restricted_access ? ` · ${t('restricted')}` : '');
  // A participant body's client sees its own reports, nothing else (the gateway refuses the rest too).
  for (const a of document.querySelectorAll('header nav a')) {
    a.hidden = session.role === 'participant' && a.getAttribute('href') !== '#/reports';
  }
  translateChrome();
  route();
}

// ---- pages ----

async function casesPage(params) {
  const q = h('input', { type: 'search', name: 'q', value: params.get('q') || '' });
  const status = h('select', { name: 'status' }, h('option', { value: '' }, t('any')),
    STATUSES.map((s) => h('option', { value: s, selected: params.get('status') === s }, s)));
  const overdue = h('input', { type: 'checkbox', name: 'overdue', checked: params.get('overdue') === '1' });
  const review = h('input', { type: 'checkbox', name: 'review', checked: params.get('review') === '1' });
  const form = h('form', { class: 'filters', onsubmit: (ev) => {
    ev.preventDefault();
    const p = new URLSearchParams();
    if (q.value) p.set('q', q.value);
    if (status.value) p.set('status', status.value);
    if (overdue.checked) p.set('overdue', '1');
    if (review.checked) p.set('review', '1');
    location.hash = '#/cases?' + p.toString();
  } }, field(t('search'), q, t('search_hint')), field(t('status'), status),
  h('label', { class: 'inline' }, overdue, t('overdue_only')), h('label', { class: 'inline' }, review, t('review_only')),
  h('button', { type: 'submit' }, t('show')));
  page(t('cases'), form, h('p', {}, t('loading')));
  const list = await api('GET', 'cases?' + params.toString());
  const rows = list.map((c) => [
    h('a', { href: '#/cases/' + c.id }, c.ucc_number),
    h('span', { class: 'mono' }, c.tracking_code),
    [t(c.kind), c.restricted ? [' ', h('span', { class: 'badge warn' }, t('restricted'))] : '',
      c.review_at ? [' ', h('span', { class: 'badge warn' }, t('review'))] : ''],
    c.participant ? `${c.participant} ${c.participant_name || ''}` : '—',
    c.status,
    when(c.due_at),
    c.overdue ? h('span', { class: 'badge bad' }, timeLeft(c.due_at)) : timeLeft(c.due_at),
  ]);
  page(t('cases'), form, list.length ? table([t('ucc_number'), t('tracking'), t('kind'), t('participant'),
    t('status'), t('deadline'), t('left')], rows, (i) => ({ class: list[i].overdue ? 'overdue' : '',
    'data-case': list[i].id })) : h('p', {}, t('none')));
}

// The reason given for opening each restricted case, for this page's life (every read is recorded).
const readReasons = new Map();

function reasonForm(id) {
  const reason = h('textarea', { name: 'reason', required: true, minlength: '3', maxlength: '500', rows: '3' });
  page(t('access_reason_title'), h('form', { onsubmit: (ev) => {
    ev.preventDefault();
    readReasons.set(id, reason.value.trim());
    drawView(() => casePage(id));
  } }, field(t('access_reason'), reason, t('access_reason_hint')),
  h('p', {}, h('button', { type: 'submit' }, t('open_case')))));
  reason.focus();
}

async function casePage(id) {
  let data;
  const reason = readReasons.get(id);
  try {
    data = await api('GET', 'cases/' + encodeURIComponent(id) + (reason ? '?reason=' + encodeURIComponent(reason) : ''));
  } catch (e) {
    if (e.status === 404) { page(t('not_found')); return; }
    if (e.status === 428) { reasonForm(id); return; }
    throw e;
  }
  const access = await api('GET', `cases/${encodeURIComponent(id)}/access`);
  const c = data.case;
  const facts = h('dl', { class: 'facts' },
    [[t('status'), c.status], [t('kind'), t(c.kind)], [t('topic'), c.topic || '—'],
      [t('tracking'), c.tracking_code], [t('channel'), c.channel],
      [t('registered'), when(c.registered_at)],
      [t('participant'), c.participant ? `${c.participant} ${c.participant_name || ''}` : '—'],
      [t('participant_no'), c.participant_reg_number ||
        (['answered', 'closed'].includes(c.status) ? t('no_number') : '—')],
      [t('deadline'), `${when(c.due_at)} (${c.due_kind || '—'})`],
      [t('left'), c.overdue ? h('span', { class: 'badge bad' }, timeLeft(c.due_at)) : timeLeft(c.due_at)],
      [t('rejection'), c.rejection_code ? `${c.rejection_code}: ${c.rejection_text || ''}` : '—'],
      [t('review_note'), c.review_at ? `${when(c.review_at)}: ${c.review_note}` : '—'],
      [t('likely_repeat'), c.likely_repeat_of
        ? h('a', { href: '#/cases/' + c.likely_repeat_of }, c.likely_repeat_of_ucc_number) : '—'],
      [t('merged_into'), c.merged_into ? h('a', { href: '#/cases/' + c.merged_into }, c.merged_into_ucc_number)
        : (c.members > 0 ? `${t('members')}: ${c.members}` : '—')]]
      .map(([k, v]) => [h('dt', {}, k), h('dd', {}, v)]));
  const actions = [];
  for (const p of data.packages.filter((m) => m.direction === 'out' && m.status === 'dead')) {
    actions.push(h('button', { type: 'button', 'data-replay': p.msg_id, onclick: async (ev) => {
      ev.target.disabled = true;
      try { await api('POST', `messages/${p.msg_id}/replay`, {}); say(t('replayed')); drawView(() => casePage(id)); } catch (e) {
        say(e.message, 'error'); ev.target.disabled = false;
      }
    } }, `${t('replay')} ${p.msg_id.slice(0, 8)}`));
  }
  let resend = '';
  if (session.role === 'admin' && (c.status === 'rejected' || c.status === 'delivery_failed')) {
    const reason = h('input', { name: 'reason', required: true });
    const topic = h('input', { name: 'topic', pattern: '[0-9]{3}(\\.[0-9]{1,4})*' });
    resend = h('form', { onsubmit: async (ev) => {
      ev.preventDefault();
      try {
        await api('POST', `cases/${id}/resend`, { reason: reason.value, topic: topic.value });
        say(t('resent'));
        drawView(() => casePage(id));
      } catch (e) { say(e.message, 'error'); }
    } }, h('fieldset', {}, h('legend', {}, t('resend_title')), field(t('reason'), reason),
      field(t('new_topic'), topic, t('optional')), h('p', {}, h('button', { type: 'submit' }, t('resend')))));
  }
  let reroute = '', mark = '';
  if (session.role === 'admin') {
    if (c.status === 'rejected' || c.status === 'delivery_failed' || (c.status === 'registered' && !c.participant)) {
      const to = h('select', { name: 'to', required: true });
      const reason = h('input', { name: 'reason', required: true });
      api('GET', 'participants').then((list) => to.replaceChildren(...list.filter((p) => p.status === 'active' ||
        p.status === 'suspended').map((p) => h('option', { value: p.org_id }, `${p.org_id} ${p.name}`))))
        .catch((e) => { if (!(e instanceof Superseded)) say(e.message, 'error'); });
      reroute = h('form', { onsubmit: async (ev) => {
        ev.preventDefault();
        try {
          await api('POST', `cases/${id}/reroute`, { to: to.value, reason: reason.value });
          say(t('rerouted'));
          drawView(() => casePage(id));
        } catch (e) { say(e.message, 'error'); }
      } }, h('fieldset', {}, h('legend', {}, t('reroute_title')), field(t('participant'), to),
        field(t('reason'), reason), h('p', {}, h('button', { type: 'submit' }, t('reroute')))));
    }
    const note = h('input', { name: 'note', required: true });
    mark = h('form', { onsubmit: async (ev) => {
      ev.preventDefault();
      try {
        await api('POST', `cases/${id}/review`, { note: note.value });
        say(t('marked'));
        drawView(() => casePage(id));
      } catch (e) { say(e.message, 'error'); }
    } }, h('fieldset', {}, h('legend', {}, t('mark_title')), field(t('note'), note),
      h('p', {}, h('button', { type: 'submit' }, t('mark')))));
  }
  page(`${t('case')} ${c.ucc_number}`,
    c.restricted ? h('p', {}, h('span', { class: 'badge warn' }, t('restricted'))) : '', facts,
    session.role === 'admin' && actions.length ? h('div', { class: 'actions' }, actions) : '', resend, reroute, mark,
    h('h2', {}, t('timeline')),
    table([t('at'), t('actor'), t('event'), t('change')], data.events.map((e) => [when(e.at), e.actor, e.event,
      e.status_from === e.status_to ? '' : `${e.status_from || ''} → ${e.status_to || ''}`])),
    h('h2', {}, t('packages')),
    table([t('at'), t('direction'), t('type'), t('receipt'), t('status'), t('attempts'), t('seal'), t('signatures'),
      t('error')],
      data.packages.map((m) => [when(m.created_at), `${t(m.direction)} ${m.peer_org_id}`, m.msg_type,
        m.ack_type ?? '', m.status, m.attempts, m.seal_verdict || '', signaturesText(m.signatures),
        m.error_code || m.last_error || ''])),
    h('h2', {}, t('timers')),
    table([t('type'), t('fire_at'), t('fired')], data.timers.map((x) => [x.kind, when(x.fire_at),
      x.fired_at ? `${when(x.fired_at)} ${x.outcome || ''}` : (x.cancelled_at ? '×' : '')])),
    h('h2', {}, t('access_title')),
    h('div', { id: 'access' }, table([t('at'), t('actor'), t('what'), t('access_reason')],
      access.map((a) => [when(a.at), a.actor, t(`${a.what}_read`), a.reason]))));
}

async function participantsPage() {
  const list = await api('GET', 'participants');
  const rows = list.map((p) => [p.org_id, p.name, p.status, p.adapters || '—', when(p.checked_at),
    when(p.seal_cert_not_after),
    session.role === 'admin' ? h('div', { class: 'actions' },
      h('button', { type: 'button', class: 'secondary', onclick: () => runCheck(p.org_id) }, t('check')),
      p.ready_for_activation && p.status !== 'active'
        ? h('button', { type: 'button', onclick: () => activate(p.org_id) }, t('activate')) : '') : '']);
  page(t('participants'),
    session.role === 'admin' ? h('p', {}, h('a', { href: '#/participants/new', class: 'button' }, t('onboard'))) : '',
    table([t('org_id'), t('name'), t('status'), t('adapters'), t('checked'), t('cert_until'), t('action')], rows),
    h('div', { id: 'check' }));
}

async function runCheck(org) {
  const box = document.getElementById('check');
  box.replaceChildren(h('h2', {}, `${t('check_steps')}: ${org}`), h('p', {}, t('loading')));
  try {
    const report = await api('POST', `participants/${org}/check`, { timeout_s: 30 });
    box.replaceChildren(h('h2', {}, `${t('check_steps')}: ${org}`),
      h('ol', { class: 'steps', 'data-passed': String(report.passed) }, report.steps.map((s) =>
        h('li', { 'data-step': s.step, 'data-result': s.result }, h('span', { class: s.result }, s.result), ' ',
          s.step, s.detail ? ` — ${s.detail}` : '', ` (${s.ms} ms)`))),
      h('p', { class: report.passed ? 'ok' : 'failed' }, report.passed ? t('passed') : t('failed_check')),
      report.passed ? h('button', { type: 'button', onclick: () => activate(org) }, t('activate')) : '');
  } catch (e) { box.replaceChildren(h('p', { class: 'failed' }, e.message)); }
}

async function activate(org) {
  try { await api('POST', `participants/${org}/activate`, {}); say(`${t('activated')}: ${org}`); } catch (e) {
    say(e.message, 'error'); return;
  }
  if (location.hash.startsWith('#/participants')) drawView(participantsPage);
}

const toml = (v) => JSON.stringify(v);  // a TOML basic string: the same escapes as JSON's

function pemField(label, name) {
  const area = h('textarea', { name, required: true, spellcheck: 'false' });
  const file = h('input', { type: 'file', accept: '.pem,.crt,.cer', 'aria-label': `${label}: ${t('or_file')}`,
    onchange: async () => { if (file.files[0]) area.value = await file.files[0].text(); } });
  return h('div', {}, field(label, area), h('p', { class: 'hint' }, t('or_file'), ': ', file));
}

function onboardPage() {
  const input = (name, attrs = {}) => h('input', { name, ...attrs });
  const f = {
    org_id: input('org_id', { required: true, pattern: '[0-9]{8}', inputmode: 'numeric' }),
    name: input('name', { required: true }), full_name: input('full_name'),
    sys_id: input('sys_id', { required: true }), system_name: input('system_name'),
    memorandum_number: input('memorandum_number', { required: true }),
    memorandum_date: input('memorandum_date', { type: 'date', required: true }),
    transport_user: input('transport_user'), url: input('url', { type: 'url' }), hub_sys_id: input('hub_sys_id'),
    contact_name: input('contact_name'), email: input('email', { type: 'email' }),
  };
  const adapter = h('select', { name: 'adapter' }, ['amqp', 'sev-hub', 'http'].map((a) => h('option', { value: a }, a)));
  const specific = h('div');
  const showSpecific = () => specific.replaceChildren(
    adapter.value === 'amqp' ? field(t('transport_user'), f.transport_user) : '',
    adapter.value === 'http' ? field(t('url'), f.url) : '',
    adapter.value === 'sev-hub' ? field(t('hub_sys_id'), f.hub_sys_id) : '');
  adapter.addEventListener('change', showSpecific);
  showSpecific();
  const seal = pemField(t('seal_pem'), 'seal_cert_pem');
  const ca = pemField(t('ca_pem'), 'trust_ca_pem');
  const result = h('div', { id: 'check' });
  const form = h('form', { onsubmit: async (ev) => {
    ev.preventDefault();
    const v = (k) => f[k].value.trim();
    let text = `org_id = ${toml(v('org_id'))}\nsys_id = ${toml(v('sys_id'))}\nname = ${toml(v('name'))}\n`;
    if (v('full_name')) text += `full_name = ${toml(v('full_name'))}\n`;
    if (v('system_name')) text += `system_name = ${toml(v('system_name'))}\n`;
    text += `memorandum_number = ${toml(v('memorandum_number'))}\nmemorandum_date = ${v('memorandum_date')}\n`;
    text += `trust_ca_pem = ${toml(ca.querySelector('textarea').value)}\n`;
    text += `seal_cert_pem = ${toml(seal.querySelector('textarea').value)}\n`;
    if (adapter.value === 'amqp' && v('transport_user')) text += `transport_user = ${toml(v('transport_user'))}\n`;
    if (v('contact_name') || v('email')) {
      text += `[[contact]]\nname = ${toml(v('contact_name'))}\nemail = ${toml(v('email'))}\nrole = "escalations"\n`;
    }
    text += `[[endpoint]]\nadapter = ${toml(adapter.value)}\n`;
    if (adapter.value === 'http') text += `url = ${toml(v('url'))}\n`;
    if (adapter.value === 'sev-hub') text += `sys_id = ${toml(v('hub_sys_id'))}\n`;
    try {
      const saved = await api('POST', 'participants', text, true);
      say(`${t('saved')} ${saved.status}`);
      result.replaceChildren(h('button', { type: 'button', onclick: () => runCheck(v('org_id')) }, t('check')));
      result.querySelector('button').focus();
    } catch (e) { say(e.message, 'error'); }
  } },
  h('fieldset', {}, h('legend', {}, t('organisation')), field(t('org_id'), f.org_id), field(t('name'), f.name),
    field(t('full_name'), f.full_name), field(t('sys_id'), f.sys_id), field(t('system_name'), f.system_name)),
  h('fieldset', {}, h('legend', {}, t('memorandum')), field(t('memo_number'), f.memorandum_number),
    field(t('memo_date'), f.memorandum_date)),
  h('fieldset', {}, h('legend', {}, t('endpoint')), field(t('adapter'), adapter), specific),
  h('fieldset', {}, h('legend', {}, t('certificates')), seal, ca),
  h('fieldset', {}, h('legend', {}, t('contact')), field(t('contact_name'), f.contact_name),
    field(t('email'), f.email)),
  h('p', {}, h('button', { type: 'submit' }, t('save'))));
  page(t('onboard_title'), form, result);
}

async function deliveriesPage() {
  const d = await api('GET', 'deliveries');
  page(t('deliveries'),
    table([t('participant'), t('status'), t('queued'), t('sending'), t('waiting_retry'), t('dead'), t('sent')],
      d.participants.map((p) => [`${p.org_id} ${p.name}`, p.status, p.queued, p.sending, p.waiting_retry,
        p.dead ? h('span', { class: 'badge bad' }, p.dead) : 0, p.sent])),
    h('h2', {}, t('dead_letters')),
    d.dead.length ? table([t('msg_id'), t('case'), t('participant'), t('attempts'), t('error'), t('at'), t('action')],
      d.dead.map((m) => [h('span', { class: 'mono' }, m.msg_id),
        m.case_id ? h('a', { href: '#/cases/' + m.case_id }, m.ucc_number || m.case_id) : '—', m.peer_org_id,
        m.attempts, m.last_error || '', when(m.updated_at),
        session.role === 'admin' ? h('button', { type: 'button', onclick: async () => {
          try { await api('POST', `messages/${m.msg_id}/replay`, {}); say(t('replayed')); drawView(deliveriesPage); } catch (e) {
            say(e.message, 'error');
          }
        } }, t('replay')) : ''])) : h('p', {}, t('none')));
}

// The alerts inbox (issue 27): open alerts first, the most urgent and newest first; who was told and
// how, and whether it was delivered; an admin acknowledges one with what was done.
async function alertsPage(params) {
  const openOnly = params.get('open') === '1';
  const list = await api('GET', 'alerts' + (openOnly ? '?open=1' : ''));
  const toggle = h('input', { type: 'checkbox', checked: openOnly, onchange: () => {
    location.hash = '#/alerts' + (toggle.checked ? '?open=1' : '');
  } });
  const rows = list.map((a) => {
    const notices = h('ul', { class: 'plain' }, a.notices.map((n) =>
      h('li', {}, `${n.channel} · ${n.recipient}${n.name ? ' (' + n.name + ')' : ''} · ${n.status}` +
        (n.attempts > 1 ? ` · ${n.attempts}×` : ''))));
    let state;
    if (!a.open) {
      state = h('span', {}, `${t('ack_by')} ${a.acknowledged.by}, ${when(a.acknowledged.at)}: ${a.acknowledged.comment}`);
    } else if (session.role === 'admin') {
      const comment = h('input', { type: 'text', required: true, maxlength: 2000, 'aria-label': t('ack_comment'),
        placeholder: t('ack_comment') });
      state = h('form', { class: 'ack', 'data-alert': a.id, onsubmit: async (ev) => {
        ev.preventDefault();
        try {
          await api('POST', `alerts/${a.id}/ack`, { comment: comment.value });
          say(t('acknowledged'));
          drawView(() => alertsPage(params));
        } catch (e) { say(e.message, 'error'); }
      } }, comment, h('button', { type: 'submit' }, t('acknowledge')));
    } else {
      state = t('open_alert');
    }
    const subject = a.restricted && !a.case_id ? t('restricted_case')
      : a.case_id ? h('a', { href: '#/cases/' + a.case_id }, a.ucc_number || a.case_id) : (a.org_id || '—');
    return [h('span', { class: a.severity === 1 ? 'badge bad' : 'badge' }, t('sev_' + a.severity)), when(a.created_at),
      a.kind, subject, notices, state];
  });
  page(t('alerts'), h('p', {}, h('label', {}, toggle, ' ', t('open_only'))),
    list.length ? table([t('severity'), t('at'), t('alert_kind'), t('case'), t('notified'), t('status')], rows,
      (i) => ({ 'data-alert-row': list[i].id, class: list[i].open ? 'open' : '' })) : h('p', {}, t('none')));
}

async function auditPage() {
  const a = await api('GET', 'audit?limit=50');
  // Who opened many restricted cases on a day, this week (docs/privacy.md).
  const unusual = await api('GET', 'access/unusual?days=7&min_cases=10');
  const verdict = h('div', { id: 'verdict', 'aria-live': 'polite' });
  const exportButton = h('button', { type: 'button', onclick: async () => {
    exportButton.disabled = true;
    verdict.replaceChildren(h('p', {}, t('exporting')));
    try {
      const r = await api('POST', 'audit/exports', {});
      verdict.replaceChildren(h('h2', {}, t('bundle')),
        h('p', { class: r.verify.ok ? 'ok' : 'failed', 'data-verdict': r.verify.ok ? 'ok' : 'failed' },
          r.verify.ok ? t('verdict_ok') : t('verdict_failed')),
        h('dl', { class: 'facts' }, h('dt', {}, 'dir'), h('dd', { class: 'mono' }, r.dir),
          h('dt', {}, 'export'), h('dd', {}, r.summary),
          h('dt', {}, 'verify'), h('dd', {}, r.verify.ok ? r.verify.summary : r.verify.failure)));
    } catch (e) { verdict.replaceChildren(h('p', { class: 'failed' }, e.message)); }
    exportButton.disabled = false;
  } }, t('export'));
  page(t('audit'), h('p', {}, t('unsealed'), ' ', String(a.unsealed)), h('div', { class: 'actions' }, exportButton),
    verdict, h('h2', {}, t('batches')),
    table(['#', t('entries'), t('root'), t('closed'), t('stamped')], a.batches.map((b) => [b.id,
      `${b.first_seq}–${b.last_seq} (${b.entries})`, h('span', { class: 'mono' }, b.root.slice(0, 16) + '…'),
      when(b.closed_at), b.stamped ? `${t('yes')} ${when(b.stamped_at)}` : t('no')])),
    h('h2', {}, t('entries')),
    table(['seq', t('at'), t('actor'), t('action'), 'subject'], a.entries.map((e) => [e.seq ?? '…', when(e.at),
      e.actor, e.action, h('span', { class: 'mono' }, e.subject)])),
    h('h2', {}, t('unusual_title')), h('p', { class: 'hint' }, t('unusual_hint')),
    h('div', { id: 'unusual' }, unusual.length
      ? table([t('actor'), t('day'), t('restricted_cases'), t('reads')], unusual.map((u) => [u.actor, u.day,
        u.restricted_cases, u.reads]))
      : h('p', {}, t('none'))));
}

// The console's personal accounts (docs/privacy.md): who may sign in, locks, last sign-ins; an admin
// unlocks an account locked after failed sign-ins (in the evidence log).
async function accountsPage() {
  const list = await api('GET', 'accounts');
  page(t('accounts'), h('p', { class: 'hint' }, t('accounts_hint')),
    h('div', { id: 'accounts' }, table([t('login'), t('person_name'), t('role'), t('restricted'), t('locked_until'),
      t('last_signin'), ''], list.map((a) => [a.login, a.name, a.role, a.restricted_access ? t('yes') : t('no'),
      a.locked_until ? when(a.locked_until) : '—', a.last_signin_at ? when(a.last_signin_at) : '—',
      a.revoked_at ? t('revoked') : (a.locked_until && session.role === 'admin'
        ? h('button', { type: 'button', 'data-unlock': a.login, onclick: async (ev) => {
          ev.target.disabled = true;
          try {
            await api('POST', `accounts/${encodeURIComponent(a.login)}/unlock`, {});
            say(t('unlocked'));
            drawView(accountsPage);
          } catch (e) { say(e.message, 'error'); ev.target.disabled = false; }
        } }, t('unlock')) : '')]))));
}

function reportsPage(params) {
  const today = new Date().toLocaleDateString('sv-SE', { timeZone: 'Europe/Kyiv' });
  const from = h('input', { type: 'date', value: params.get('from') || today.slice(0, 8) + '01' });
  const to = h('input', { type: 'date', value: params.get('to') || today });
  const by = h('select', {}, (session.role === 'participant' ? ['kind', 'topic', 'channel']
    : ['participant', 'kind', 'topic', 'channel']).map((b) =>
    h('option', { value: b, selected: params.get('by') === b }, t('by_' + b))));
  const frame = h('iframe', { class: 'report', title: t('reports') });
  const show = () => {
    const p = new URLSearchParams({ from: from.value, to: to.value, by: by.value, format: 'html' });
    frame.src = '/api/v1/admin/reports?' + p.toString();
  };
  page(t('reports'), h('form', { class: 'filters', onsubmit: (ev) => { ev.preventDefault(); show(); } },
    field(t('from'), from), field(t('to'), to), field(t('by'), by), h('button', { type: 'submit' }, t('build'))),
  frame);
  show();
}

// Draws a page as a new view. Once it is drawn — and no newer view has started — main carries the route
// (path and query) in data-route, which tests wait for; an error loading it is shown, a superseded load
// is not. Returns whether this view is still the current one.
async function drawView(draw) {
  const mine = ++view;
  const main = document.getElementById('main');
  main.dataset.route = '';
  try {
    await draw();
  } catch (e) {
    if (session && !(e instanceof Superseded)) say(e.message, 'error');
  }
  if (mine !== view) return false;
  main.dataset.route = location.hash.slice(1) || (session && session.role === 'participant' ? '/reports' : '/cases');
  return true;
}

async function route() {
  if (!session) return;
  const home = session.role === 'participant' ? '/reports' : '/cases';
  let [path, query] = (location.hash.slice(1) || home).split('?');
  if (session.role === 'participant') path = '/reports';
  const params = new URLSearchParams(query || '');
  for (const a of document.querySelectorAll('header nav a')) {
    if (path.startsWith(a.getAttribute('href').slice(1))) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  say('');
  const current = await drawView(async () => {
    if (path === '/cases') await casesPage(params);
    else if (path.startsWith('/cases/')) await casePage(decodeURIComponent(path.slice(7)));
    else if (path === '/participants/new') onboardPage();
    else if (path === '/participants') await participantsPage();
    else if (path === '/deliveries') await deliveriesPage();
    else if (path === '/alerts') await alertsPage(params);
    else if (path === '/audit') await auditPage();
    else if (path === '/accounts') await accountsPage();
    else if (path === '/reports') reportsPage(params);
    else page(t('not_found'));
  });
  if (current) document.getElementById('main').focus();
}

window.addEventListener('hashchange', route);
document.addEventListener('DOMContentLoaded', async () => {
  document.getElementById('lang').addEventListener('click', () => {
    lang = lang === 'uk' ? 'en' : 'uk';
    localStorage.setItem('vkhid-lang', lang);
    if (session) start(); else { translateChrome(); showSignIn(); }
  });
  document.getElementById('signout').addEventListener('click', async () => {
    try { await call('DELETE', '/console/session'); } catch { /* ended already */ }
    session = null;
    showSignIn();
  });
  translateChrome();
  try { session = await call('GET', '/console/session'); start(); } catch { showSignIn(); }
});
