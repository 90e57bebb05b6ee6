import type { Logger } from '../observability/logger';

/** A piece of the running origin: started in the list's order, stopped in reverse. */
export interface Part {
  name: string;
  start?: () => void | Promise<void>;
  stop?: () => void | Promise<void>;
}

/**
 * Starts each part in turn. If one fails, the parts already started are stopped in reverse order
 * and the failure is rethrown: nothing is left listening or running. Returns the stop of the whole,
 * which stops every part in reverse order, logging (not throwing) a part that fails to stop, and
 * which may be called any number of times.
 */
export async function startParts(parts: readonly Part[], logger: Logger): Promise<() => Promise<void>> {
  const started: Part[] = [];
  const stopStarted = async () => {
    for (const part of started.splice(0).reverse()) {
      try {
        await part.stop?.();
      } catch (error) {
        logger.error({ err: error, part: part.name }, 'a part of the origin failed to stop');
      }
    }
  };
  for (const part of parts) {
    try {
      await part.start?.();
    } catch (error) {
      await stopStarted();
      throw error;
    }
    started.push(part);
  }
  let stopping: Promise<void> | undefined;
  return () => (stopping ??= stopStarted());
}
