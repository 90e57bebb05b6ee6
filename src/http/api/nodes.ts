import { z } from 'zod';
import type { NodeRegistry } from '../../cluster/node-registry';
import { notFound } from '../errors';
import { defineRoute, type ApiRoute } from './route';
import { DrainBody, NodeBody, NodeList } from './schemas';
import { nodeView } from './views';

/** A node id as NODE_ID allows it. */
const NodeParams = z.object({ id: z.string().min(1).max(64).meta({ description: "The node's NODE_ID." }) });

export function nodeRoutes(nodes: NodeRegistry, options: { drainSeconds: number; now: () => number }): ApiRoute[] {
  return [
    defineRoute({
      operationId: 'nodes.list',
      method: 'get',
      path: '/api/v1/nodes',
      tag: 'Nodes',
      summary: 'The origin nodes sharing this database',
      description:
        'Every node that has run against this database lately: `up` while it heartbeats, `gone` once it stopped or went silent for longer than a stream lease (its streams can then be taken over).',
      scope: 'read',
      success: { status: 200, description: 'The nodes', schema: NodeList },
      errors: [],
      handle: async () => ({ body: { data: (await nodes.list()).map(nodeView) } }),
    }),
    defineRoute({
      operationId: 'nodes.drain',
      method: 'post',
      path: '/api/v1/nodes/{id}/drain',
      tag: 'Nodes',
      summary: 'Take a node out of service',
      description:
        'Within a heartbeat the node stops taking publishes and turns /readyz to 503 (so balancers send publishers elsewhere). Its sessions without a publisher are handed over at once, the others at the deadline: each ends on this node without ending its playlists, its publisher reconnects to another node, which continues the session. Then the node exits.',
      scope: 'admin',
      params: NodeParams,
      body: DrainBody,
      success: { status: 202, description: 'The node will drain', schema: NodeBody },
      errors: [400, 404],
      audit: ({ params }) => `node:${params.id}`,
      handle: async ({ params, body }) => {
        const deadlineAt = options.now() + (body.deadlineSeconds ?? options.drainSeconds) * 1000;
        const node = await nodes.requestDrain(params.id, deadlineAt);
        if (!node) throw notFound('No node with this id is up.');
        return { body: nodeView(node) };
      },
    }),
  ];
}
