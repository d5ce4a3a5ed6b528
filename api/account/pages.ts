/**
 * The pages the links in mails open: minimal HTML forms served by the API itself, each with the
 * one script below (a file, so the pages run under a strict Content-Security-Policy). The token
 * stays in the URL's fragment, which the browser never sends: the script reads it and posts it in
 * a JSON body to the matching API route.
 */
import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import Router from '@koa/router';
import { z } from 'zod';
import { defineRoute } from '../routing.ts';
import type { ApiDeps, ApiRouterContext, ApiState } from '../state.ts';

export const ACCOUNT_SCRIPT_PATH = '/account/account.js';

const CSP = "default-src 'none'; script-src 'self'; connect-src 'self'; form-action 'none'; base-uri 'none'; frame-ancestors 'none'";

const escape = (v: string) => v.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c] as string);

/** One page: a title, a form (shown with a token, or without when `withoutToken` is given) and a result line. */
function page(name: string, title: string, withToken: string, withoutToken = ''): string {
  return `<!DOCTYPE html>
<html lang="en">
  <head><meta charset="utf-8"><meta name="viewport" content="width=device-width"><title>${escape(title)} · Catalytic</title></head>
  <body data-page="${name}">
    <h1>${escape(title)}</h1>
    <form id="with-token" hidden>${withToken}<button type="submit">${escape(title)}</button></form>
    ${withoutToken ? `<form id="without-token" hidden>${withoutToken}<button type="submit">Send me a link</button></form>` : '<p id="without-token" hidden>This page needs the link from your mail.</p>'}
    <p id="result" role="status"></p>
    <script src="${ACCOUNT_SCRIPT_PATH}"></script>
  </body>
</html>
`;
}

const field = (name: string, label: string, type: string, autocomplete: string) =>
  `<p><label>${label} <input name="${name}" type="${type}" autocomplete="${autocomplete}" required></label></p>`;

/** The pages, by path. Each form field's name is the JSON member the script sends. */
export const ACCOUNT_PAGES: Record<string, { summary: string; html: string }> = {
  '/account/reset-password': {
    summary: 'Page: choose a new password from a reset link (or ask for a link)',
    html: page(
      'reset-password',
      'Set a new password',
      field('password', 'New password', 'password', 'new-password'),
      field('email', 'Email', 'email', 'email'),
    ),
  },
  '/account/verify-email': {
    summary: 'Page: confirm an email address from its link',
    html: page('verify-email', 'Confirm your email address', ''),
  },
  '/account/accept-invitation': {
    summary: 'Page: accept an invitation from its link (name and password for the new account)',
    html: page(
      'accept-invitation',
      'Join the team',
      field('first_name', 'First name', 'text', 'given-name') + field('last_name', 'Last name', 'text', 'family-name') + field('password', 'Password', 'password', 'new-password'),
    ),
  },
};

// Which route each page posts to, and what it says on success.
const SCRIPT = `(function () {
  var page = document.body.getAttribute('data-page');
  var routes = {
    'reset-password': { withToken: '/auth/password-reset/confirm', withoutToken: '/auth/password-reset',
      done: 'Your password is set, and every session was signed out. Sign in with the new password.' },
    'accept-invitation': { withToken: '/auth/invitations/accept',
      done: 'Welcome aboard: your account is ready. Sign in with your email and this password.' },
    'verify-email': { withToken: '/auth/verify-email', done: 'Your email address is confirmed.' }
  };
  var route = routes[page];
  var token = new URLSearchParams(location.hash.slice(1)).get('token');
  var result = document.getElementById('result');
  var form = document.getElementById(token ? 'with-token' : 'without-token');
  form.hidden = false;
  // The token has been read: take it out of the address bar and the history.
  if (token) history.replaceState(null, '', location.pathname);
  function send(path, body) {
    result.textContent = 'Working…';
    return fetch(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
      .then(function (res) {
        if (res.ok) return res.status === 204 ? {} : res.json();
        return res.json().then(function (problem) { throw new Error(problem.detail || problem.title || ('HTTP ' + res.status)); });
      });
  }
  if (form.tagName !== 'FORM') return;
  if (token && !form.querySelector('input')) {
    send(route.withToken, { token: token }).then(function () { result.textContent = route.done; }, function (err) { result.textContent = err.message; });
    return;
  }
  form.addEventListener('submit', function (event) {
    event.preventDefault();
    var body = token ? { token: token } : {};
    Array.prototype.forEach.call(form.querySelectorAll('input'), function (input) { body[input.name] = input.value; });
    send(token ? route.withToken : route.withoutToken, body).then(function (answer) {
      form.hidden = true;
      result.textContent = token ? route.done : answer.detail;
    }, function (err) { result.textContent = err.message; });
  });
})();
`;

function servePage(ctx: ApiRouterContext, html: string): void {
  ctx.set('Content-Security-Policy', CSP);
  ctx.set('Referrer-Policy', 'no-referrer');
  ctx.set('Cache-Control', 'no-store');
  ctx.set('X-Content-Type-Options', 'nosniff');
  ctx.type = 'text/html; charset=utf-8';
  ctx.body = html;
}

export function accountPageRoutes(deps: ApiDeps, registry: OpenAPIRegistry): Router<ApiState> {
  const router = new Router<ApiState>();
  for (const [path, { summary, html }] of Object.entries(ACCOUNT_PAGES)) {
    defineRoute(router, registry, deps, {
      method: 'get',
      path,
      summary,
      tags: ['Account pages'],
      auth: 'public',
      responses: { 200: { description: 'An HTML page', schema: z.string(), contentType: 'text/html' } },
      handler: (ctx) => servePage(ctx, html),
    });
  }
  defineRoute(router, registry, deps, {
    method: 'get',
    path: ACCOUNT_SCRIPT_PATH,
    summary: "The account pages' script",
    tags: ['Account pages'],
    auth: 'public',
    responses: { 200: { description: 'JavaScript', schema: z.string(), contentType: 'application/javascript' } },
    handler: (ctx) => {
      ctx.set('Cache-Control', 'public, max-age=300');
      ctx.set('X-Content-Type-Options', 'nosniff');
      ctx.type = 'application/javascript; charset=utf-8';
      ctx.body = SCRIPT;
    },
  });
  return router;
}
