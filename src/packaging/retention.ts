import fs from 'node:fs/promises';
import type { Logger } from '../observability/logger';
import { PeriodicTask } from '../periodic-task';
import type { StreamFiles } from './stream-files';

export interface RetentionOptions {
  /** How long an ended session's files (and the stream's master) stay. */
  keepEndedMs: number;
  intervalMs: number;
  /** The session currently live (or reconnecting) for a playback id. */
  activeSession: (playbackId: string) => string | undefined;
  now: () => number;
  logger: Logger;
}

/**
 * Removes what ended sessions left behind once it is old enough: unrecorded session folders, and
 * the master and poster of streams that are no longer live. Recordings stay. It works from what is
 * on disk, so it also cleans up after a crash.
 */
export class RetentionSweeper {
  private readonly task: PeriodicTask;

  constructor(
    private readonly files: StreamFiles,
    private readonly options: RetentionOptions,
  ) {
    this.task = new PeriodicTask(
      options.intervalMs,
      () => this.sweepOnce(),
      (error) => options.logger.error({ err: error }, 'retention sweep failed'),
    );
  }

  start(): void {
    this.task.start();
  }

  stop(): Promise<void> {
    return this.task.stop();
  }

  sweep(): Promise<void> {
    return this.task.run();
  }

  private async sweepOnce(): Promise<void> {
    const cutoff = this.options.now() - this.options.keepEndedMs;
    for (const playbackId of await this.files.playbackIds()) {
      const active = this.options.activeSession(playbackId);
      for (const sessionId of await this.files.sessionIds(playbackId)) {
        if (sessionId === active || (await this.files.isRecorded(playbackId, sessionId))) continue;
        const newest = await this.files.newestChange(this.files.layout.sessionDir(playbackId, sessionId));
        if (newest === undefined || newest < cutoff) {
          await this.files.removeSession(playbackId, sessionId);
          this.options.logger.info({ playbackId, session: sessionId }, 'removed the files of an ended session');
        }
      }
      if (active) continue;
      const masterChanged = await fs.stat(this.files.layout.streamMaster(playbackId)).then(
        (s) => s.mtimeMs,
        () => undefined,
      );
      if (masterChanged !== undefined && masterChanged < cutoff) await this.files.removeStreamEntry(playbackId);
      // An empty stream folder goes too; rmdir refuses a folder that is not empty.
      await fs.rmdir(this.files.layout.sessionsDir(playbackId)).catch(() => undefined);
      await fs.rmdir(this.files.layout.streamDir(playbackId)).catch(() => undefined);
    }
  }
}
