/**
 * How fast ffmpeg turns out media over the last seconds: media seconds per wall-clock second.
 * ffmpeg's own `speed=` is an average since it started, which hides a transcoder that has only
 * just begun to fall behind, and a long healthy start hides it for minutes.
 */
export class SpeedWindow {
  private readonly samples: Array<{ at: number; media: number }> = [];

  constructor(private readonly windowMs: number) {}

  /** ffmpeg reported `media` seconds of output at `at` (ms). */
  add(at: number, media: number): void {
    this.samples.push({ at, media });
    while (this.samples.length > 2 && at - this.samples[1]!.at >= this.windowMs) this.samples.shift();
  }

  /** Undefined until the samples span most of the window. */
  get speed(): number | undefined {
    const first = this.samples[0];
    const last = this.samples.at(-1);
    if (!first || !last || last.at - first.at < this.windowMs * 0.8) return undefined;
    return (last.media - first.media) / ((last.at - first.at) / 1000);
  }
}
