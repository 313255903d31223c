import type { Session } from './session';

export interface Note {
  id: string;
  title: string;
  body: string;
  createdAt: string;
}

/**
 * resource-service's notes API, called with the session's access token. Paths are relative to
 * `baseUrl` (which ends in `/`), so the API may sit under a prefix, as behind a gateway.
 */
export class NotesApi {
  constructor(
    private readonly baseUrl: string,
    private readonly session: Session,
  ) {}

  async list(): Promise<Note[]> {
    const page = (await this.call('GET', 'notes')) as { items: Note[] };
    return page.items;
  }

  async create(title: string, body: string): Promise<Note> {
    return (await this.call('POST', 'notes', { title, body })) as Note;
  }

  private async call(method: string, path: string, body?: object): Promise<unknown> {
    const headers = new Headers({ authorization: `Bearer ${await this.session.accessToken()}` });
    if (body) headers.set('content-type', 'application/json');
    const response = await fetch(new URL(path, this.baseUrl), {
      method,
      headers,
      body: body && JSON.stringify(body),
    });
    const answer = (await response.json()) as { message?: string | string[] };
    if (!response.ok) throw new Error([answer.message ?? response.statusText].flat().join('; '));
    return answer;
  }
}
