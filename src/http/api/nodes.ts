import type { NodeRegistry } from '../../cluster/node-registry';
import { defineRoute, type ApiRoute } from './route';
import { NodeList } from './schemas';
import { nodeView } from './views';

export function nodeRoutes(nodes: NodeRegistry): ApiRoute[] {
  return [
    defineRoute({
      operationId: 'nodes.list',
      method: 'get',
      path: '/api/v1/nodes',
      tag: 'Nodes',
      summary: 'The origin nodes sharing this database',
      description: 'Every node that has run against this database lately: `up` while it heartbeats, `gone` once it stopped or went silent for longer than a stream lease (its streams can then be taken over).',
      scope: 'read',
      success: { status: 200, description: 'The nodes', schema: NodeList },
      errors: [],
      handle: async () => ({ body: { data: (await nodes.list()).map(nodeView) } }),
    }),
  ];
}
