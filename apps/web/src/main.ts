import { NotesApi } from './notes';
import { describe, Session } from './session';
import type { WebConfig } from './session';

const element = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const status = element<HTMLParagraphElement>('status');
const form = element<HTMLFormElement>('new-note');

async function start(): Promise<void> {
  // Where auth-service and resource-service are: chosen where the app is served, not built in.
  const config = (await (await fetch('/config.json')).json()) as WebConfig;
  const session = await Session.discover(config, (reason) => {
    status.textContent = reason;
    render(session);
  });
  const notes = new NotesApi(config.notesUrl, session);

  if (location.pathname === '/callback') {
    try {
      await session.completeSignIn(new URL(location.href));
    } catch (error) {
      status.textContent = `Sign-in failed: ${describe(error)}`;
    }
    // Keep the code and state out of the address bar and the history.
    history.replaceState(null, '', '/');
  }

  element('sign-in').addEventListener('click', () => void session.signIn());
  element('sign-out').addEventListener('click', () => session.signOut());
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const data = new FormData(form);
    void show(async () => {
      await notes.create(String(data.get('title')), String(data.get('body')));
      form.reset();
      await listNotes(notes);
    });
  });

  render(session);
  if (session.signedIn) await show(() => listNotes(notes));
}

function render(session: Session): void {
  element('signed-in').hidden = !session.signedIn;
  element('sign-out').hidden = !session.signedIn;
  element('signed-out').hidden = session.signedIn;
  const who = element('who');
  who.hidden = !session.signedIn;
  who.textContent = session.email ? `Signed in as ${session.email}` : 'Signed in';
}

async function listNotes(notes: NotesApi): Promise<void> {
  const items = (await notes.list()).map((note) => {
    const item = document.createElement('li');
    const title = document.createElement('strong');
    title.textContent = note.title;
    const body = document.createElement('p');
    body.textContent = note.body;
    item.append(title, body);
    return item;
  });
  element('notes').replaceChildren(...items);
}

/** Runs `action`, showing what went wrong, if anything, in the status line. */
async function show(action: () => Promise<void>): Promise<void> {
  try {
    await action();
    status.textContent = '';
  } catch (error) {
    status.textContent = describe(error);
  }
}

start().catch((error: unknown) => {
  status.textContent = `The app could not start: ${describe(error)}`;
});
