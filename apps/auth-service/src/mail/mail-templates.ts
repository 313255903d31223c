/**
 * The account mails, as eta templates: a subject, a plain-text body and an HTML body each. Kept
 * in a TypeScript module, not .eta files, because the service is a webpack bundle that would not
 * ship files read at run time. Values are escaped in the HTML bodies (`<%= %>`), never in the
 * text ones (`<%~ %>`), whose reader is a mail client that shows text as text.
 */
export interface MailTemplate {
  subject: string;
  text: string;
  html: string;
}

const HTML_HEAD = `<!doctype html><html><body style="font-family: sans-serif; line-height: 1.5">`;
const HTML_FOOT = `<p style="color: #666">You get this mail because of an account at <%= it.site %>.</p></body></html>`;

export const MAIL_TEMPLATES = {
  'verify-email': {
    subject: 'Confirm your email address',
    text: `Confirm that this address is yours by opening this link:

<%~ it.link %>

Or enter this code: <%~ it.code %>

The link and the code work once, for <%~ it.validFor %>. If you did not create an account at
<%~ it.site %>, ignore this mail.
`,
    html: `${HTML_HEAD}
<p>Confirm that this address is yours:</p>
<p><a href="<%= it.link %>">Confirm my email address</a></p>
<p>Or enter this code: <strong style="font-size: 1.4em; letter-spacing: 0.2em"><%= it.code %></strong></p>
<p>The link and the code work once, for <%= it.validFor %>. If you did not create an account, ignore this mail.</p>
${HTML_FOOT}`,
  },
  'reset-password': {
    subject: 'Reset your password',
    text: `Someone (we hope you) asked to reset the password of your account. Choose a new one here:

<%~ it.link %>

The link works once, for <%~ it.validFor %>. If you did not ask, ignore this mail: your password
stays as it is.
`,
    html: `${HTML_HEAD}
<p>Someone (we hope you) asked to reset the password of your account.</p>
<p><a href="<%= it.link %>">Choose a new password</a></p>
<p>The link works once, for <%= it.validFor %>. If you did not ask, ignore this mail: your password stays as it is.</p>
${HTML_FOOT}`,
  },
  'password-changed': {
    subject: 'Your password was changed',
    text: `The password of your account was changed (<%~ it.how %>), and every device signed in to it
was signed out.

If this was not you, reset your password now: <%~ it.forgotLink %>
`,
    html: `${HTML_HEAD}
<p>The password of your account was changed (<%= it.how %>), and every device signed in to it was signed out.</p>
<p>If this was not you, <a href="<%= it.forgotLink %>">reset your password now</a>.</p>
${HTML_FOOT}`,
  },
  'confirm-new-email': {
    subject: 'Confirm your new email address',
    text: `Confirm that your account should use this address from now on:

<%~ it.link %>

The link works once, for <%~ it.validFor %>. If you did not ask for this, ignore this mail.
`,
    html: `${HTML_HEAD}
<p>Confirm that your account should use this address from now on:</p>
<p><a href="<%= it.link %>">Use this address</a></p>
<p>The link works once, for <%= it.validFor %>. If you did not ask for this, ignore this mail.</p>
${HTML_FOOT}`,
  },
  'email-changed': {
    subject: 'The email address of your account was changed',
    text: `The email address of your account was changed to <%~ it.newEmail %>.

If this was not you, undo the change (and sign out every device) with this link, which works
for <%~ it.validFor %>:

<%~ it.link %>
`,
    html: `${HTML_HEAD}
<p>The email address of your account was changed to <strong><%= it.newEmail %></strong>.</p>
<p>If this was not you, <a href="<%= it.link %>">undo the change</a> (it also signs out every device). The link works for <%= it.validFor %>.</p>
${HTML_FOOT}`,
  },
} as const satisfies Record<string, MailTemplate>;

export type MailTemplateName = keyof typeof MAIL_TEMPLATES;
