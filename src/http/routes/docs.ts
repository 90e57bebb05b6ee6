import fs from 'node:fs';
import path from 'node:path';
import Router from '@koa/router';
import type { AppState } from '../context';
import { notFound } from '../errors';

const SWAGGER_ASSETS: Record<string, string> = {
  'swagger-ui.css': 'text/css; charset=utf-8',
  'swagger-ui-bundle.js': 'application/javascript; charset=utf-8',
};

/**
 * The OpenAPI document and a reference page rendering it, from swagger-ui-dist served by the origin
 * itself (no CDN).
 */
export function docsRoutes(document: object, swaggerDir: string): Router<AppState> {
  const router = new Router<AppState>();
  const json = JSON.stringify(document, null, 2);
  router.get('/api/openapi.json', (ctx) => {
    ctx.type = 'application/json; charset=utf-8';
    ctx.body = json;
  });
  router.get('/api/docs', (ctx) => {
    ctx.type = 'text/html; charset=utf-8';
    ctx.body = REFERENCE_PAGE;
  });
  router.get('/api/docs/assets/:file', (ctx) => {
    const type = SWAGGER_ASSETS[ctx.params.file ?? ''];
    if (!type) throw notFound();
    ctx.type = type;
    ctx.set('Cache-Control', 'public, max-age=86400');
    ctx.body = fs.createReadStream(path.join(swaggerDir, ctx.params.file!));
  });
  router.get('/api/docs/init.js', (ctx) => {
    ctx.type = 'application/javascript; charset=utf-8';
    ctx.body = INIT_SCRIPT;
  });
  return router;
}

const REFERENCE_PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>live-origin API reference</title>
<link rel="stylesheet" href="/api/docs/assets/swagger-ui.css">
</head>
<body>
<div id="reference"></div>
<script src="/api/docs/assets/swagger-ui-bundle.js"></script>
<script src="/api/docs/init.js"></script>
</body>
</html>
`;

// A separate script rather than inline, so that a strict Content-Security-Policy can allow it.
const INIT_SCRIPT = `window.ui = SwaggerUIBundle({ url: '/api/openapi.json', dom_id: '#reference', deepLinking: true, persistAuthorization: true });\n`;
