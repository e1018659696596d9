/* <beacon-lead-form>: Beacon's embeddable enquiry form, served by GET /v1/embed/lead-form.js.
 *
 *   <script src="https://api.clinic.example/v1/embed/lead-form.js" defer></script>
 *   <beacon-lead-form api="https://api.clinic.example" article="ketamine-for-depression"
 *                     heading="Ask about treatment" button-text="Send"></beacon-lead-form>
 *
 * No dependencies and no request to anyone but Beacon. Everything it shows is built with
 * createElement/textContent, never innerHTML, so nothing from the API can become markup.
 * Beacon fills in CONFIG (the consent wording and the honeypot field) when it serves the file.
 */
(() => {
  'use strict';

  const CONFIG = __BEACON_CONFIG__;
  const TAG = 'beacon-lead-form';
  // Network failures and "try again shortly" answers are retried with the same Idempotency-Key,
  // so a retry can never record the enquiry twice.
  const RETRY_DELAYS_MS = [1000, 2000, 4000];
  const RETRY_STATUSES = [409, 502, 503, 504];

  // The API origin defaults to wherever this script was loaded from.
  const SCRIPT_ORIGIN = (() => {
    try {
      return new URL(document.currentScript.src).origin;
    } catch (_) {
      return '';
    }
  })();

  if (customElements.get(TAG)) return;

  const STYLE = `
    :host {
      display: block;
      font: var(--beacon-font, inherit);
      color: var(--beacon-color, inherit);
      background: var(--beacon-background, transparent);
      max-width: var(--beacon-max-width, 36rem);
    }
    [hidden] { display: none !important; }
    form, .done { display: grid; gap: var(--beacon-gap, 1rem); }
    h2 { font-size: var(--beacon-heading-size, 1.4em); line-height: 1.2; margin: 0 0 1rem; }
    h3 { font-size: var(--beacon-subheading-size, 1.15em); margin: 0; }
    .done p { margin: 0; }
    label { display: block; font-weight: var(--beacon-label-weight, 600); }
    .field { display: grid; gap: 0.3rem; }
    input[type=text], input[type=tel], input[type=email], textarea {
      font: inherit; color: inherit; background: var(--beacon-input-background, #fff);
      border: var(--beacon-border, 1px solid #767676);
      border-radius: var(--beacon-radius, 0.25rem);
      padding: var(--beacon-input-padding, 0.5rem);
      width: 100%; box-sizing: border-box;
    }
    textarea { min-height: 6rem; resize: vertical; }
    fieldset { border: var(--beacon-border, 1px solid #767676);
      border-radius: var(--beacon-radius, 0.25rem); margin: 0; padding: 0.75rem; }
    legend { font-weight: var(--beacon-label-weight, 600); padding: 0 0.25rem; }
    .choice { display: flex; gap: 0.5rem; align-items: flex-start; font-weight: normal;
      padding: 0.2rem 0; }
    .choice input { margin-top: 0.25rem; flex: none; }
    .hint { margin: 0; font-size: 0.9em; opacity: 0.85; }
    .error { margin: 0; color: var(--beacon-error, #b00020); font-weight: 600; }
    input[aria-invalid=true], textarea[aria-invalid=true] {
      border-color: var(--beacon-error, #b00020); border-width: 2px; }
    .summary { color: var(--beacon-error, #b00020); }
    .summary p { margin: 0; font-weight: 600; }
    button {
      font: inherit; font-weight: 600; cursor: pointer; justify-self: start;
      color: var(--beacon-accent-text, #fff); background: var(--beacon-accent, #1a5fb4);
      border: 0; border-radius: var(--beacon-radius, 0.25rem);
      padding: var(--beacon-button-padding, 0.6rem 1.2rem);
    }
    button[aria-disabled=true] { opacity: 0.6; cursor: progress; }
    :focus-visible { outline: var(--beacon-focus, 3px solid #1a5fb4); outline-offset: 2px; }
    .crisis { border: var(--beacon-crisis-border, 3px solid #b00020);
      border-radius: var(--beacon-radius, 0.25rem); padding: 0.75rem; }
    .crisis ul { margin: 0.5rem 0 0; padding-left: 1.25rem; }
    .crisis a { color: inherit; font-weight: 600; }
    .hp { position: absolute; left: -10000px; width: 1px; height: 1px; overflow: hidden; }
    .sr { position: absolute; width: 1px; height: 1px; overflow: hidden;
      clip: rect(0 0 0 0); white-space: nowrap; }
  `;

  /** An element with attributes (`text` sets textContent) and children. */
  function h(tag, attributes = {}, ...children) {
    const element = document.createElement(tag);
    for (const [name, value] of Object.entries(attributes)) {
      if (value === null || value === undefined || value === false) continue;
      if (name === 'text') element.textContent = value;
      else element.setAttribute(name, value === true ? '' : String(value));
    }
    for (const child of children) if (child) element.append(child);
    return element;
  }

  /** A random UUID without needing a secure context (crypto.randomUUID does). */
  function uuid() {
    const bytes = crypto.getRandomValues(new Uint8Array(16));
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  }

  const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

  /** An absolute http(s) URL, or undefined: the API refuses anything else. */
  function httpUrl(value) {
    try {
      const url = new URL(value);
      return url.protocol === 'http:' || url.protocol === 'https:' ? url.href : undefined;
    } catch (_) {
      return undefined;
    }
  }

  /** "Thursday 5 PM", "tomorrow, 9:30 AM", in the visitor's language and time zone. */
  function deadlineInWords(iso, now = new Date()) {
    const at = new Date(iso);
    const time = new Intl.DateTimeFormat(undefined, {
      hour: 'numeric',
      minute: at.getMinutes() === 0 ? undefined : '2-digit',
    }).format(at);
    const startOfDay = (d) => new Date(d.getFullYear(), d.getMonth(), d.getDate()).getTime();
    const days = Math.round((startOfDay(at) - startOfDay(now)) / 86400000);
    let day;
    if (days === 0 || days === 1) {
      day = new Intl.RelativeTimeFormat(undefined, { numeric: 'auto' }).format(days, 'day');
    } else if (days > 1 && days < 7) {
      day = new Intl.DateTimeFormat(undefined, { weekday: 'long' }).format(at);
    } else {
      day = new Intl.DateTimeFormat(undefined, { weekday: 'long', month: 'long', day: 'numeric' })
        .format(at);
    }
    return `${day} ${time}`;
  }

  /** The form field a problem's JSON Pointer names (`/interests/2` is the checklist). */
  function fieldOf(pointer) {
    const first = String(pointer || '').split('/')[1] || '';
    return first === 'consent' ? 'consent' : first;
  }

  class BeaconLeadForm extends HTMLElement {
    constructor() {
      super();
      this.attachShadow({ mode: 'open' });
      this.renderedAt = null;
      this.attempt = null;
      this.sending = false;
    }

    get api() {
      return (this.getAttribute('api') || SCRIPT_ORIGIN).replace(/\/+$/, '');
    }

    connectedCallback() {
      if (this.form) return;
      this.build();
      this.loadInterests();
    }

    build() {
      const root = this.shadowRoot;
      root.append(h('style', { text: STYLE }));
      const id = (name) => `beacon-${name}`;
      this.fields = {};
      const field = (name, label, input, hint) => {
        const error = h('p', { class: 'error', id: id(`${name}-error`), hidden: true });
        input.id = id(name);
        input.name = name;
        input.setAttribute('aria-describedby', [hint && id(`${name}-hint`), id(`${name}-error`)]
          .filter(Boolean).join(' '));
        this.fields[name] = { input, error, focus: input };
        return h('div', { class: 'field', part: 'field' },
          h('label', { for: id(name), text: label }),
          hint ? h('p', { class: 'hint', id: id(`${name}-hint`), text: hint }) : null,
          input, error);
      };

      this.heading = h('h2', { part: 'heading', text: this.getAttribute('heading') || 'Ask us about treatment' });
      this.status = h('div', { class: 'sr', role: 'status', 'aria-live': 'polite' });
      this.summary = h('div', { class: 'summary', part: 'summary', tabindex: '-1', hidden: true },
        h('p', { role: 'alert' }));

      this.interests = h('div', { class: 'choices' },
        h('p', { class: 'hint', text: 'Loading the list…' }));
      const interestError = h('p', { class: 'error', id: id('interests-error'), hidden: true });
      this.checklist = h('fieldset', { part: 'checklist', 'aria-describedby': id('interests-error') },
        h('legend', { text: 'What would you like to ask about? (optional)' }),
        this.interests, interestError);
      this.fields.interests = { input: this.checklist, error: interestError, focus: null };

      // People never see or reach the honeypot; form-filling bots do.
      const honeypot = h('input', { type: 'text', name: CONFIG.honeypot, tabindex: '-1', autocomplete: 'off' });
      this.honeypot = honeypot;
      const trap = h('div', { class: 'hp', 'aria-hidden': 'true' },
        h('label', { text: 'Leave this field empty' }, honeypot));

      let consent = null;
      if (CONFIG.consent) {
        const box = h('input', { type: 'checkbox', id: id('consent'), name: 'consent',
          'aria-describedby': id('consent-error') });
        const error = h('p', { class: 'error', id: id('consent-error'), hidden: true });
        this.fields.consent = { input: box, error, focus: box };
        consent = h('div', { class: 'field', part: 'consent' },
          h('label', { class: 'choice', for: id('consent') }, box, h('span', { text: CONFIG.consent.text })),
          error);
        this.consentBox = box;
      }

      this.button = h('button', { type: 'submit', part: 'button', text: this.getAttribute('button-text') || 'Send' });
      this.form = h('form', { novalidate: true, part: 'form', 'aria-labelledby': id('heading') },
        this.summary,
        field('name', 'Your name', h('input', { type: 'text', autocomplete: 'name', required: true, 'aria-required': 'true', maxlength: '200' })),
        field('phone', 'Phone number', h('input', { type: 'tel', autocomplete: 'tel', required: true, 'aria-required': 'true' }),
          'We will call you on this number.'),
        field('email', 'Email (optional)', h('input', { type: 'email', autocomplete: 'email' })),
        this.checklist,
        field('message', 'Anything you would like us to know? (optional)', h('textarea', { maxlength: '2000' })),
        consent,
        trap,
        this.button);
      this.heading.id = id('heading');
      this.form.addEventListener('submit', (event) => {
        event.preventDefault();
        this.submit();
      });
      // Editing after a failed attempt makes the next Send a new request with a new key.
      this.form.addEventListener('input', () => { if (!this.sending) this.attempt = null; });

      this.done = h('div', { class: 'done', part: 'confirmation', hidden: true, tabindex: '-1' });
      root.append(this.heading, this.status, this.form, this.done);
      this.renderedAt = new Date().toISOString();
    }

    async loadInterests() {
      try {
        const response = await fetch(`${this.api}/v1/interests`, { headers: { Accept: 'application/json' } });
        if (!response.ok) throw new Error(`status ${response.status}`);
        const { items } = await response.json();
        this.interests.replaceChildren(...items.map((interest) => h('label', { class: 'choice' },
          h('input', { type: 'checkbox', name: 'interests', value: interest.code }),
          h('span', { text: interest.label }))));
        if (!items.length) this.checklist.hidden = true;
        this.dispatchEvent(new CustomEvent('beacon-ready', { bubbles: true, composed: true }));
      } catch (_) {
        // The enquiry still works without the checklist.
        this.checklist.hidden = true;
      }
    }

    body() {
      const value = (name) => this.fields[name].input.value;
      const params = new URLSearchParams(location.search);
      const body = {
        name: value('name'),
        phone: value('phone'),
        email: value('email'),
        message: value('message'),
        interests: Array.from(this.interests.querySelectorAll('input:checked'), (box) => box.value),
        form_rendered_at: this.renderedAt,
        article_slug: this.getAttribute('article') || undefined,
        landing_page: httpUrl(location.href),
        referrer: httpUrl(document.referrer),
      };
      for (const name of ['utm_source', 'utm_medium', 'utm_campaign', 'utm_term', 'utm_content', 'gclid', 'fbclid']) {
        if (params.get(name)) body[name] = params.get(name);
      }
      if (CONFIG.consent) {
        body.consent = {
          agreed: this.consentBox.checked,
          text: CONFIG.consent.text,
          version: CONFIG.consent.version || undefined,
          page_url: httpUrl(location.href),
        };
      }
      body[CONFIG.honeypot] = this.honeypot.value;
      return body;
    }

    async submit() {
      if (this.sending) return;
      this.sending = true;
      this.button.setAttribute('aria-disabled', 'true');
      this.announce('Sending your enquiry…');
      this.clearErrors();
      // One key per attempt to send this enquiry, reused by every retry of it.
      this.attempt = this.attempt || uuid();
      const payload = JSON.stringify(this.body());
      try {
        const response = await this.post(payload, this.attempt);
        await this.answer(response);
      } catch (_) {
        this.showSummary('We could not reach the clinic. Check your connection and press Send again.');
      } finally {
        this.sending = false;
        this.button.removeAttribute('aria-disabled');
      }
    }

    async post(payload, key) {
      for (let attempt = 0; ; attempt += 1) {
        try {
          const response = await fetch(`${this.api}/v1/leads`, {
            method: 'POST',
            headers: { 'Content-Type': 'application/json', Accept: 'application/json', 'Idempotency-Key': key },
            body: payload,
          });
          if (!RETRY_STATUSES.includes(response.status) || attempt >= RETRY_DELAYS_MS.length) return response;
        } catch (error) {
          if (attempt >= RETRY_DELAYS_MS.length) throw error;
        }
        await sleep(RETRY_DELAYS_MS[attempt]);
      }
    }

    async answer(response) {
      let body = {};
      try {
        body = await response.json();
      } catch (_) { /* an empty or unreadable body: the status says enough */ }
      if (response.status === 201) return this.confirm(body);
      if (response.status === 422 && Array.isArray(body.errors)) return this.showErrors(body.errors);
      this.attempt = null;
      if (response.status === 429) {
        const minutes = Math.max(1, Math.ceil(Number(response.headers.get('Retry-After') || 60) / 60));
        return this.showSummary(`Too many enquiries were sent from your network. Please try again in ${minutes} minute${minutes === 1 ? '' : 's'}.`);
      }
      return this.showSummary('Something went wrong on our side. Please try again, or call the clinic.');
    }

    clearErrors() {
      this.summary.hidden = true;
      for (const { input, error } of Object.values(this.fields)) {
        input.removeAttribute('aria-invalid');
        error.hidden = true;
        error.textContent = '';
      }
    }

    showErrors(errors) {
      const messages = new Map();
      const general = [];
      for (const { pointer, message } of errors) {
        const name = fieldOf(pointer);
        if (this.fields[name]) {
          if (!messages.has(name)) messages.set(name, message);
        } else {
          general.push(message);
        }
      }
      for (const [name, message] of messages) {
        const { input, error } = this.fields[name];
        input.setAttribute('aria-invalid', 'true');
        error.textContent = `${labelOf(name)} ${message}`;
        error.hidden = false;
      }
      const count = messages.size + general.length;
      this.showSummary(`Please correct ${count === 1 ? 'the highlighted field' : `the ${count} highlighted problems`} and press Send again.${general.length ? ` ${general.join(' ')}` : ''}`, false);
      // Focus goes to the first field in the form's order that has a problem.
      const first = FIELD_ORDER.find((name) => messages.has(name));
      const target = first && (this.fields[first].focus || this.interests.querySelector('input'));
      (target || this.summary).focus();
    }

    showSummary(text, focus = true) {
      const line = this.summary.firstElementChild;
      line.textContent = text;
      this.summary.hidden = false;
      this.announce('');
      if (focus) this.summary.focus();
    }

    announce(text) {
      this.status.textContent = text;
    }

    confirm(answer) {
      const parts = [];
      const crisis = answer.crisis_resources;
      if (crisis && Array.isArray(crisis.resources)) {
        const list = h('ul', {}, ...crisis.resources.map((resource) => {
          const safe = /^(tel:|sms:|https:)/i.test(resource.href || '');
          return h('li', {}, safe ? h('a', { href: resource.href, text: resource.label, target: resource.href.startsWith('https:') ? '_blank' : null, rel: 'noopener' }) : h('span', { text: resource.label }));
        }));
        parts.push(h('section', { class: 'crisis', part: 'crisis', role: 'alert', 'aria-labelledby': 'beacon-crisis-heading', tabindex: '-1' },
          h('h3', { id: 'beacon-crisis-heading', text: 'Help is available now' }),
          h('p', { text: crisis.message }), list));
      }
      const thanks = h('p', { part: 'thanks' }, 'Thank you. ');
      if (answer.contact_by) {
        thanks.append('We will call you by ', h('time', { datetime: answer.contact_by, text: deadlineInWords(answer.contact_by) }), '.');
      } else {
        thanks.append('We will be in touch soon.');
      }
      parts.push(h('h3', { id: 'beacon-done-heading', text: 'Your enquiry was sent' }), thanks);
      this.done.replaceChildren(...parts);
      this.done.setAttribute('aria-labelledby', 'beacon-done-heading');
      this.form.hidden = true;
      this.done.hidden = false;
      this.announce(`Your enquiry was sent. ${thanks.textContent}`);
      (this.done.querySelector('.crisis') || this.done).focus();
      this.dispatchEvent(new CustomEvent('beacon-sent', { bubbles: true, composed: true, detail: { id: answer.id } }));
    }
  }

  const FIELD_ORDER = ['name', 'phone', 'email', 'interests', 'message', 'consent'];
  const LABELS = { name: 'Your name', phone: 'Phone number', email: 'Email', message: 'Your message', interests: 'The list', consent: 'The consent box' };
  function labelOf(name) {
    return LABELS[name] || name;
  }

  customElements.define(TAG, BeaconLeadForm);
})();
