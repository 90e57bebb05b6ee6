import type Koa from 'koa';
import type { Logger } from '../observability/logger';
import type { Principal } from '../streams/token-service';

export interface AppState {
  requestId: string;
  log: Logger;
  principal?: Principal;
}

export type AppContext = Koa.ParameterizedContext<AppState>;
export type AppMiddleware = Koa.Middleware<AppState>;
