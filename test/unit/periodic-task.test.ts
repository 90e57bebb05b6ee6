import { PeriodicTask } from '../../src/periodic-task';

/** Work that waits to be let go, so a test can wake the task while a run is in progress. */
function gatedWork() {
  const runs: Array<() => void> = [];
  const work = () => new Promise<void>((resolve) => runs.push(resolve));
  return { runs, work };
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('PeriodicTask.wake', () => {
  test('runs the work at once when idle', async () => {
    const { runs, work } = gatedWork();
    const task = new PeriodicTask(60_000, work, () => undefined);
    task.wake();
    expect(runs).toHaveLength(1);
    runs[0]!();
    await task.stop();
  });

  test('during a run, runs the work once more after it, however often it is woken', async () => {
    const { runs, work } = gatedWork();
    const task = new PeriodicTask(60_000, work, () => undefined);
    void task.run();
    task.wake();
    task.wake();
    expect(runs).toHaveLength(1);
    runs[0]!();
    await settle();
    expect(runs).toHaveLength(2);
    runs[1]!();
    await settle();
    expect(runs).toHaveLength(2);
    await task.stop();
  });

  test('after a failed run the follow-up still runs, and the failure is reported', async () => {
    const errors: unknown[] = [];
    let calls = 0;
    const task = new PeriodicTask(
      60_000,
      async () => {
        calls += 1;
        if (calls === 1) {
          task.wake();
          throw new Error('database away');
        }
      },
      (error) => errors.push(error),
    );
    await task.run();
    await settle();
    expect(calls).toBe(2);
    expect(errors).toHaveLength(1);
    await task.stop();
  });

  test('stop() waits for the run in progress, and neither it nor a later wake starts another', async () => {
    const { runs, work } = gatedWork();
    const task = new PeriodicTask(60_000, work, () => undefined);
    void task.run();
    task.wake();
    const stopped = task.stop();
    runs[0]!();
    await stopped;
    task.wake();
    await settle();
    expect(runs).toHaveLength(1);
  });
});
