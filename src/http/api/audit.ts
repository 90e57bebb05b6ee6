import type { AuditLog } from '../../audit/audit-log';
import { decodeCursor, pageBody, parseLimit } from '../cursor';
import { defineRoute, type ApiRoute } from './route';
import { AuditBody, PageQuery, pageOf } from './schemas';
import { auditView } from './views';

export function auditRoutes(audit: AuditLog): ApiRoute[] {
  return [
    defineRoute({
      operationId: 'audit.list',
      method: 'get',
      path: '/api/v1/audit',
      tag: 'Audit',
      summary: 'What operators changed',
      description: 'Every change made through the API or the CLI, newest first: which token, what action on what, when, and how it ended.',
      scope: 'admin',
      query: PageQuery,
      success: { status: 200, description: 'A page of audit entries', schema: pageOf(AuditBody, 'AuditPage') },
      errors: [400],
      handle: async ({ query }) => ({ body: pageBody(await audit.page(parseLimit(query.limit), decodeCursor(query.cursor)), auditView) }),
    }),
  ];
}
