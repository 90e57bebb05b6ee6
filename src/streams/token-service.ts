import { generateApiToken, generateId, hashSecret, secretsEqual } from './keys';
import type { ApiTokenRecord, TokenRepository, TokenScope } from './token-repository';

export interface Principal {
  /** `env` for the ADMIN_TOKEN from the environment. */
  tokenId: string;
  name: string;
  scope: TokenScope;
}

export class TokenService {
  constructor(
    private readonly repository: TokenRepository,
    private readonly envAdminToken: string | undefined,
    private readonly now: () => number = Date.now,
  ) {}

  /** The secret is returned once, here; only its hash is kept. */
  async create(input: { name: string; scope: TokenScope }): Promise<{ token: string; record: ApiTokenRecord }> {
    const token = generateApiToken();
    const id = generateId();
    const createdAt = this.now();
    await this.repository.insert({ id, name: input.name, scope: input.scope, tokenHash: hashSecret(token), createdAt });
    return { token, record: { id, name: input.name, scope: input.scope, createdAt, lastUsedAt: null, revokedAt: null } };
  }

  list(): Promise<ApiTokenRecord[]> {
    return this.repository.list();
  }

  get(id: string): Promise<ApiTokenRecord | undefined> {
    return this.repository.findById(id);
  }

  revoke(id: string): Promise<boolean> {
    return this.repository.revoke(id, this.now());
  }

  async authenticate(bearer: string): Promise<Principal | undefined> {
    if (this.envAdminToken !== undefined && secretsEqual(bearer, this.envAdminToken)) {
      return { tokenId: 'env', name: 'ADMIN_TOKEN', scope: 'admin' };
    }
    // The lookup is by hash, so response time does not depend on how much of a token matched.
    const record = await this.repository.findActiveByHash(hashSecret(bearer));
    if (!record) return undefined;
    await this.repository.touch(record.id, this.now());
    return { tokenId: record.id, name: record.name, scope: record.scope };
  }

  /**
   * First start without ADMIN_TOKEN and without any token in the database: create one admin token
   * and hand it back so that it can be shown once.
   */
  async bootstrapAdminToken(): Promise<string | undefined> {
    if (this.envAdminToken !== undefined) return undefined;
    if ((await this.repository.countActive()) > 0) return undefined;
    const { token } = await this.create({ name: 'bootstrap admin', scope: 'admin' });
    return token;
  }
}
