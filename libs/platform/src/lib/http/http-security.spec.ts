import { Controller, Get, Module } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { createServiceApplication } from '../bootstrap/bootstrap-service';
import { validateEnvironment } from '../config/validate-environment';
import { ServiceEnvironment } from '../config/service-environment';
import { API_DOCS_CONTENT_SECURITY_POLICY } from '../api-docs/api-docs';
import { SECURITY_HEADERS } from './http-security';

@Controller()
class ExampleController {
  @Get('thing')
  thing() {
    return { thing: true };
  }
}

@Module({ controllers: [ExampleController] })
class ExampleModule {}

async function serve(
  variables: Record<string, string>,
): Promise<{ app: NestFastifyApplication; url: string }> {
  const environment = validateEnvironment(ServiceEnvironment, { LOG_LEVEL: 'warn', ...variables });
  const app = await createServiceApplication(ExampleModule, environment);
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.getHttpServer().address();
  return {
    app,
    url: `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`,
  };
}

describe('HTTP security of every service (O4)', () => {
  it('sends helmet-style security headers on answers and on errors', async () => {
    const { app, url } = await serve({});
    try {
      for (const path of ['/thing', '/nope']) {
        const response = await fetch(`${url}${path}`);
        expect(response.headers.get('x-content-type-options')).toBe('nosniff');
        expect(response.headers.get('strict-transport-security')).toMatch(/max-age=\d+/);
        expect(response.headers.get('x-frame-options')).toBe('SAMEORIGIN');
        expect(response.headers.get('content-security-policy')).toContain("default-src 'none'");
        expect(response.headers.get('referrer-policy')).toBe('no-referrer');
        expect(response.headers.get('x-powered-by')).toBeNull();
      }
    } finally {
      await app.close();
    }
  });

  it("keeps the strict policy on every response but Swagger UI's page and assets, which get their own", async () => {
    const { app, url } = await serve({});
    try {
      for (const path of ['/thing', '/nope', '/docs-json', '/docsx', '/thing?x=/docs']) {
        const response = await fetch(`${url}${path}`);
        await response.arrayBuffer();
        expect({ path, csp: response.headers.get('content-security-policy') }).toEqual({
          path,
          csp: SECURITY_HEADERS['content-security-policy'],
        });
      }
      for (const path of [
        '/docs',
        '/docs/',
        '/docs/swagger-ui-bundle.js',
        '/docs/swagger-ui.css',
      ]) {
        const response = await fetch(`${url}${path}`);
        await response.arrayBuffer();
        expect({ path, status: response.status }).toEqual({ path, status: 200 });
        expect(response.headers.get('content-security-policy')).toBe(
          API_DOCS_CONTENT_SECURITY_POLICY,
        );
        // The other headers stay as strict as anywhere.
        expect(response.headers.get('x-frame-options')).toBe('SAMEORIGIN');
        expect(response.headers.get('x-content-type-options')).toBe('nosniff');
      }
      // Relaxed only as far as Swagger UI needs: no inline or evaluated script, nothing from elsewhere.
      expect(API_DOCS_CONTENT_SECURITY_POLICY).toContain("default-src 'none'");
      expect(API_DOCS_CONTENT_SECURITY_POLICY).toContain("script-src 'self';");
      expect(API_DOCS_CONTENT_SECURITY_POLICY).not.toMatch(/unsafe-eval|\*|https?:/);
      expect(API_DOCS_CONTENT_SECURITY_POLICY).toContain("frame-ancestors 'none'");
    } finally {
      await app.close();
    }
  });

  it('keeps CORS closed without CORS_ORIGINS: no allow-origin, and a preflight is not granted', async () => {
    const { app, url } = await serve({});
    try {
      const simple = await fetch(`${url}/thing`, {
        headers: { origin: 'https://app.example.com' },
      });
      expect(simple.headers.get('access-control-allow-origin')).toBeNull();
      const preflight = await fetch(`${url}/thing`, {
        method: 'OPTIONS',
        headers: { origin: 'https://app.example.com', 'access-control-request-method': 'GET' },
      });
      expect(preflight.headers.get('access-control-allow-origin')).toBeNull();
      expect(preflight.status).toBeGreaterThanOrEqual(400);
    } finally {
      await app.close();
    }
  });

  it('opens CORS to exactly the configured origins', async () => {
    const { app, url } = await serve({
      CORS_ORIGINS: 'https://app.example.com, http://localhost:5173',
    });
    try {
      const allowed = await fetch(`${url}/thing`, {
        method: 'OPTIONS',
        headers: {
          origin: 'https://app.example.com',
          'access-control-request-method': 'GET',
          'access-control-request-headers': 'authorization',
        },
      });
      expect(allowed.status).toBe(204);
      expect(allowed.headers.get('access-control-allow-origin')).toBe('https://app.example.com');
      expect(allowed.headers.get('access-control-allow-headers')).toContain('authorization');
      const other = await fetch(`${url}/thing`, {
        headers: { origin: 'https://evil.example.com' },
      });
      expect(other.headers.get('access-control-allow-origin')).toBeNull();
      // Nor is a look-alike of a configured origin granted a preflight: another port, scheme or
      // host, a suffix, or `null` (sandboxed frames, file: pages).
      for (const origin of [
        'http://localhost:5174',
        'http://app.example.com',
        'https://app.example.com.evil.com',
        'https://evil-app.example.com',
        'http://127.0.0.1:5173',
        'null',
      ]) {
        const refused = await fetch(`${url}/thing`, {
          method: 'OPTIONS',
          headers: {
            origin,
            'access-control-request-method': 'POST',
            'access-control-request-headers': 'authorization',
          },
        });
        expect({ origin, granted: refused.headers.get('access-control-allow-origin') }).toEqual({
          origin,
          granted: null,
        });
      }
    } finally {
      await app.close();
    }
  });
});
