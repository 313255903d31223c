/*
 * The hosted pages' one script (served as /signin/passkeys.js): the passkey buttons (WebAuthn). Each is a form marked
 * data-passkey, hidden until this script finds WebAuthn in the browser; every page works without
 * it. On submit it fetches options for the form (its CSRF token and mfa_token come along), asks
 * the browser for an assertion, puts it in the form's `passkey` field as JSON and posts the form.
 */
(function () {
  'use strict';
  if (!window.PublicKeyCredential || !navigator.credentials) return;

  function bytes(base64url) {
    const base64 = base64url.replace(/-/g, '+').replace(/_/g, '/');
    const binary = atob(base64 + '==='.slice((base64.length + 3) % 4));
    return Uint8Array.from(binary, function (character) {
      return character.charCodeAt(0);
    });
  }

  function text(buffer) {
    const binary = String.fromCharCode.apply(null, new Uint8Array(buffer));
    return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
  }

  function requestOptions(options) {
    return {
      challenge: bytes(options.challenge),
      rpId: options.rpId,
      timeout: options.timeout,
      userVerification: options.userVerification,
      allowCredentials: (options.allowCredentials || []).map(function (credential) {
        return { type: 'public-key', id: bytes(credential.id), transports: credential.transports };
      }),
    };
  }

  /** The assertion as @simplewebauthn/server reads it (AuthenticationResponseJSON). */
  function assertionJson(credential) {
    const response = credential.response;
    return JSON.stringify({
      id: credential.id,
      rawId: text(credential.rawId),
      type: credential.type,
      authenticatorAttachment: credential.authenticatorAttachment || undefined,
      clientExtensionResults: credential.getClientExtensionResults(),
      response: {
        clientDataJSON: text(response.clientDataJSON),
        authenticatorData: text(response.authenticatorData),
        signature: text(response.signature),
        userHandle: response.userHandle ? text(response.userHandle) : undefined,
      },
    });
  }

  function showError(form, message) {
    let shown = form.previousElementSibling;
    if (!shown || !shown.classList.contains('passkey-error')) {
      shown = document.createElement('p');
      shown.className = 'error passkey-error';
      shown.setAttribute('role', 'alert');
      form.parentNode.insertBefore(shown, form);
    }
    shown.textContent = message;
  }

  function usePasskey(form) {
    const body = new URLSearchParams({
      _csrf: form.elements._csrf.value,
      purpose: form.dataset.passkey,
    });
    if (form.elements.mfa_token && form.elements.mfa_token.value)
      body.set('mfa_token', form.elements.mfa_token.value);
    return fetch('/signin/passkey-options', {
      method: 'POST',
      body: body,
      credentials: 'same-origin',
    })
      .then(function (response) {
        if (!response.ok) throw new Error('options ' + response.status);
        return response.json();
      })
      .then(function (options) {
        return navigator.credentials.get({ publicKey: requestOptions(options) });
      })
      .then(function (credential) {
        form.elements.passkey.value = assertionJson(credential);
        form.submit();
      });
  }

  document.querySelectorAll('form[data-passkey]').forEach(function (form) {
    form.hidden = false;
    form.addEventListener('submit', function (event) {
      event.preventDefault();
      usePasskey(form).catch(function () {
        showError(form, 'No passkey was used. Try again, or sign in another way.');
      });
    });
  });
})();
